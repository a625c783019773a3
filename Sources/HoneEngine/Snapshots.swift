import Foundation
import Git
import HoneLoading
import HoneModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// A job's `src/` is its own: what one job changes in it (its handler, a dataset of the repository, a file
// opened for writing as root) no other job sees.
//
//   .hone/snapshots/<key>/          the tree, extracted once per content (read-only modes); never given to a job
//   .hone/snapshots/<key>.made      when it was complete (a change barrier, see SourceCopy): a file of it whose
//                                   ctime is not before that was changed since, and the folder is made again
//   .hone/snapshots/<key>.spare/<job>@<sec>.<nsec>
//                                   a finished job's `src/`, taken over by the next job of the snapshot only if
//                                   no file or folder of it changed after the time in its name

/// What `JobPreparation.snapshot` learns about a commit, kept by the reconciler for its later jobs
/// (most jobs of a pass share the commit their attempt was created on).
final class SnapshotIndex {
    struct Snapshot {
        var key: String
        var entries: [TreeEntry]
        /// Size of each entry's file in `.hone/snapshots/<key>/` (filled once the folder is checked or made).
        var sizes: [off_t] = []
        /// How many direct children (files and sub-folders) each folder has, "" being the root.
        var folderSizes: [String: Int] = [:]
    }
    var byCommit: [ObjectID: Snapshot] = [:]
}

/// The snapshot a job's `src/` was copied from, and a time after the copy was complete and before the job
/// started: a file of that `src/` changed later has a ctime not before it (see `recycleSource`).
struct SourceSnapshot {
    var key: String
    /// Until `barrier()` for a fresh copy: the coarse clock right after it (the wait for the next tick
    /// overlaps the rest of the job's preparation). A spare taken over keeps its time: none of its files
    /// changed since, and nothing can change before now.
    var copiedBefore: timespec
    var settled: Bool

    /// Call last before the job is started.
    mutating func barrier() {
        if !settled { copiedBefore = SourceCopy.changeBarrier(after: copiedBefore) }
        settled = true
    }
}

extension JobPreparation {
    /// `src/`: the commit's tree (without status/), the job's private copy of `.hone/snapshots/<key>/`
    /// (see SourceCopy). A `src/` an earlier job of this snapshot left untouched is taken over instead
    /// (see `recycleSource`): creating folders and files is what costs most here.
    @discardableResult
    func snapshot(_ commit: ObjectID, into src: URL) throws -> SourceSnapshot {
        var known = try index.byCommit[commit] ?? {
            let entries = try repository.tree(of: commit).filter { !$0.path.hasPrefix("status/") }
            return SnapshotIndex.Snapshot(key: JobPreparation.snapshotKey(entries), entries: entries)
        }()
        defer { index.byCommit[commit] = known }
        let cache = JobPreparation.snapshotFolder(repositoryRoot: store.repositoryRoot, key: known.key)
        if known.sizes.isEmpty {
            // Checked once per reconciler; made again when absent, incomplete or changed.
            if let sizes = JobPreparation.intactSizes(of: known, in: cache) { known.sizes = sizes }
            else { known.sizes = try extract(known, into: cache) }
            known.folderSizes = JobPreparation.folderSizes(known.entries)
        }
        if let copied = takeSpare(of: known, into: src) { return SourceSnapshot(key: known.key, copiedBefore: copied, settled: true) }
        try copyFiles(known, from: cache, into: src)
        return SourceSnapshot(key: known.key, copiedBefore: SourceCopy.coarseNow(), settled: false)
    }

    /// Writes the snapshot's files into a new folder and moves it into place (over a changed one); returns
    /// their sizes.
    func extract(_ snapshot: SnapshotIndex.Snapshot, into cache: URL) throws -> [off_t] {
        let fm = FileManager.default
        let tmp = URL(fileURLWithPath: cache.path + ".tmp-\(getpid())")
        try? fm.removeItem(at: tmp)
        var folders: Set<String> = []
        var sizes: [off_t] = []
        for entry in snapshot.entries {
            let url = tmp.appendingPathComponent(entry.path)
            let folder = url.deletingLastPathComponent().path
            if folders.insert(folder).inserted { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let data = try repository.readBlob(entry.blob)
            try data.write(to: url)
            chmod(url.path, entry.executable ? 0o555 : 0o444)
            sizes.append(off_t(data.count))
        }
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        let made = URL(fileURLWithPath: cache.path + ".made")
        unlink(made.path)
        if fm.fileExists(atPath: cache.path) {
            let stale = URL(fileURLWithPath: cache.path + ".stale-\(getpid())")
            try? fm.removeItem(at: stale)
            _ = rename(cache.path, stale.path)
            try? fm.removeItem(at: stale)
        }
        guard rename(tmp.path, cache.path) == 0 else {
            try? fm.removeItem(at: tmp)
            throw PreparationFailure(reason: "SnapshotFailed", message: "cannot move the snapshot into \(cache.path)")
        }
        try Workspace.plainWrite(made, Data((SourceCopy.format(SourceCopy.changeBarrier()) + "\n").utf8))
        return sizes
    }

    /// The sizes of the snapshot's files, if every one is there unchanged since the folder was made (a regular
    /// file with one link, changed before the time in `<key>.made`); nil otherwise.
    static func intactSizes(of snapshot: SnapshotIndex.Snapshot, in cache: URL) -> [off_t]? {
        guard let text = try? String(contentsOfFile: cache.path + ".made", encoding: .utf8),
              let made = SourceCopy.parse(Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))) else { return nil }
        var sizes: [off_t] = []
        sizes.reserveCapacity(snapshot.entries.count)
        for entry in snapshot.entries {
            var st = stat()
            guard lstat(cache.path + "/" + entry.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1,
                  SourceCopy.isBefore(st.st_ctim, made) else { return nil }
            sizes.append(st.st_size)
        }
        return sizes
    }

    static func folderSizes(_ entries: [TreeEntry]) -> [String: Int] {
        var children: [String: Set<String>] = [:]
        for entry in entries {
            var folder = ""
            for part in entry.path.split(separator: "/").map(String.init) {
                children[folder, default: []].insert(part)
                folder = folder.isEmpty ? part : folder + "/" + part
            }
        }
        return children.mapValues(\.count)
    }

    /// The job's own copy of every file (writable by the job; executable as committed).
    func copyFiles(_ snapshot: SnapshotIndex.Snapshot, from cache: URL, into src: URL) throws {
        let fm = FileManager.default
        var folders: Set<String> = []
        for entry in snapshot.entries {
            let url = src.appendingPathComponent(entry.path)
            let folder = url.deletingLastPathComponent().path
            if folders.insert(folder).inserted { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            try SourceCopy.copy(from: cache.path + "/" + entry.path, to: url.path, mode: entry.executable ? 0o755 : 0o644)
        }
        try fm.createDirectory(at: src, withIntermediateDirectories: true)
    }

    /// Keyed by the content without status/ (hone's own commits change only status/, so they share one);
    /// "copies" sets these snapshots apart from the hard-linked ones of earlier versions.
    static func snapshotKey(_ entries: [TreeEntry]) -> String {
        ContentHash.hex("copies\n" + entries.map { "\($0.blob.hex) \($0.executable ? "x" : "-") \($0.path)\n" }.joined())
    }

    /// The key of the snapshot jobs of `commit` are copied from.
    static func snapshotKey(of commit: ObjectID, in repository: Repository) throws -> String {
        snapshotKey(try repository.tree(of: commit).filter { !$0.path.hasPrefix("status/") })
    }

    static func snapshotFolder(repositoryRoot: URL, key: String) -> URL {
        repositoryRoot.appendingPathComponent(".hone/snapshots/\(key)")
    }

    /// Where finished jobs' untouched `src/` folders wait to be taken over by the next job of the same snapshot.
    static func spareFolder(repositoryRoot: URL, key: String) -> URL {
        repositoryRoot.appendingPathComponent(".hone/snapshots/\(key).spare")
    }

    /// Spares kept per snapshot: as many as jobs may end between two launches (more are removed).
    static let maxSpares = 16

    /// Once a job has ended and been collected (nothing of it runs any more): its `src/` goes to the spares of
    /// its snapshot (a rename, named with the time its copy was complete), or is removed when there are enough
    /// spares already. Whether it is still untouched is checked when it is taken.
    static func recycleSource(_ src: URL, from source: SourceSnapshot?, repositoryRoot: URL) {
        let fm = FileManager.default
        if let source {
            let spares = spareFolder(repositoryRoot: repositoryRoot, key: source.key)
            let count = (try? fm.contentsOfDirectory(atPath: spares.path).count) ?? 0
            if count < maxSpares {
                try? fm.createDirectory(at: spares, withIntermediateDirectories: true)
                let name = src.deletingLastPathComponent().lastPathComponent + "@" + SourceCopy.format(source.copiedBefore)
                if rename(src.path, spares.appendingPathComponent(name).path) == 0 { return }
            }
        }
        try? fm.removeItem(at: src)
    }

    /// Moves a spare `src/` of this snapshot into place, if one is there untouched (`isPristine`), and returns
    /// the time its copy was complete. A spare that fails the check, or has no time in its name, is removed.
    func takeSpare(of snapshot: SnapshotIndex.Snapshot, into src: URL) -> timespec? {
        let fm = FileManager.default
        let spares = JobPreparation.spareFolder(repositoryRoot: store.repositoryRoot, key: snapshot.key)
        guard let names = try? fm.contentsOfDirectory(atPath: spares.path) else { return nil }
        for name in names.sorted() {
            guard rename(spares.appendingPathComponent(name).path, src.path) == 0 else { continue }
            if let at = name.lastIndex(of: "@"), let copied = SourceCopy.parse(name[name.index(after: at)...]),
               JobPreparation.isPristine(src, snapshot: snapshot, copiedBefore: copied) { return copied }
            try? fm.removeItem(at: src)
        }
        return nil
    }

    /// `src` holds exactly the snapshot's files, none changed since `copiedBefore`: each folder has as many
    /// children as the snapshot's and (below the root) was not changed since (no entry added, removed or
    /// renamed); each file
    /// is a regular file with one link (no other path writes it), of the snapshot's size, not changed since
    /// (ctime: content, mode, times, links; no process can set it back).
    static func isPristine(_ src: URL, snapshot: SnapshotIndex.Snapshot, copiedBefore: timespec) -> Bool {
        guard snapshot.sizes.count == snapshot.entries.count else { return false }
        for (folder, count) in snapshot.folderSizes {
            let path = folder.isEmpty ? src.path : src.path + "/" + folder
            var st = stat()
            // The root's own ctime moves with the renames that recycle it; its entries are counted.
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
                  folder.isEmpty || SourceCopy.isBefore(st.st_ctim, copiedBefore), let dir = opendir(path) else { return false }
            var n = 0
            while let e = readdir(dir) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { n += 1 }
            }
            closedir(dir)
            if n != count { return false }
        }
        for (entry, size) in zip(snapshot.entries, snapshot.sizes) {
            var st = stat()
            guard lstat(src.path + "/" + entry.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_nlink == 1,
                  st.st_size == size, SourceCopy.isBefore(st.st_ctim, copiedBefore)
            else { return false }
        }
        return true
    }
}
