import Foundation
import HoneModel

/// Where bulk outputs live (trained weights, full logs): never in git. Content-addressed, so a
/// stored artifact is immutable and its `sha256` is its address.
///
/// URIs (design §1): `store://sha256/<digest>/<file>` (in the store), `file:///abs/path`, or a path
/// relative to the repository root.
public struct ArtifactStore {
    public let root: URL
    public let repositoryRoot: URL

    public init(project: Project?, repositoryRoot: URL) {
        self.repositoryRoot = repositoryRoot
        let store = project?.store ?? ".hone/store"
        if store.hasPrefix("file://") { root = URL(fileURLWithPath: String(store.dropFirst(7))) }
        else if store.hasPrefix("/") { root = URL(fileURLWithPath: store) }
        else { root = repositoryRoot.appendingPathComponent(store) }
    }

    /// The local path a URI names, or nil for a URI hone cannot read.
    public func resolve(_ uri: String, snapshot: URL? = nil) -> URL? {
        if uri.hasPrefix("store://") { return root.appendingPathComponent(String(uri.dropFirst(8))) }
        if uri.hasPrefix("file://") { return URL(fileURLWithPath: String(uri.dropFirst(7))) }
        if uri.contains("://") { return nil }
        if uri.hasPrefix("/") { return URL(fileURLWithPath: uri) }
        return (snapshot ?? repositoryRoot).appendingPathComponent(uri)
    }

    /// Files a run wrote besides its metrics: the model.
    public static let nonModelFiles: Set<String> = ["metrics.jsonl", "summary.json", "results.jsonl"]

    /// Stores a run's model output. One file → that file (digest = its sha256); several → the folder
    /// (digest = sha256 of its `sha256sum`-style manifest). Returns (uri, sha256), or nil when the run wrote no model.
    public func storeModel(from outputDir: URL) throws -> (uri: String, sha256: String)? {
        let fm = FileManager.default
        let files = try ArtifactStore.listFiles(outputDir).filter { !ArtifactStore.nonModelFiles.contains($0) }
        guard !files.isEmpty else { return nil }
        if files.count == 1 {
            let src = outputDir.appendingPathComponent(files[0])
            let digest = try SHA256.hex(fileAt: src)
            let name = (files[0] as NSString).lastPathComponent
            let dest = root.appendingPathComponent("sha256/\(digest)/\(name)")
            if !fm.fileExists(atPath: dest.path) { try ArtifactStore.copyAtomically(src, to: dest) }
            return ("store://sha256/\(digest)/\(name)", digest)
        }
        let digest = try ArtifactStore.directoryDigest(outputDir, files: files)
        let destDir = root.appendingPathComponent("sha256/\(digest)")
        if !fm.fileExists(atPath: destDir.path) {
            let tmp = root.appendingPathComponent("tmp/\(digest)-\(getpid())")
            try? fm.removeItem(at: tmp)
            for f in files { try ArtifactStore.copy(outputDir.appendingPathComponent(f), to: tmp.appendingPathComponent(f)) }
            try fm.createDirectory(at: destDir.deletingLastPathComponent(), withIntermediateDirectories: true)
            if rename(tmp.path, destDir.path) != 0 && !fm.fileExists(atPath: destDir.path) {
                throw HoneError("cannot store \(outputDir.path) in \(destDir.path)")
            }
        }
        return ("store://sha256/\(digest)", digest)
    }

    /// Keeps a full log beside the artifacts: `store://logs/<id>/<task>.log`.
    public func storeLog(_ file: URL, id: String, task: String) throws -> String {
        let dest = root.appendingPathComponent("logs/\(id)/\(task).log")
        // A hard link when the store is on the same file system: the job's log no longer changes once
        // it is collected, and a link costs neither a copy nor a new file.
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        unlink(dest.path)
        if link(file.path, dest.path) != 0 { try ArtifactStore.copyAtomically(file, to: dest) }
        return "store://logs/\(id)/\(task).log"
    }

    /// The digest a URI's content has now (a file's sha256, or a folder's manifest digest).
    public func digest(of url: URL) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else { throw HoneError("\(url.path) does not exist") }
        if isDir.boolValue { return try ArtifactStore.directoryDigest(url, files: ArtifactStore.listFiles(url)) }
        return try SHA256.hex(fileAt: url)
    }

    static func listFiles(_ dir: URL) throws -> [String] {
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var out: [String] = []
        let base = dir.standardizedFileURL.path
        for case let url as URL in e {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                out.append(String(url.standardizedFileURL.path.dropFirst(base.count + 1)))
            }
        }
        return out.sorted()
    }

    static func directoryDigest(_ dir: URL, files: [String]) throws -> String {
        var manifest = ""
        for f in files.sorted() { manifest += "\(try SHA256.hex(fileAt: dir.appendingPathComponent(f)))  \(f)\n" }
        return SHA256.hex(manifest)
    }

    static func copy(_ src: URL, to dest: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? fm.removeItem(at: dest)
        try fm.copyItem(at: src, to: dest)
    }

    static func copyAtomically(_ src: URL, to dest: URL) throws {
        let tmp = dest.deletingLastPathComponent().appendingPathComponent(".\(dest.lastPathComponent).tmp-\(getpid())")
        try copy(src, to: tmp)
        if rename(tmp.path, dest.path) != 0 { throw HoneError("cannot write \(dest.path): \(String(cString: strerror(errno)))") }
    }
}
