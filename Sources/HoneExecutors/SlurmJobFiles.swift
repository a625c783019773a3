import Foundation

/// The files of one job that the Slurm executor reads or writes, and the job script it submits.
/// TEMPORARY: a minimal script until JobScript (branch `exec`) is merged; then this delegates to it.
enum SlurmJobFiles {
    static func logFile(in dir: URL) -> URL { dir.appendingPathComponent("task.log") }

    /// The exit status the job script wrote to `<jobdir>/exitcode`, if any.
    static func exitCode(in dir: URL) -> Int32? {
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent("exitcode").path) else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func renderScript(_ job: JobSpec, jobDirectory dir: URL, runtimeCache: URL) -> String {
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var lines = ["#!/bin/bash", "cd \(q(dir.appendingPathComponent("src").path)) 2>/dev/null || cd \(q(dir.path))"]
        for (k, v) in job.environment.sorted(by: { $0.key < $1.key }) { lines.append("export \(k)=\(q(v))") }
        lines.append("bash -c \(q(job.command)) >>\(q(logFile(in: dir).path)) 2>&1")
        lines.append("rc=$?")
        lines.append("echo $rc > \(q(dir.appendingPathComponent("exitcode").path))")
        lines.append("exit $rc")
        return lines.joined(separator: "\n") + "\n"
    }
}
