import Foundation

/// The files of one job that the Slurm executor reads or writes, and the job script it submits
/// (the same run.sh as the local executor's: JobScript).
enum SlurmJobFiles {
    /// `<jobdir>/task.log`: runtime creation output, then the handler's stdout+stderr.
    static func logFile(in dir: URL) -> URL { dir.appendingPathComponent(JobScript.Files.log) }

    /// The exit status the job script wrote to `<jobdir>/exitcode`, if any.
    static func exitCode(in dir: URL) -> Int32? {
        let url = dir.appendingPathComponent(JobScript.Files.exitCode)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// When the job script wrote its exit code (`<jobdir>/finished`, epoch seconds).
    static func finishedAt(in dir: URL) -> Date? {
        let url = dir.appendingPathComponent(JobScript.Files.finished)
        guard let data = FileManager.default.contents(atPath: url.path),
              let seconds = TimeInterval(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// When the job script began (`<jobdir>/started`, epoch seconds).
    static func startedAt(in dir: URL) -> Date? {
        let url = dir.appendingPathComponent(JobScript.Files.started)
        guard let data = FileManager.default.contents(atPath: url.path),
              let seconds = TimeInterval(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    static func renderScript(_ job: JobSpec, jobDirectory dir: URL, runtimeCache: URL) -> String {
        JobScript.render(job: job, jobDirectory: dir, runtimeCache: runtimeCache)
    }
}
