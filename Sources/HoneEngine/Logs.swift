import Foundation
import Git
import HoneExecutors
import HoneLoading
import HoneModel

/// `hone logs`: the committed task log (`status/…/<task>.log`, capped: its tail) and, with `--follow`,
/// the live log in the executor's job folder while the job runs.
public enum Logs {
    /// The task a user asked for (default: the first, usually the only one).
    public static func task(_ s: ObjectStatus, named name: String?) throws -> TaskStatus {
        guard let name else {
            guard let t = s.tasks.first else { throw HoneError("\(s.key.display) has no tasks recorded yet") }
            return t
        }
        guard let t = s.tasks.first(where: { $0.name == name }) else {
            throw HoneError("\(s.key.display) has no task \"\(name)\": its tasks are \(s.tasks.map(\.name).joined(separator: ", "))")
        }
        return t
    }

    /// The committed log's text, nil when it is not (yet) in the files read.
    public static func committed(_ source: FileSource, _ s: ObjectStatus, _ task: TaskStatus) throws -> String? {
        let path = task.log ?? s.key.statusFolder + "\(task.name).log"
        return try source.read(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Where a live job's log can be read from here, as its pool's executor says.
    public struct LiveSource {
        /// The job's folder on this machine (`.hone/jobs/<id>/` for local pools, `<workdir>/jobs/<id>/` for
        /// Slurm pools); nil when the executor keeps it where this machine cannot read it.
        public var directory: URL?
        /// The job's processes run on this machine: a job gone without an exit code is seen as lost.
        public var watchesProcesses: Bool
    }

    public static func liveSource(_ ws: Workspace, project: Project?, status s: ObjectStatus) -> LiveSource {
        // A pool hone.yaml no longer has: the job can only have run where local jobs do.
        let backend = project?.pools[s.pool]?.backend ?? .local(LocalPoolSettings())
        let executor = Executors.make(backend, repositoryRoot: ws.root)
        let readable = executor.capabilities.isSuperset(of: [.readsJobFolder, .streamsLogs])
        return LiveSource(directory: readable ? executor.jobDirectory(for: s.id) : nil,
                          watchesProcesses: executor.capabilities.contains(.runsOnThisMachine))
    }

    /// The live log as far as the job has written it, through OutputFile as the reconciler reads it (never
    /// through a link); nil when the folder has no readable `task.log`. Only its last `cap` bytes.
    public static func live(_ directory: URL, cap: Int = 16 << 20) -> Data? {
        guard let file = try? OutputFile.open(JobScript.Files.log, under: directory.path) else { return nil }
        return try? file.tail(cap)
    }

    /// The last `count` lines of `text` (a final line without a newline counts as a line).
    public static func lastLines(_ text: String, _ count: Int) -> String {
        guard count > 0 else { return "" }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if text.hasSuffix("\n") { lines.removeLast() }
        let kept = lines.suffix(count).joined(separator: "\n")
        return lines.isEmpty ? "" : kept + (text.hasSuffix("\n") ? "\n" : "")
    }

    /// The log of an earlier attempt: git keeps every status the reconciler committed, so the newest commit
    /// (from `start`) whose status records attempt `attempt` holds that attempt's last committed log.
    /// `attemptLog` from `ref` (default: HEAD) of the workspace's repository.
    public static func attemptLog(_ ws: Workspace, ref: String?, key: ObjectKey, attempt: Int, task: String?) throws -> String {
        let repository = try ws.requireRepository()
        let start: ObjectID
        if let r = ref { start = try repository.resolve(r) } else {
            guard let head = try repository.headCommit() else { throw HoneError("the repository has no commits yet: nothing has been recorded") }
            start = head
        }
        return try attemptLog(repository, from: start, key: key, attempt: attempt, task: task)
    }

    public static func attemptLog(_ repo: Repository, from start: ObjectID, key: ObjectKey, attempt: Int,
                                  task name: String?) throws -> String {
        var seen: Set<Int> = []
        for commit in try repo.history(of: key.statusPath, from: start) {
            guard let data = try repo.blob(at: key.statusPath, in: commit.id) else { continue }
            guard let s = StatusCodec.decode(key, text: String(decoding: data, as: UTF8.self), path: key.statusPath).0 else { continue }
            seen.insert(s.attempt)
            guard s.attempt == attempt else { continue }
            let t = try task(s, named: name)
            let path = t.log ?? key.statusFolder + "\(t.name).log"
            guard let log = try repo.blob(at: path, in: commit.id) else {
                throw HoneError("attempt \(attempt) of \(key.display) has no committed log for task \(t.name) (status at commit \(commit.id.hex.prefix(7)))")
            }
            return String(decoding: log, as: UTF8.self)
        }
        let known = seen.sorted().map(String.init).joined(separator: ", ")
        throw HoneError("no commit records attempt \(attempt) of \(key.display)" + (known.isEmpty ? " (no status of it is committed)" : " (attempts recorded: \(known))"))
    }

    public enum FollowEnd: Equatable, Sendable {
        case exited(Int32?)
        /// The local job's process is gone without recording an exit code.
        case lost
    }

    /// Copies `task.log` to `write` from its start, then as it grows, until the job records its exit
    /// code (or, for a local job, its process disappears without one).
    public static func follow(_ directory: URL, watchesProcesses local: Bool, pollInterval: TimeInterval = 0.25, write: (Data) -> Void) -> FollowEnd {
        // Through OutputFile, as the reconciler reads it: a handler may replace its log with a link (to
        // /proc/self/environ: ours) or a FIFO, which is then not read at all.
        var file: OutputFile? = nil
        var offset = 0
        func drain() {
            if file == nil { file = try? OutputFile.open(JobScript.Files.log, under: directory.path) }
            guard let f = file else { return }
            while let data = try? f.read(upTo: 1 << 16, from: offset), !data.isEmpty {
                write(data)
                offset += data.count
            }
        }
        var goneChecks = 0
        while true {
            drain()
            let record = JobRecord.read(directory)
            if record.ended { drain(); return .exited(record.exitCode) }
            if local, let pid = record.pid, kill(pid, 0) != 0, errno == ESRCH {
                // run.sh records its exit code as it ends: allow a moment for that write to land.
                goneChecks += 1
                if goneChecks > 8 { drain(); return .lost }
            }
            Thread.sleep(forTimeInterval: pollInterval)
        }
    }
}
