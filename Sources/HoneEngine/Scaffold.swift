import Foundation
import Git
import HoneModel
import HoneLoading

/// `hone init` and `hone group create|edit`: files users would otherwise write by hand.
public enum Scaffold {
    public static func initialize(at dir: URL, name: String?, group: String) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let root = dir.standardizedFileURL
        var projectName = name ?? root.lastPathComponent.lowercased().replacingOccurrences(of: " ", with: "-")
        if !Names.isValid(projectName) { projectName = "hone-project" }
        guard Names.isValid(group) else { throw HoneError("group name \"\(group)\" is not a valid name (names match \(Names.pattern))") }
        var created: [String] = []
        if !fm.fileExists(atPath: root.appendingPathComponent(".git").path) && (try? Repository.open(root.path)) == nil {
            _ = try Repository.create(at: root.path)
            created.append(".git (a new git repository on branch main)")
        }
        let files: [(String, String)] = [
            ("hone.yaml", """
            # The hone project: resource pools, the artifact store and defaults. See specs/ for every field.
            kind: Project
            name: \(projectName)
            store: .hone/store          # trained weights and full logs live here, never in git
            pools:
              local:                    # jobs run as processes on the machine that runs `hone reconcile`
                executor: local
                maxParallel: 2
                costPerHour: 0

            """),
            (".gitignore", ".hone/\n"),
            ("groups/\(group)/group.yaml", """
            kind: Group
            description: Fine-tunes of \(projectName)

            """),
        ]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            if fm.fileExists(atPath: url.path) {
                if path == ".gitignore", let existing = try? String(contentsOf: url, encoding: .utf8), !existing.contains(".hone/") {
                    try Workspace.atomicWrite(url, Data((existing + (existing.hasSuffix("\n") || existing.isEmpty ? "" : "\n") + ".hone/\n").utf8))
                    created.append(".gitignore (added .hone/)")
                }
                continue
            }
            try Workspace.atomicWrite(url, Data(text.utf8))
            created.append(path)
        }
        return created
    }

    /// Creates or edits `groups/NAME/group.yaml`, keeping the file's comments and other lines.
    public static func writeGroup(_ ws: Workspace, name: String, description: String, create: Bool) throws -> String {
        guard Names.isValid(name) else { throw HoneError("group name \"\(name)\" is not a valid name (names match \(Names.pattern))") }
        let path = "groups/\(name)/group.yaml"
        let url = ws.url(path)
        let exists = FileManager.default.fileExists(atPath: url.path)
        if create && exists { throw HoneError("group \"\(name)\" already exists (\(path)): use `hone group edit \(name) --description …`") }
        if !create && !exists { throw HoneError("group \"\(name)\" does not exist: use `hone group create \(name) --description …`") }
        if create {
            try ws.write(path, "kind: Group\ndescription: \(SpecEditor.scalarText(description))\n")
        } else {
            var editor = try SpecEditor(text: SpecEdits.read(path, in: ws), path: path)
            try editor.set("description", SpecEditor.scalarText(description))
            try ws.write(path, editor.text)
        }
        return path
    }
}
