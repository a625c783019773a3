import Foundation

/// What `run.sh` recorded in a job directory (see `JobScript` for the layout). Reading it spawns nothing
/// and never blocks (the files are read through `OutputFile`: the handler can write in this folder):
/// any executor (local, Slurm) can use it to learn a job's outcome from the shared job directory.
public struct JobRecord: Sendable, Equatable {
    /// `started` exists: run.sh took the lock and began (it will never run the job again).
    public var started: Bool
    public var startedAt: Date?
    /// `exitcode` holds a complete line: the job ended and its status was recorded.
    public var ended: Bool
    /// The recorded status (nil when unreadable).
    public var exitCode: Int32?
    public var finishedAt: Date?
    /// `pid`: "<pid> <pgid>" of run.sh on the machine that ran it.
    public var pid: Int32?
    public var pgid: Int32?
    /// `released`: why the job's own watchdog ended it at its release time (nil: it did not).
    public var released: String? = nil

    /// Reads the job directory's record files.
    public static func read(_ directory: URL) -> JobRecord {
        func text(_ name: String) -> String? {
            OutputFile.smallText(name, in: directory)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func date(_ name: String) -> Date? { text(name).flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } }
        let startedText = text(JobScript.Files.started)
        let exit = JobScript.recordedExit(OutputFile.smallText(JobScript.Files.exitCode, in: directory))
        let ids = text(JobScript.Files.pid)?.split(separator: " ").compactMap { Int32($0) } ?? []
        return JobRecord(started: startedText != nil, startedAt: date(JobScript.Files.started),
                         ended: exit.ended, exitCode: exit.code,
                         finishedAt: date(JobScript.Files.finished),
                         pid: ids.first, pgid: ids.count > 1 ? ids[1] : ids.first, released: text(JobScript.Files.released))
    }
}
