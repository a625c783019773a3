import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs jobs as detached processes on this machine: each job is `bash run.sh` (see `JobScript`) in its own
/// session and process group, so the reconciler dying (even kill -9) does not touch it. Everything the
/// executor knows lives in the job directory, so a new reconciler adopts what an old one launched.
/// Polling spawns no process: it reads small files, probes the job's flock and signals with `kill(pid, 0)`.
public final class LocalExecutor: Executor, Sendable {
    public let jobsRoot: URL
    public let runtimeCache: URL
    /// How long `cancel` waits after SIGTERM before SIGKILL.
    public let terminationGrace: TimeInterval
    /// Whether jobs get a cgroup of their own where one can be made (false: session and environment only;
    /// see JobProcesses).
    public let cgroups: Bool
    /// Jobs are processes of this machine, in folders under `.hone/jobs/`; a port a job serves is on 127.0.0.1.
    public let capabilities: ExecutorCapabilities = [.readsJobFolder, .streamsLogs, .execIntoJob, .exposesPort, .runsOnThisMachine]

    /// `jobsRoot`: `<repo>/.hone/jobs`; `runtimeCache`: `<repo>/.hone/runtimes`.
    public init(jobsRoot: URL, runtimeCache: URL, terminationGrace: TimeInterval = 3, cgroups: Bool = true) {
        self.jobsRoot = jobsRoot
        self.runtimeCache = runtimeCache
        self.terminationGrace = terminationGrace
        self.cgroups = cgroups
    }

    public func jobDirectory(for id: String) -> URL {
        jobsRoot.appendingPathComponent(id, isDirectory: true)
    }

    public func logFile(for id: String) -> URL {
        jobDirectory(for: id).appendingPathComponent(JobScript.Files.log)
    }

    // MARK: launch

    public func launch(_ job: JobSpec) throws -> String {
        try Self.checkId(job.id)
        let dir = jobDirectory(for: job.id)
        if let existing = launchedId(dir) { return existing }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // The run-once lock, taken here and handed to run.sh as fd 9 (it would otherwise start `flock`).
        // Held already: another run.sh of this job is alive, so start nothing.
        var lock = open(dir.appendingPathComponent(JobScript.Files.lock).path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if lock == 9 {  // the child's fd 9 must come from dup2 of another descriptor (that clears close-on-exec)
            let moved = fcntl(lock, F_DUPFD_CLOEXEC, 10)
            close(lock)
            lock = moved
        }
        if lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0 {
            close(lock)
            return readPid(dir)?.pid ?? "unknown"
        }
        defer { if lock >= 0 { close(lock) } }
        if lock >= 0, let existing = launchedId(dir) { return existing }  // it ran and ended meanwhile
        let script = dir.appendingPathComponent(JobScript.Files.script)
        let text = JobScript.render(job: job, jobDirectory: dir, runtimeCache: runtimeCache, cgroups: cgroups,
                                    executorMakesCgroup: cgroups, releaseWatchdog: true)
        if cgroups { JobProcesses.makeCgroup(for: dir) }
        // In place, without a temporary file or fsync: with the lock held no run.sh of this job is reading
        // it, nothing runs it before the spawn below, and a reconciler killed while writing it launched
        // nothing (the next one writes it again).
        try PlainFile.write(Data(text.utf8), to: script.path, mode: 0o755)
        let environment = job.environmentPolicy.environment(from: ProcessInfo.processInfo.environment, secrets: job.secretEnvironment)
        let pid = try Self.spawnDetached(script: script, environment: environment, lock: lock >= 0 ? lock : nil)
        // The script records its own pid too; whichever comes first wins (they agree unless a duplicate
        // launch lost the race, in which case the first one's pid is the right one).
        Self.writeExclusively("\(pid) \(pid)\n", to: dir.appendingPathComponent(JobScript.Files.pid))
        return readPid(dir)?.pid ?? String(pid)
    }

    /// Starts `bash run.sh` directly with posix_spawn (no intermediate shell: a launch costs one exec):
    /// POSIX_SPAWN_SETSID makes it the leader of a new session and process group, so its pid is its pgid
    /// and nothing sent to the reconciler's group reaches it; stdio is /dev/null, descriptors above 2 are
    /// closed (the job never holds the reconciler's files or locks), signals are back to their defaults and
    /// unblocked. If the reconciler dies, init adopts the job. While it lives, the reconciler is the job's
    /// parent: finished jobs are reaped at the next launch (`reapFinished`), and polls treat a zombie as gone.
    /// `lock`: a descriptor holding the job's flock, passed to run.sh as fd 9 (with `--lock-held`).
    static func spawnDetached(script: URL, environment: [String: String], lock: Int32? = nil) throws -> Int32 {
        reapFinished()
        #if os(Linux)
        var attributes = posix_spawnattr_t()
        var actions = posix_spawn_file_actions_t()
        func throughShell() throws -> Int32 {
            if let lock { _ = flock(lock, LOCK_UN) }  // run.sh takes it itself
            return try spawnThroughShell(script: script, environment: environment)
        }
        guard posix_spawnattr_init(&attributes) == 0 else { return try throughShell() }
        defer { posix_spawnattr_destroy(&attributes) }
        guard posix_spawn_file_actions_init(&actions) == 0 else { return try throughShell() }
        defer { posix_spawn_file_actions_destroy(&actions) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        let setsid: Int32 = 0x80  // POSIX_SPAWN_SETSID (glibc ≥ 2.26, musl), hidden behind _GNU_SOURCE
        posix_spawnattr_setflags(&attributes, Int16(setsid | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // fd 9 is the lock when there is one (dup2 clears its close-on-exec flag); every other fd above 2 is closed.
        if let lock { posix_spawn_file_actions_adddup2(&actions, lock, 9) }
        if let closeFrom = addCloseFrom {
            if lock != nil {
                for fd in Int32(3)...8 { posix_spawn_file_actions_addclose(&actions, fd) }  // EBADF is ignored
                _ = closeFrom(&actions, 10)
            } else { _ = closeFrom(&actions, 3) }
        } else {
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            for fd in open.compactMap(Int32.init) where fd > 2 && (lock == nil || fd != 9) { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        let argv = ["/bin/bash", script.path] + (lock != nil ? ["--lock-held"] : [])
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let rc = withCStrings(argv) { cArgv in
            withCStrings(envp) { cEnvp in posix_spawn(&pid, "/bin/bash", &actions, &attributes, cArgv, cEnvp) }
        }
        if rc == 0 && pid > 0 {
            spawnedLock.withLock { _ = spawned.insert(pid) }
            return pid
        }
        // Without posix_spawn's session flag (old libc): the shell launcher below.
        return try throughShell()
        #else
        if let lock { _ = flock(lock, LOCK_UN) }
        return try spawnThroughShell(script: script, environment: environment)
        #endif
    }

    #if os(Linux)
    /// glibc ≥ 2.34's posix_spawn_file_actions_addclosefrom_np (declared only under _GNU_SOURCE).
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
    #endif

    /// Pids of jobs this process spawned and has not reaped yet.
    nonisolated(unsafe) private static var spawned: Set<pid_t> = []
    private static let spawnedLock = NSLock()

    /// Reaps the jobs this process started that have ended (they are its children until it exits).
    static func reapFinished() {
        spawnedLock.withLock {
            for pid in spawned {
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) { spawned.remove(pid) }
            }
        }
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// The shell equivalent of `spawnDetached` (fallback): `setsid` (not a group leader here, so it does not
    /// fork) makes run.sh the leader of a new session and process group; `$!` is therefore its pid and pgid.
    /// The intermediate bash exits at once and is reaped by the caller; run.sh is adopted by init. Inherited
    /// descriptors above 2 are closed so the job never holds the reconciler's files (or locks).
    static let detachCommand = #"""
    for hone_fd in /proc/$$/fd/*; do hone_fd=${hone_fd##*/}; case $hone_fd in ''|*[!0-9]*) ;; *) [ "$hone_fd" -gt 2 ] && eval "exec $hone_fd>&-" 2>/dev/null;; esac; done
    setsid bash "$1" </dev/null >/dev/null 2>&1 &
    echo "$!"
    """#

    static func spawnThroughShell(script: URL, environment: [String: String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", detachCommand, "hone-launch", script.path]
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw ExecutorError("cannot start \(script.path): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, let pid = Int32(text), pid > 0 else {
            throw ExecutorError("cannot start \(script.path): launcher exited with status \(process.terminationStatus)")
        }
        return pid
    }

    /// The executor id of a job that was launched already (its pid), nil when it never was.
    private func launchedId(_ dir: URL) -> String? {
        if let p = readPid(dir) { return p.pid }
        if exists(dir, JobScript.Files.started) || exists(dir, JobScript.Files.exitCode) { return "unknown" }
        return nil
    }

    // MARK: poll

    public func poll(id: String) throws -> JobState {
        try Self.checkId(id)
        let dir = jobDirectory(for: id)
        if let done = finishedState(dir) {
            JobProcesses.removeCgroup(of: dir)  // emptied by run.sh before it wrote exitcode
            return done
        }
        let pid = readPid(dir)
        let executorId = pid?.pid ?? "unknown"
        let started = exists(dir, JobScript.Files.started)
        if pid == nil && !started && !exists(dir, JobScript.Files.script) { return .notFound }
        if started {
            if Self.lockHeld(dir.appendingPathComponent(JobScript.Files.lock)) {
                return .running(executorId: executorId, startedAt: readDate(dir, JobScript.Files.started))
            }
            // run.sh writes its exit code before it releases the lock: look again.
            if let done = finishedState(dir) { return done }
            return lost(dir, executorId)
        }
        if let pid, let n = Int32(pid.pid), Self.processAlive(n) {
            return .pending(executorId: executorId, reason: "Starting")
        }
        if exists(dir, JobScript.Files.started) || finishedState(dir) != nil {
            return try poll(id: id)  // it moved on while we looked
        }
        if pid == nil {
            // The launcher holds the job's lock from writing run.sh until run.sh holds it itself: held, a launch is
            // under way; free, the launcher died before the spawn and nothing ran, so the job can be launched again.
            if Self.lockHeld(dir.appendingPathComponent(JobScript.Files.lock)) {
                return .pending(executorId: executorId, reason: "Launching")
            }
            return .notFound
        }
        return lost(dir, executorId)
    }

    private func finishedState(_ dir: URL) -> JobState? {
        let exit = JobScript.recordedExit(read(dir, JobScript.Files.exitCode))
        guard exit.ended else { return nil }
        let code = exit.code
        let outcome: JobOutcome = exists(dir, JobScript.Files.released) ? .released : code == 0 ? .succeeded : .failed(exitCode: code)
        return .finished(JobEnd(executorId: readPid(dir)?.pid ?? "unknown", outcome: outcome, exitCode: code,
                                startedAt: readDate(dir, JobScript.Files.started),
                                finishedAt: readDate(dir, JobScript.Files.finished)))
    }

    // MARK: waiting

    /// Waits until the run.sh of one of these jobs ends, at most `timeout` seconds; returns at once when one
    /// has ended already. Works for any process, not only this reconciler's children (jobs adopted from an
    /// earlier one too): Linux pidfds (kernel ≥ 5.3, glibc ≥ 2.36). Returns false, having waited for
    /// nothing, when it cannot watch any of them: the caller sleeps instead.
    public func waitForAnyEnd(ids: [String], timeout: TimeInterval) -> Bool {
        #if os(Linux)
        guard let pidfdOpen = Self.pidfdOpen else { return false }
        var fds: [pollfd] = []
        defer { for p in fds { close(p.fd) } }
        for id in ids {
            guard (try? Self.checkId(id)) != nil, let text = readPid(jobDirectory(for: id))?.pid, let pid = Int32(text), pid > 0 else { continue }
            let fd = pidfdOpen(pid, 0)
            if fd < 0 {
                if errno == ESRCH { return true }  // gone already
                continue
            }
            fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
        }
        guard !fds.isEmpty else { return false }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return true }
            let rc = pollDescriptors(&fds, Int32(min(left * 1000, 3_600_000).rounded(.up)))
            if rc != 0 && !(rc < 0 && errno == EINTR) { return true }  // one ended (or poll failed: stop waiting)
        }
        #else
        return false
        #endif
    }

    #if os(Linux)
    /// glibc ≥ 2.36's pidfd_open (Swift cannot call the variadic syscall(2)).
    private static let pidfdOpen: (@convention(c) (pid_t, UInt32) -> Int32)? = {
        guard let symbol = dlsym(nil, "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
    }()
    #endif

    /// Gone without an exit code (killed -9 with its whole group, machine rebooted...). What it started and
    /// left running (run.sh could not end it) ends now.
    private func lost(_ dir: URL, _ executorId: String) -> JobState {
        // A folder being removed (`rm -rf .hone`: its lock file gone) while run.sh still runs: not lost, and
        // nothing of it may be ended.
        if scriptProcessAlive(id: dir.lastPathComponent) {
            return .running(executorId: executorId, startedAt: readDate(dir, JobScript.Files.started))
        }
        JobProcesses.end(in: dir)
        return .finished(JobEnd(executorId: executorId, outcome: .lost, exitCode: nil,
                                startedAt: readDate(dir, JobScript.Files.started),
                                finishedAt: modificationDate(dir, JobScript.Files.log)))
    }

    // MARK: cancel

    public func cancel(id: String, executorId: String?) throws {
        try cancelByFolder(id: id)
        // A job whose folder is gone is out of sight of the above: stop it by what survives of it.
        if let executorId, !cancelVanished(id: id, executorId: executorId) {
            throw ExecutorError("its folder is gone and its process \(executorId) did not end")
        }
    }

    public func release(id: String) throws {
        try Self.checkId(id)
        let dir = jobDirectory(for: id)
        // Only a run.sh that provably runs (its lock is held) is signalled: a pid file may name a reused pid.
        guard let pid = readPid(dir).flatMap({ Int32($0.pid) }), pid > 1,
              Self.lockHeld(dir.appendingPathComponent(JobScript.Files.lock)) else { return }
        _ = kill(pid, SIGUSR1)
    }

    public func host(ofRunningJob id: String) throws -> String? {
        guard case .running = try poll(id: id) else { return nil }
        return "127.0.0.1"
    }

    private func cancelByFolder(id: String) throws {
        try Self.checkId(id)
        let dir = jobDirectory(for: id)
        guard let pid = readPid(dir), let pgid = Int32(pid.pgid), pgid > 1 else { return }
        let lockHeld = Self.lockHeld(dir.appendingPathComponent(JobScript.Files.lock))
        let started = exists(dir, JobScript.Files.started)
        // Signal only a group that is provably this job's: its lock is held (run.sh or a process it started
        // is alive), or it has not started yet and its launcher pid is alive. A finished or lost job's pgid
        // may have been reused by now.
        let alive = lockHeld || (!started && Int32(pid.pid).map(Self.processAlive) == true)
        guard alive else { return JobProcesses.end(in: dir) }
        var lastSignal = SIGTERM
        Self.signalGroup(pgid, SIGTERM)
        if !Self.waitGone(pgid, timeout: terminationGrace) {
            lastSignal = SIGKILL
            Self.signalGroup(pgid, SIGKILL)
            _ = Self.waitGone(pgid, timeout: 2)
        }
        JobProcesses.end(in: dir)  // what left the group (setsid) when run.sh could not end it itself
        if !JobScript.recordedExit(read(dir, JobScript.Files.exitCode)).ended {
            // run.sh could not record it (killed before it could): record it for it.
            let now = Int(Date().timeIntervalSince1970)
            try? Self.writeAtomically("\(128 + lastSignal)\n", to: dir.appendingPathComponent(JobScript.Files.exitCode))
            try? Self.writeAtomically("\(now)\n", to: dir.appendingPathComponent(JobScript.Files.finished))
        }
    }

    /// SIGs the process group and any process of the job's session that left the group.
    static func signalGroup(_ pgid: Int32, _ sig: Int32) {
        _ = kill(-pgid, sig)
        for p in members(pgid) where p.pgrp != pgid { _ = kill(p.pid, sig) }
    }

    /// Waits until no live (non-zombie) process belongs to the job's group or session.
    static func waitGone(_ pgid: Int32, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if !groupAlive(pgid) { return true }
            if Date() >= deadline { return false }
            usleep(50_000)
        }
    }

    static func groupAlive(_ pgid: Int32) -> Bool {
        if FileManager.default.fileExists(atPath: "/proc/self/stat") { return !members(pgid).isEmpty }
        return kill(-pgid, 0) == 0 || errno == EPERM
    }

    /// Live processes whose process group or session is `pgid` (Linux /proc; empty elsewhere).
    static func members(_ pgid: Int32) -> [(pid: Int32, pgrp: Int32)] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var result: [(Int32, Int32)] = []
        for entry in entries {
            guard let pid = Int32(entry), let stat = procStat(pid) else { continue }
            if stat.state != "Z" && (stat.pgrp == pgid || stat.session == pgid) { result.append((pid, stat.pgrp)) }
        }
        return result
    }

    /// State, process group and session of a process from /proc/<pid>/stat.
    static func procStat(_ pid: Int32) -> (state: Character, pgrp: Int32, session: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 4, let state = fields[0].first, let pgrp = Int32(fields[2]), let sid = Int32(fields[3])
        else { return nil }
        return (state, pgrp, sid)
    }

    /// The process exists and is not a zombie.
    static func processAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno != EPERM { return false }
        if let stat = procStat(pid), stat.state == "Z" { return false }
        return true
    }

    /// Whether someone holds the job's flock. Only probed once `started` exists (or at cancel): taking the lock
    /// for an instant then cannot make a legitimate first run.sh give up.
    static func lockHeld(_ url: URL) -> Bool {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    // MARK: files

    static func checkId(_ id: String) throws {
        guard !id.isEmpty, id != ".", id != "..", !id.contains("/"), !id.contains("\0") else {
            throw ExecutorError("invalid job id '\(id)'")
        }
    }

    private func exists(_ dir: URL, _ name: String) -> Bool {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path)
    }

    private func read(_ dir: URL, _ name: String) -> String? {
        OutputFile.smallText(name, in: dir)  // the handler can put a link or a FIFO here: never follow or block
    }

    private func readDate(_ dir: URL, _ name: String) -> Date? {
        guard let text = read(dir, name), let seconds = Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    private func modificationDate(_ dir: URL, _ name: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path))?[.modificationDate] as? Date
    }

    private func readPid(_ dir: URL) -> (pid: String, pgid: String)? {
        guard let text = read(dir, JobScript.Files.pid) else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        guard let first = parts.first, Int32(first) != nil else { return nil }
        return (first, parts.count > 1 ? parts[1] : first)
    }

    static func writeAtomically(_ text: String, to url: URL, mode: Int = 0o644) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try PlainFile.write(Data(text.utf8), to: tmp.path, mode: mode)
        guard rename(tmp.path, url.path) == 0 else {
            let e = errno
            unlink(tmp.path)
            throw ExecutorError("cannot write \(url.path): \(String(cString: strerror(e)))")
        }
    }

    /// Writes `url` only if it does not exist yet (write a temporary file, hard-link it into place).
    @discardableResult
    static func writeExclusively(_ text: String, to url: URL) -> Bool {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).x.tmp")
        guard (try? PlainFile.write(Data(text.utf8), to: tmp.path)) != nil else { return false }
        defer { unlink(tmp.path) }
        return link(tmp.path, url.path) == 0
    }
}

#if os(Linux)
/// poll(2) (inside LocalExecutor, `poll` names its `poll(id:)`).
private func pollDescriptors(_ fds: inout [pollfd], _ timeoutMilliseconds: Int32) -> Int32 {
    poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
}
#endif
