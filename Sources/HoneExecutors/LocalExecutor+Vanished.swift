import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A job whose folder was removed while it ran (`rm -rf .hone`): its files are gone, but its run.sh may well
/// be alive. What survives is the pid hone recorded in the status (the executor id, also the job's process
/// group and session) and the process's own command line, `/bin/bash <job folder>/run.sh`, which tells this
/// job from a process that reused the pid. Linux only (/proc); elsewhere such a job is found gone.
extension LocalExecutor {
    public func stillRunningWithoutFolder(id: String, executorId: String) -> Bool {
        vanishedJobAlive(id: id, executorId: executorId)
    }

    /// Whether the job `id` still runs although its folder is gone.
    public func vanishedJobAlive(id: String, executorId: String?) -> Bool {
        guard let text = executorId, let pid = Int32(text), pid > 1, Self.processAlive(pid),
              let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let script = jobDirectory(for: id).appendingPathComponent(JobScript.Files.script).path
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == script }
    }

    /// Whether some live process runs this job's run.sh, found by its command line alone (/proc): for a folder
    /// being removed whose pid file may be gone already.
    func scriptProcessAlive(id: String) -> Bool {
        let script = Array(jobDirectory(for: id).appendingPathComponent(JobScript.Files.script).path.utf8)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return false }
        for entry in entries {
            guard let pid = Int32(entry), pid > 1, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  data.split(separator: 0).contains(where: { Array($0) == script }) else { continue }
            if Self.processAlive(pid) { return true }
        }
        return false
    }

    /// Stops such a job (its process group and session: SIGTERM, then SIGKILL after the grace time).
    /// Returns whether it is gone.
    public func cancelVanished(id: String, executorId: String?) -> Bool {
        guard vanishedJobAlive(id: id, executorId: executorId), let pgid = executorId.flatMap({ Int32($0) }) else { return true }
        Self.signalGroup(pgid, SIGTERM)
        if Self.waitGone(pgid, timeout: terminationGrace) { return true }
        Self.signalGroup(pgid, SIGKILL)
        return Self.waitGone(pgid, timeout: 2)
    }
}
