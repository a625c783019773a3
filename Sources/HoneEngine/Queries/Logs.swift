import Foundation
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

    /// Where the executor keeps the job's files on this machine: `.hone/jobs/<id>/` for local pools,
    /// `<workdir>/jobs/<id>/` for Slurm pools (a folder every node shares).
    public static func jobDirectory(_ ws: Workspace, project: Project?, status s: ObjectStatus) -> URL {
        if let pool = project?.pools[s.pool], pool.executor == .slurm {
            let workdir = pool.workdir.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : ws.url($0) } ?? ws.url(".hone/slurm")
            return workdir.appendingPathComponent("jobs/\(s.id)", isDirectory: true)
        }
        return ws.url(".hone/jobs/\(s.id)")
    }

    public enum FollowEnd: Equatable, Sendable {
        case exited(Int32?)
        /// The local job's process is gone without recording an exit code.
        case lost
    }

    /// Copies `task.log` to `write` from its start, then as it grows, until the job records its exit
    /// code (or, for a local job, its process disappears without one).
    public static func follow(_ directory: URL, local: Bool, pollInterval: TimeInterval = 0.25, write: (Data) -> Void) -> FollowEnd {
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
