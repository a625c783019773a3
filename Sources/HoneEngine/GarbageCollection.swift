import Foundation
import Git
import HoneExecutors
import HoneLoading
import HoneModel

/// `hone gc`: what `.hone/` and the store hold that no live work needs — finished jobs' folders, snapshots
/// and spare `src/` copies no active job is copied from, store objects nothing hone can see references —
/// found first (`plan`), then removed (`apply`), under the repository lock a reconcile takes.
public struct GarbageCollection {
    public struct Options: Sendable {
        /// Unreferenced store objects (and leftovers of a killed writer) younger than this stay.
        public var keepUnreferenced: TimeInterval = 7 * 86_400
        public var lockTimeout: TimeInterval = 30
        public var now = Date()
        public init() {}
    }

    public enum Area: String, Sendable, CaseIterable {
        case jobFolder = "job folder", snapshot, spare = "spare src", store = "store object", leftover
        public var plural: String {
            switch self {
            case .jobFolder: return "job folders"
            case .snapshot: return "snapshots"
            case .spare: return "spare src copies"
            case .store: return "store objects"
            case .leftover: return "leftovers"
            }
        }
    }

    /// One thing to remove: its area, its path (relative to the repository when inside it) and size.
    public struct Item: Sendable, Equatable {
        public var area: Area
        public var path: String
        public var bytes: Int64
        /// Where it is (a local folder) or which store object it is.
        let target: Target
        enum Target: Sendable, Equatable { case file(URL), stored(StoredObject) }
    }

    /// What gc keeps and why, for the summary.
    public struct Kept: Sendable, Equatable {
        public var activeJobs = 0, debugFolders = 0, runningFolders = 0, snapshots = 0, referencedObjects = 0, youngObjects = 0
    }

    public struct Report: Sendable {
        public var items: [Item] = []
        public var kept = Kept()
        public var statusesRead = 0
        public var bytes: Int64 { items.reduce(0) { $0 + $1.bytes } }
    }

    let workspace: Workspace
    let options: Options

    public init(workspace: Workspace, options: Options) {
        self.workspace = workspace; self.options = options
    }

    /// Takes the lock, finds the garbage, and removes it unless `dryRun`. A concurrent reconcile waits for
    /// the lock (and gc for its), so nothing gc reads changes under it.
    public func run(dryRun: Bool) throws -> Report {
        let lock = try RepositoryLock(root: workspace.root, timeout: options.lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        let report = try plan()
        if !dryRun { try apply(report) }
        return report
    }

    func plan() throws -> Report {
        let repository = workspace.repository
        let tips = try repository?.referencedCommits() ?? []
        let live = try LiveWork.read(repository: repository, root: workspace.root, tips: tips)
        var report = Report()
        report.statusesRead = live.statuses
        jobFolders(live, into: &report)
        try snapshots(live, repository: repository, into: &report)
        try storeObjects(repository: repository, tips: tips, into: &report)
        return report
    }

    func apply(_ report: Report) throws {
        let store = try report.items.contains { if case .stored = $0.target { return true }; return false } ? self.store() : nil
        for item in report.items {
            switch item.target {
            case .stored(let object): try store?.remove(object)
            case .file(let url): try GarbageCollection.remove(url, root: workspace.root)
            }
        }
        try? FileManager.default.removeItem(at: workspace.root.appendingPathComponent(".hone/gc-trash"))
    }

    /// Out of its place in one rename, then deleted: a killed gc leaves only `.hone/gc-trash/`, never a half
    /// folder under its name.
    static func remove(_ url: URL, root: URL) throws {
        let trash = root.appendingPathComponent(".hone/gc-trash")
        try FileManager.default.createDirectory(at: trash, withIntermediateDirectories: true)
        let moved = trash.appendingPathComponent("\(getpid())-\(UUID().uuidString.prefix(8))")
        guard rename(url.path, moved.path) == 0 else {
            if errno == ENOENT { return }
            throw HoneError("cannot remove \(url.path): \(String(cString: strerror(errno)))")
        }
        try DiskUsage.remove(moved)
    }

    /// The bounded gc of reconcile: of the job folders whose id is in `finished`, all but the newest `keep`
    /// (by last change), at most `limit`, never one whose run.sh still runs. Returns how many were removed.
    static func pruneFinishedJobs(root: URL, finished: Set<String>, keep: Int, limit: Int = 100) -> Int {
        let jobs = root.appendingPathComponent(".hone/jobs")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: jobs.path)) ?? []).filter(finished.contains)
        guard names.count > keep else { return 0 }
        let dated = names.map { name -> (String, Date) in
            var st = stat()
            return (name, lstat(jobs.appendingPathComponent(name).path, &st) == 0 ? DiskUsage.modified(st) : .distantPast)
        }.sorted { ($0.1, $0.0) > ($1.1, $1.0) }
        var removed = 0
        for (name, _) in dated.dropFirst(keep).prefix(limit) {
            let dir = jobs.appendingPathComponent(name)
            guard !isRunning(dir), (try? remove(dir, root: root)) != nil else { continue }
            removed += 1
        }
        return removed
    }

    /// The store hone.yaml of the working tree names (only that file is parsed).
    func store() throws -> ArtifactStore {
        let load = try Loader(source: workspace.source(ref: nil), parseOnly: { $0 == Layout.projectFile }).load(includeStatus: false)
        return ArtifactStore(project: load.desired.project, repositoryRoot: workspace.root)
    }

    func relative(_ url: URL) -> String {
        let root = workspace.root.path + "/"
        return url.path.hasPrefix(root) ? String(url.path.dropFirst(root.count)) : url.path
    }

    func item(_ area: Area, _ url: URL) -> Item {
        Item(area: area, path: relative(url), bytes: DiskUsage.of(url.path).bytes, target: .file(url))
    }

    // MARK: job folders

    /// `.hone/jobs/<id>/` of every attempt that is neither active nor held by a debug eval, and whose
    /// run-once lock no process holds (a job's run.sh holds it while it lives, whatever a status says).
    func jobFolders(_ live: LiveWork, into report: inout Report) {
        let jobs = workspace.root.appendingPathComponent(".hone/jobs")
        let debug = Set(live.debugFolders.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        for id in ((try? FileManager.default.contentsOfDirectory(atPath: jobs.path)) ?? []).sorted() {
            let dir = jobs.appendingPathComponent(id)
            if live.activeJobs.contains(id) { report.kept.activeJobs += 1; continue }
            if debug.contains(dir.standardizedFileURL.path) { report.kept.debugFolders += 1; continue }
            if GarbageCollection.isRunning(dir) { report.kept.runningFolders += 1; continue }
            report.items.append(item(.jobFolder, dir))
        }
    }

    /// Whether a process holds the job's run-once lock (run.sh takes it for its whole life).
    static func isRunning(_ dir: URL) -> Bool {
        let fd = open(dir.appendingPathComponent(JobScript.Files.lock).path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) != 0
    }

    // MARK: snapshots

    /// `.hone/snapshots/`: every spare `src/` (a whole copy of a tree, a cache only), every half-made or stale
    /// folder, and every snapshot but those of the commits active attempts were created on (a job not started
    /// yet is copied from it; any other is made again from git when a job needs it).
    func snapshots(_ live: LiveWork, repository: Repository?, into report: inout Report) throws {
        let folder = workspace.root.appendingPathComponent(".hone/snapshots")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        var keep: Set<String> = []
        if let repository {
            for c in live.activeCommits.sorted() {
                guard let id = ObjectID(hex: c), (try? repository.commit(id)) != nil else { continue }
                keep.insert(try JobPreparation.snapshotKey(of: id, in: repository))
            }
        }
        for name in names.sorted() {
            let url = folder.appendingPathComponent(name)
            let key = String(name.prefix { $0 != "." })
            let suffix = name.dropFirst(key.count)
            if suffix.hasPrefix(".spare") { report.items.append(item(.spare, url)); continue }
            if suffix.isEmpty || suffix == ".made" {
                if keep.contains(key) { if suffix.isEmpty { report.kept.snapshots += 1 }; continue }
                report.items.append(item(suffix.isEmpty ? .snapshot : .leftover, url))
                continue
            }
            report.items.append(item(.leftover, url))  // .tmp-<pid>, .stale-<pid>: a killed extraction's
        }
    }

    // MARK: store

    /// Store objects that no URI in any recorded status, published manifest or version file of any commit
    /// hone can reach (or of the working tree) names, and that are older than `keepUnreferenced`.
    func storeObjects(repository: Repository?, tips: [ObjectID], into report: inout Report) throws {
        let store = try store()
        let objects = try store.storedObjects()
        guard !objects.isEmpty else { return }
        let uris = try StoreReferences.read(repository: repository, root: workspace.root, tips: tips)
        let referenced = Set(uris.flatMap { store.objectNames(keptBy: $0) })
        let cutoff = options.now.addingTimeInterval(-options.keepUnreferenced)
        let inRepository = store.root.path.hasPrefix(workspace.root.path + "/")
        for object in objects {
            if referenced.contains(object.name) { report.kept.referencedObjects += 1; continue }
            if object.modified > cutoff { report.kept.youngObjects += 1; continue }
            let url = store.root.appendingPathComponent(object.name)
            report.items.append(Item(area: object.temporary ? .leftover : .store, path: inRepository ? relative(url) : url.path,
                                     bytes: object.bytes, target: .stored(object)))
        }
    }
}
