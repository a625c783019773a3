import Foundation
import HoneExecutors
import HoneLoading
import HoneModel

/// Where bulk outputs live (trained weights, full logs): never in git. Content-addressed, so a
/// stored artifact is immutable and its `sha256` is its address.
///
/// URIs (specs/versions.md): `store://sha256/<digest>/<file>` (in the store), `file:///abs/path`, or a path
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

    /// Stores a run's model output: the regular files under the job's `out/` (read through `OutputFile`:
    /// links and special files are not stored, they go to `refused`). One file → that file (digest = its
    /// sha256); several → the folder (digest = sha256 of its `sha256sum`-style manifest). Returns (uri, sha256),
    /// or nil when the run wrote no model.
    func storeModel(jobDirectory: URL, refused: inout [OutputFile.Refusal]) throws -> (uri: String, sha256: String)? {
        let fm = FileManager.default
        let listed = OutputFile.regularFiles(in: "out", under: jobDirectory.path)
        refused += listed.refused
        let files = listed.files.filter { !ArtifactStore.nonModelFiles.contains($0) }
        guard !files.isEmpty else { return nil }
        let tmp = root.appendingPathComponent("tmp/\(UUID().uuidString.prefix(12))-\(getpid())")
        defer { try? fm.removeItem(at: tmp) }
        var manifest = ""
        for f in files {
            // The file may be swapped for a link after the listing: opening it again refuses that.
            guard let file = try OutputFile.open("out/" + f, under: jobDirectory.path) else { continue }
            let dest = tmp.appendingPathComponent(f)
            try fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            var sha = ContentHash()
            try file.copy(to: dest.path) { sha.update($0) }
            manifest += "\(sha.finalize())  \(f)\n"
        }
        try fm.createDirectory(at: root.appendingPathComponent("sha256"), withIntermediateDirectories: true)
        if files.count == 1, let digest = manifest.split(separator: " ").first.map(String.init) {
            let name = (files[0] as NSString).lastPathComponent
            let dest = root.appendingPathComponent("sha256/\(digest)/\(name)")
            if !fm.fileExists(atPath: dest.path) {
                try fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
                try ArtifactStore.move(tmp.appendingPathComponent(files[0]), to: dest)
            }
            return ("store://sha256/\(digest)/\(name)", digest)
        }
        let digest = ContentHash.hex(manifest)
        let destDir = root.appendingPathComponent("sha256/\(digest)")
        if !fm.fileExists(atPath: destDir.path) { try ArtifactStore.move(tmp, to: destDir) }
        return ("store://sha256/\(digest)", digest)
    }

    /// Keeps a job's file (a full log, full results) in the store at `relative` (`logs/<id>/<task>.log`),
    /// returning its `store://` URI. A hard link when the store is on the same file system and the name still
    /// names the very file that was opened (the job's files no longer change once it is collected); otherwise
    /// a streaming copy from the open file: memory stays bounded by one chunk.
    func keep(_ file: OutputFile, source: URL, as relative: String) throws -> String {
        let dest = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        unlink(dest.path)
        var st = stat()
        if link(source.path, dest.path) == 0 {
            if lstat(dest.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, UInt64(st.st_ino) == file.inode,
               UInt64(st.st_dev) == file.device { return "store://" + relative }
            unlink(dest.path)  // linked something else (a link swapped in): copy what was opened instead
        }
        let tmp = dest.deletingLastPathComponent().appendingPathComponent(".\(dest.lastPathComponent).tmp-\(getpid())")
        try file.copy(to: tmp.path)
        try ArtifactStore.move(tmp, to: dest)
        return "store://" + relative
    }

    /// The digest an input has now (a file's sha256, or a folder's manifest digest). Only a regular file or
    /// a folder of regular files is read, without following a link at its path or inside it: a FIFO or a
    /// device (`uri: /dev/zero`) would block or never end.
    func digest(ofInput url: URL) throws -> String {
        var st = stat()
        guard lstat(url.path, &st) == 0 else { throw HoneError("\(url.path) does not exist") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let listed = OutputFile.regularFiles(in: "", under: url.path)
            if let first = listed.refused.first { throw first }
            var manifest = ""
            for f in listed.files {
                guard let file = try OutputFile.open(f, under: url.path) else { throw HoneError("\(url.path)/\(f) vanished while hashing") }
                manifest += "\(try ArtifactStore.sha256(of: file))  \(f)\n"
            }
            return ContentHash.hex(manifest)
        }
        guard let file = try OutputFile.open(path: url.path) else { throw HoneError("\(url.path) does not exist") }
        return try ArtifactStore.sha256(of: file)
    }

    static func sha256(of file: OutputFile) throws -> String {
        var sha = ContentHash()
        try file.forEachChunk { sha.update($0) }
        return sha.finalize()
    }

    static func move(_ src: URL, to dest: URL) throws {
        // Another reconciler may have stored the same content meanwhile: its copy is as good as ours.
        if rename(src.path, dest.path) != 0 && !FileManager.default.fileExists(atPath: dest.path) {
            throw HoneError("cannot store \(dest.path): \(String(cString: strerror(errno)))")
        }
    }
}
