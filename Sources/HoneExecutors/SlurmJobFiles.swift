import Foundation

/// The files of one job that the Slurm executor reads or writes, and the job script it submits
/// (the same run.sh as the local executor's: JobScript).
enum SlurmJobFiles {
    /// `<jobdir>/task.log`: runtime creation output, then the handler's stdout+stderr.
    static func logFile(in dir: URL) -> URL { dir.appendingPathComponent(JobScript.Files.log) }

    /// The exit status the job script wrote to `<jobdir>/exitcode`, if any.
    static func exitCode(in dir: URL) -> Int32? {
        guard let text = OutputFile.smallText(JobScript.Files.exitCode, in: dir) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// When the job script wrote its exit code (`<jobdir>/finished`, epoch seconds).
    static func finishedAt(in dir: URL) -> Date? {
        guard let text = OutputFile.smallText(JobScript.Files.finished, in: dir),
              let seconds = TimeInterval(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// When the job script began (`<jobdir>/started`, epoch seconds).
    static func startedAt(in dir: URL) -> Date? {
        guard let text = OutputFile.smallText(JobScript.Files.started, in: dir),
              let seconds = TimeInterval(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    static func renderScript(_ job: JobSpec, jobDirectory dir: URL, runtimeCache: URL) -> String {
        JobScript.render(job: job, jobDirectory: dir, runtimeCache: runtimeCache)
    }
}
