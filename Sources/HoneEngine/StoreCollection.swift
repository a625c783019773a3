import Foundation
import HoneLoading

/// One unit `hone gc` may remove from a store: what a `store://` URI lives in (a model's
/// `sha256/<digest>` folder, a job's `logs/<id>` folder…), with its size and last change.
public struct StoredObject: Sendable, Equatable {
    /// Relative to the store's root: `sha256/<digest>`, `logs/<id>`, `tmp/<name>`.
    public var name: String
    public var bytes: Int64
    public var modified: Date
    /// A half-made object (`tmp/`): no URI names it; it is removed once older than the grace.
    public var temporary: Bool
    public init(name: String, bytes: Int64, modified: Date, temporary: Bool = false) {
        self.name = name; self.bytes = bytes; self.modified = modified; self.temporary = temporary
    }
}

/// A store `hone gc` can collect: it lists its objects, says which object a URI keeps, and removes one.
/// The collector decides nothing about the layout: a store with another layout (or a remote one) says it here.
public protocol CollectableStore {
    /// Where the store is, for messages.
    var collectedPath: String { get }
    /// Every object the store holds, each once.
    func storedObjects() throws -> [StoredObject]
    /// The names of the objects a `store://` URI needs (none when the URI is not one of this store's).
    func objectNames(keptBy uri: String) -> [String]
    /// Removes an object whole: a reader never finds it half removed under its name.
    func remove(_ object: StoredObject) throws
}

extension ArtifactStore: CollectableStore {
    /// The local folder gc collects (a remote store's objects are not collected: specs/cli-gc.md).
    public var collectedPath: String { root.path }

    /// The store's layout (specs/versions.md): each blob `blobs/sha256/<ab>/<digest>` on its own; the link
    /// trees `sha256/<digest>`, `logs/<id>`, `outputs/<id>`, any other `<folder>/<name>` a user's URI names,
    /// top-level files; and `tmp/<name>` (being stored, or left by a killed collector).
    public func storedObjects() throws -> [StoredObject] {
        let fm = FileManager.default
        guard let top = try? fm.contentsOfDirectory(atPath: root.path) else { return [] }
        var out: [StoredObject] = []
        for area in top.sorted() {
            let path = root.appendingPathComponent(area).path
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                out.append(StoredObject(name: area, bytes: Int64(st.st_size), modified: DiskUsage.modified(st)))
                continue
            }
            if area == "blobs" { out += blobObjects(); continue }
            for name in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted() {
                let usage = DiskUsage.of(path + "/" + name)
                out.append(StoredObject(name: area + "/" + name, bytes: usage.bytes, modified: usage.modified, temporary: area == "tmp"))
            }
        }
        return out
    }

    /// `blobs/sha256/<ab>/<digest>`; a half-written `.…tmp-…` beside them is a leftover.
    private func blobObjects() -> [StoredObject] {
        let fm = FileManager.default
        let base = root.appendingPathComponent("blobs/sha256").path
        var out: [StoredObject] = []
        for prefix in ((try? fm.contentsOfDirectory(atPath: base)) ?? []).sorted() {
            for name in ((try? fm.contentsOfDirectory(atPath: base + "/" + prefix)) ?? []).sorted() {
                var st = stat()
                guard lstat(base + "/" + prefix + "/" + name, &st) == 0 else { continue }
                out.append(StoredObject(name: "blobs/sha256/\(prefix)/\(name)", bytes: Int64(st.st_size), modified: DiskUsage.modified(st),
                                        temporary: name.hasPrefix(".")))
            }
        }
        return out
    }

    /// A model's URI keeps its link tree and its blobs: the file's blob (`store://sha256/<digest>/<file>`), or
    /// the folder's manifest blob and every blob the manifest names (`store://sha256/<digest>`).
    public func objectNames(keptBy uri: String) -> [String] {
        guard uri.hasPrefix("store://") else { return [] }
        let parts = uri.dropFirst(8).split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = parts.first else { return [] }
        guard parts.count > 1 else { return [first] }
        var names = ["\(first)/\(parts[1])"]
        if first == "sha256" {
            let digest = parts[1]
            names.append(blobName(digest))
            if parts.count == 2, let text = try? String(contentsOf: blobs.path(of: digest), encoding: .utf8) {
                names += ArtifactStore.parseManifest(text).map { blobName($0.sha256) }
            }
        }
        return names
    }

    private func blobName(_ digest: String) -> String { "blobs/sha256/\(digest.prefix(2))/\(digest)" }

    public func remove(_ object: StoredObject) throws {
        let path = root.appendingPathComponent(object.name)
        // Out of its name first (one rename), then deleted: a killed gc leaves garbage in tmp/, never a
        // half object that a later store would take for the whole one (an existing digest is reused as is).
        let trash = root.appendingPathComponent("tmp/gc-\(getpid())-\(UUID().uuidString.prefix(8))")
        if !object.temporary {
            try FileManager.default.createDirectory(at: trash.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard rename(path.path, trash.path) == 0 else {
                if errno == ENOENT { return }
                throw HoneError("cannot remove \(path.path): \(String(cString: strerror(errno)))")
            }
        }
        try DiskUsage.remove(object.temporary ? path : trash)
    }
}

/// Sizes and removal of folders hone made, never following a link.
enum DiskUsage {
    static func modified(_ st: stat) -> Date {
        Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec) + TimeInterval(st.st_mtim.tv_nsec) / 1e9)
    }

    /// Bytes of every file under `path` (or of `path` itself) and the latest change of any of them.
    static func of(_ path: String) -> (bytes: Int64, modified: Date) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return (0, .distantPast) }
        var bytes = Int64(st.st_size), latest = modified(st)
        guard (st.st_mode & S_IFMT) == S_IFDIR, let dir = opendir(path) else { return (bytes, latest) }
        defer { closedir(dir) }
        bytes = 0
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let sub = of(path + "/" + name)
            bytes += sub.bytes
            latest = max(latest, sub.modified)
        }
        return (bytes, latest)
    }

    /// Removes `path` and everything under it; folders a job made read-only are made writable first.
    static func remove(_ path: URL) throws {
        let fm = FileManager.default
        guard (try? fm.removeItem(at: path)) == nil else { return }
        var st = stat()
        guard lstat(path.path, &st) == 0 else { return }
        makeWritable(path.path)
        do { try fm.removeItem(at: path) } catch { throw HoneError("cannot remove \(path.path): \(error.localizedDescription)") }
    }

    private static func makeWritable(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return }
        chmod(path, (st.st_mode & 0o7777) | 0o700)
        guard let dir = opendir(path) else { return }
        defer { closedir(dir) }
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { makeWritable(path + "/" + name) }
        }
    }
}
