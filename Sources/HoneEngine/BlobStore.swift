import Foundation
import HoneExecutors
import HoneLoading
import HoneModel

/// Where the bytes of stored files live, addressed by their sha256 (specs/versions.md, "The artifact store").
/// Everything a model version holds is made of blobs: each file of a model, and for a folder the folder's
/// manifest text (whose sha256 is the folder digest), so `get` of a folder digest gives the list of the
/// blobs that make the folder. A remote backend (an object store) implements the same three calls.
public protocol BlobStore: Sendable {
    /// Whether the blob `digest` is stored.
    func has(_ digest: String) -> Bool
    /// Takes the file at `source`, whose bytes hash to `digest`, into the store: a hard link on the same
    /// file system (no copy of a big output), a copy elsewhere. `source` is left where it is. A blob that is
    /// already there is kept as it is (same digest, same bytes).
    func put(_ source: URL, digest: String) throws
    /// Makes the blob `digest` readable at `destination` (a hard link for the local store). Throws when the
    /// store does not have it.
    func get(_ digest: String, to destination: URL) throws
}

/// The blobs of a store folder: `<root>/blobs/sha256/<first two hex digits>/<digest>`, each read-only.
public struct LocalBlobStore: BlobStore {
    public let root: URL

    public init(root: URL) { self.root = root }

    public func path(of digest: String) -> URL {
        root.appendingPathComponent("blobs/sha256/\(digest.prefix(2))/\(digest)")
    }

    public func has(_ digest: String) -> Bool {
        var st = stat()
        return lstat(path(of: digest).path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    public func put(_ source: URL, digest: String) throws {
        if has(digest) { return }
        let dest = path(of: digest)
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = dest.deletingLastPathComponent().appendingPathComponent(".\(digest.prefix(16)).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        defer { unlink(tmp.path) }
        if link(source.path, tmp.path) != 0 {
            guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
                throw HoneError("cannot store \(source.path): \(String(cString: strerror(errno)))")
            }
            try LocalBlobStore.copy(source, to: tmp)
        }
        chmod(tmp.path, 0o444)
        try ArtifactStore.move(tmp, to: dest)
    }

    /// Stores bytes held in memory (a folder's manifest).
    public func put(bytes: Data, digest: String) throws {
        if has(digest) { return }
        let dest = path(of: digest)
        try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = dest.deletingLastPathComponent().appendingPathComponent(".\(digest.prefix(16)).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
        defer { unlink(tmp.path) }
        try bytes.write(to: tmp)
        chmod(tmp.path, 0o444)
        try ArtifactStore.move(tmp, to: dest)
    }

    public func get(_ digest: String, to destination: URL) throws {
        guard has(digest) else { throw HoneError("the store has no blob \(digest) (\(path(of: digest).path))") }
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if link(path(of: digest).path, destination.path) != 0 && errno != EEXIST {
            throw HoneError("cannot link \(destination.path) to its blob: \(String(cString: strerror(errno)))")
        }
    }

    static func copy(_ source: URL, to dest: URL) throws {
        guard let file = try OutputFile.open(path: source.path) else { throw HoneError("\(source.path) vanished while storing it") }
        try file.copy(to: dest.path)
    }
}
