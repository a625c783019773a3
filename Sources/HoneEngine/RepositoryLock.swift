import Foundation

/// One reconciler per repository: an flock on `.hone/reconcile.lock`, held for the whole run and
/// released by the kernel if the process dies. The file names the holder for the waiting side.
public final class RepositoryLock {
    private let fd: Int32
    public let path: String

    public init(root: URL, timeout: TimeInterval) throws {
        let dir = try Workspace.privateFolder(in: root)
        path = dir.appendingPathComponent("reconcile.lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HoneError("cannot open \(path): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            if Date() >= deadline {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
                close(fd)
                throw HoneError("another reconcile holds \(path) (\(holder.isEmpty ? "holder unknown" : holder)); waited \(Int(timeout))s — try again later or raise --lock-timeout")
            }
            usleep(100_000)
        }
        let info = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(fd, 0)
        _ = info.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
