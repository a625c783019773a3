import Foundation
import HoneExecutors
import HoneLoading
import HoneModel

/// "Verify once" (specs/versions.md, "Verifying inputs"): the sha256 of each input file hone has read, with
/// the file's device, inode, size, mtime and ctime (ns) at that time, in `.hone/stat-cache.json`. A file
/// whose `stat` still says the same is not read again. ctime cannot be set back by any process, so a file
/// rewritten in place with its size and mtime restored is still read again. Git's racy-timestamp guard:
/// an entry is used only when the file's mtime and ctime are older than the moment hashing started by more
/// than the file system's timestamp granularity (`racyWindowNs`); a file changed during that window would
/// otherwise keep a stale digest.
public final class StatCache: @unchecked Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        public var size: Int
        public var mtimeNs: Int64
        public var ctimeNs: Int64
        public var sha256: String
        /// When hashing began (ns since the epoch, the system clock).
        public var hashedAtNs: Int64
    }

    /// File timestamps come from a coarse clock (a jiffy, up to 10 ms) and some file systems round to a
    /// second or more: a margin of 2 s covers both.
    public static let racyWindowNs: Int64 = 2_000_000_000

    public let file: URL?
    private var entries: [String: Entry] = [:]
    private var changed = false
    private let lock = NSLock()

    /// The cache kept in `file` (nil: held in memory only).
    public init(file: URL?, empty: Bool = false) {
        self.file = file
        if !empty, let file, let data = try? Data(contentsOf: file),
           let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) { entries = decoded }
    }

    /// The digest recorded for `path` when the open `file` still has the same identity and times and the
    /// entry is not racy; nil when it must be read.
    func digest(of path: String, file: OutputFile) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entries[path], e.device == file.device, e.inode == file.inode, e.size == file.size,
              e.mtimeNs == file.mtimeNs, e.ctimeNs == file.ctimeNs,
              max(e.mtimeNs, e.ctimeNs) + StatCache.racyWindowNs < e.hashedAtNs else { return nil }
        return e.sha256
    }

    func record(_ path: String, file: OutputFile, sha256: String, hashedAtNs: Int64) {
        lock.lock(); defer { lock.unlock() }
        let e = Entry(device: file.device, inode: file.inode, size: file.size, mtimeNs: file.mtimeNs, ctimeNs: file.ctimeNs,
                      sha256: sha256, hashedAtNs: hashedAtNs)
        if entries[path] != e { entries[path] = e; changed = true }
    }

    func forget(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        if entries.removeValue(forKey: path) != nil { changed = true }
    }

    /// Writes the cache when it changed (atomically: a reader sees the old or the new one; a lost update only
    /// costs a second read of a file).
    public func save() {
        lock.lock(); defer { lock.unlock() }
        guard changed, let file else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(entries) else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).tmp-\(getpid())")
        if (try? data.write(to: tmp)) != nil, rename(tmp.path, file.path) == 0 { changed = false } else { unlink(tmp.path) }
    }

    static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
