import Foundation
import HoneLoading

/// One reconciler per repository: an flock on `.hone/reconcile.lock`, held for the whole run and
/// released by the kernel if the process dies. The file names the holder for the waiting side.
public final class RepositoryLock {
    private var fd: Int32
    public let path: String
    private let root: URL

    public init(root: URL, timeout: TimeInterval) throws {
        self.root = root
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
        writeHolder()
    }

    private func writeHolder() {
        let info = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(fd, 0)
        _ = info.withCString { write(fd, $0, strlen($0)) }
    }

    /// Someone removed the lock file (`rm -rf .hone`) while we hold it: our flock is on a file nobody else
    /// opens any more, so a second reconciler would get the lock. Take it again on a new file (one stat when
    /// nothing happened); if another reconciler already has it, stop.
    public func reassert() throws {
        var onDisk = stat(), held = stat()
        if stat(path, &onDisk) == 0, fstat(fd, &held) == 0, onDisk.st_ino == held.st_ino, onDisk.st_dev == held.st_dev { return }
        try Workspace.privateFolder(in: root)
        let fresh = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fresh >= 0 else { throw HoneError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fresh, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
            close(fresh)
            throw HoneError("\(path) was removed while this reconcile ran and another reconcile took it (\(holder)): stopping")
        }
        close(fd)
        fd = fresh
        writeHolder()
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
