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
    /// Digests of input files by their `stat` (`.hone/stat-cache.json`): an unchanged input is not read again.
    public let inputCache: StatCache
    /// `store:` parsed; nil when it is invalid (validate reports it).
    public let location: StoreLocation?
    /// The remote side of a remote store (RemoteArtifacts.swift), once `connected`; `root` is then its local cache.
    public internal(set) var remote: RcloneTransport?

    public init(project: Project?, repositoryRoot: URL) {
        self.repositoryRoot = repositoryRoot
        inputCache = StatCache(file: repositoryRoot.appendingPathComponent(".hone/stat-cache.json"))
        let store = project?.store ?? ".hone/store"
        location = try? StoreLocation.parse(store).get()
        remote = nil
        if case .remote? = location { root = repositoryRoot.appendingPathComponent(".hone/store") }
        else if store.hasPrefix("file://") { root = URL(fileURLWithPath: String(store.dropFirst(7))) }
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

    /// Why a succeeded run's model cannot be published from here, or nil when its artifact is present: its
    /// status names no stored model, or the URI it names is not in this store (trained where another store is).
    public func missingModel(of s: ObjectStatus) -> String? {
        guard let model = s.run?.model, let uri = model.uri, model.sha256 != nil else { return "attempt \(s.attempt) recorded no stored model" }
        guard let url = resolve(uri) else { return "its model \(uri) is not a location hone can read" }
        var st = stat()
        if lstat(url.path, &st) == 0 { return nil }
        if let remote, let rel = ArtifactStore.storeRelative(uri) {
            // A remote store: the object must be there (this runner's cache may be empty).
            do { return try remote.list(rel).isEmpty ? "its model \(uri) (sha256 \(model.sha256 ?? "?")) is not in the store \(remote.store)" : nil }
            catch { return "its model \(uri) could not be looked up: \(error)" }
        }
        return "its model \(uri) (sha256 \(model.sha256 ?? "?")) is not in the store \(root.path): it was trained where `store:` is another folder"
    }

    /// Files a run wrote besides its metrics: the model.
    public static let nonModelFiles: Set<String> = ["metrics.jsonl", "summary.json", "results.jsonl"]

    /// The blobs every stored file is made of (`<store>/blobs/sha256/…`).
    public var blobs: LocalBlobStore { LocalBlobStore(root: root) }

    /// Stores a run's model output: the regular files under the job's `out/` (read through `OutputFile`:
    /// links and special files are not stored, they go to `refused`), hashed on every core. Each file becomes
    /// a blob (hard-linked, not copied, when the store is on the job's file system; identical files are stored
    /// once across versions). One file → `store://sha256/<its sha256>/<name>`; several → the folder
    /// `store://sha256/<folder digest>`, a tree of links to the blobs, whose manifest is a blob too. nil
    /// when the run wrote no model.
    func storeModel(jobDirectory: URL, refused: inout [OutputFile.Refusal]) throws -> StoredModel? {
        let listed = OutputFile.regularFiles(in: "out", under: jobDirectory.path)
        refused += listed.refused
        let names = listed.files.filter { !ArtifactStore.nonModelFiles.contains($0) }
        guard !names.isEmpty else { return nil }
        let out = jobDirectory.appendingPathComponent("out")
        let files = try ArtifactStore.hashFiles(names, under: out.path, cache: nil)
        for f in files { try blobs.put(out.appendingPathComponent(f.path), digest: f.sha256) }
        let fm = FileManager.default
        if files.count == 1 {
            let name = (files[0].path as NSString).lastPathComponent
            let dest = root.appendingPathComponent("sha256/\(files[0].sha256)/\(name)")
            if !fm.fileExists(atPath: dest.path) { try blobs.get(files[0].sha256, to: dest) }
            return StoredModel(uri: "store://sha256/\(files[0].sha256)/\(name)", sha256: files[0].sha256,
                               files: [StoredFile(path: name, sha256: files[0].sha256, size: files[0].size)])
        }
        let manifest = ArtifactStore.manifest(files)
        let digest = ContentHash.hex(manifest)
        try blobs.put(bytes: Data(manifest.utf8), digest: digest)
        try materialize(folder: digest, files: files)
        return StoredModel(uri: "store://sha256/\(digest)", sha256: digest, files: files)
    }

    /// `<store>/sha256/<digest>/`: the folder's files as hard links to their blobs, built aside and renamed
    /// into place (a reader never sees half a folder).
    func materialize(folder digest: String, files: [StoredFile]) throws {
        let fm = FileManager.default
        let destDir = root.appendingPathComponent("sha256/\(digest)")
        if fm.fileExists(atPath: destDir.path) { return }
        let tmp = root.appendingPathComponent("tmp/\(UUID().uuidString.prefix(12))-\(getpid())")
        defer { try? fm.removeItem(at: tmp) }
        for f in files { try blobs.get(f.sha256, to: tmp.appendingPathComponent(f.path)) }
        try fm.createDirectory(at: destDir.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ArtifactStore.move(tmp, to: destDir)
    }

    /// The files of a stored model (path, sha256, size): from the folder's manifest blob, else by reading
    /// the artifact (a store filled before blobs existed, or a user's own `store://` path).
    public func files(ofModel uri: String, sha256: String) throws -> [StoredFile] {
        guard let url = resolve(uri) else { throw HoneError("hone cannot read uri \(uri)") }
        var st = stat()
        guard lstat(url.path, &st) == 0 else { throw HoneError("\(uri) does not exist (\(url.path))") }
        if (st.st_mode & S_IFMT) != S_IFDIR {
            return [StoredFile(path: url.lastPathComponent, sha256: sha256, size: Int(st.st_size))]
        }
        if blobs.has(sha256), let text = try? String(contentsOf: blobs.path(of: sha256), encoding: .utf8) {
            let parsed = ArtifactStore.parseManifest(text)
            if parsed.allSatisfy({ blobs.has($0.sha256) }) {
                return parsed.map { f in
                    var bst = stat()
                    _ = lstat(blobs.path(of: f.sha256).path, &bst)
                    return StoredFile(path: f.path, sha256: f.sha256, size: Int(bst.st_size))
                }
            }
        }
        let listed = OutputFile.regularFiles(in: "", under: url.path)
        if let first = listed.refused.first { throw first }
        return try ArtifactStore.hashFiles(listed.files, under: url.path, cache: nil)
    }

    /// The folder manifest (specs/versions.md): `<sha256>  <path>\n` per file, sorted by path.
    static func manifest(_ files: [StoredFile]) -> String {
        files.sorted { $0.path < $1.path }.map { "\($0.sha256)  \($0.path)\n" }.joined()
    }

    static func parseManifest(_ text: String) -> [(path: String, sha256: String)] {
        text.split(separator: "\n").compactMap { line in
            guard line.count > 66, line.dropFirst(64).hasPrefix("  ") else { return nil }
            return (String(line.dropFirst(66)), String(line.prefix(64)))
        }
    }

    /// The sha256 of each file (paths relative to `root`, in that order), hashed on every core; with a cache,
    /// only the files whose `stat` changed are read (and the cache learns their new digests).
    static func hashFiles(_ paths: [String], under root: String, cache: StatCache?) throws -> [StoredFile] {
        var stored: [StoredFile] = []
        // At most 256 descriptors open at once (a dataset folder may hold many thousands of files).
        for batch in stride(from: 0, to: paths.count, by: 256).map({ Array(paths[$0..<min(paths.count, $0 + 256)]) }) {
            var opened: [OutputFile] = []
            for p in batch {
                guard let file = try OutputFile.open(p, under: root) else { throw HoneError("\(root)/\(p) vanished while hashing") }
                opened.append(file)
            }
            let digests = try hashOpened(opened, keys: batch.map { root + "/" + $0 }, cache: cache)
            stored += batch.indices.map { StoredFile(path: batch[$0], sha256: digests[$0], size: opened[$0].size) }
        }
        return stored
    }

    /// The sha256 of open files, on every core; `keys` name them in the cache (absolute paths).
    static func hashOpened(_ opened: [OutputFile], keys: [String], cache: StatCache?) throws -> [String] {
        let start = StatCache.nowNs()
        var results = opened.indices.map { cache?.digest(of: keys[$0], file: opened[$0]) }
        let misses = results.indices.filter { results[$0] == nil }
        let hashed = ParallelHashes(count: misses.count)
        let files = UncheckedFiles(files: misses.map { opened[$0] })
        DispatchQueue.concurrentPerform(iterations: misses.count) { i in hashed.set(i, Result { try files.files[i].sha256() }) }
        for (k, i) in misses.enumerated() {
            let digest = try hashed.get(k)
            results[i] = digest
            cache?.record(keys[i], file: opened[i], sha256: digest, hashedAtNs: start)
        }
        return results.map { $0! }
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
    /// device (`uri: /dev/zero`) would block or never end. With a stat cache, an unchanged file is not read.
    func digest(ofInput url: URL, cache: StatCache? = nil) throws -> String {
        var st = stat()
        guard lstat(url.path, &st) == 0 else { throw HoneError("\(url.path) does not exist") }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let listed = OutputFile.regularFiles(in: "", under: url.path)
            if let first = listed.refused.first { throw first }
            return ContentHash.hex(ArtifactStore.manifest(try ArtifactStore.hashFiles(listed.files, under: url.path, cache: cache)))
        }
        guard let file = try OutputFile.open(path: url.path) else { throw HoneError("\(url.path) does not exist") }
        return try ArtifactStore.hashOpened([file], keys: [url.path], cache: cache)[0]
    }

    static func move(_ src: URL, to dest: URL) throws {
        // Another reconciler may have stored the same content meanwhile: its copy is as good as ours.
        if rename(src.path, dest.path) != 0 && !FileManager.default.fileExists(atPath: dest.path) {
            throw HoneError("cannot store \(dest.path): \(String(cString: strerror(errno)))")
        }
    }
}

/// One file of a stored model: its path in the model (relative, `/`-separated), sha256 and size in bytes.
public struct StoredFile: Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var size: Int
}

/// What storing a run's model gave: its URI and digest, and the files it is made of.
public struct StoredModel: Sendable, Equatable {
    public var uri: String
    public var sha256: String
    public var files: [StoredFile]
    public var size: Int { files.reduce(0) { $0 + $1.size } }
}

/// Digests filled in by concurrent hashing tasks, each writing only its own slot.
private final class ParallelHashes: @unchecked Sendable {
    private var slots: [Result<String, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<String, Error>) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) throws -> String { try slots[i]!.get() }
}

/// Open files handed to the hashing tasks: each task reads only its own file (pread on its descriptor).
private struct UncheckedFiles: @unchecked Sendable { let files: [OutputFile] }
