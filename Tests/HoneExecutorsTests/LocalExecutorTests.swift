import Foundation
import XCTest
@testable import HoneExecutors
#if canImport(Glibc)
import Glibc
#endif

/// Real processes, no mocks: every test launches `run.sh` through the local executor (or exactly like it).
final class LocalExecutorTests: XCTestCase {
    var root: URL!
    var out: URL!
    var executor: LocalExecutor!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("hone-exec-\(UUID().uuidString.prefix(8))", isDirectory: true)
        out = root.appendingPathComponent("out", isDirectory: true)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        executor = LocalExecutor(jobsRoot: root.appendingPathComponent("jobs"),
                                 runtimeCache: root.appendingPathComponent("runtimes"))
    }

    override func tearDownWithError() throws {
        // Leave nothing running behind a failed test.
        if let ids = try? FileManager.default.contentsOfDirectory(atPath: executor.jobsRoot.path) {
            for id in ids { try? executor.cancel(id: id) }
        }
        try? FileManager.default.removeItem(at: root)
    }

    // MARK: helpers

    func makeJob(_ id: String, _ command: String, environment: [String: String] = [:],
                 secrets: [String: String] = [:], runtime: RuntimeSetup? = nil) throws -> JobSpec {
        let src = executor.jobDirectory(for: id).appendingPathComponent("src", isDirectory: true)
        try FileManager.default.createDirectory(at: src, withIntermediateDirectories: true)
        var env = environment
        env["OUT"] = out.path
        return JobSpec(id: id, object: "g/\(id)", task: "train", command: command, environment: env,
                       secretEnvironment: secrets, runtime: runtime)
    }

    @discardableResult
    func waitFinished(_ id: String, timeout: TimeInterval = 30, executor: LocalExecutor? = nil) throws -> JobState {
        let ex = executor ?? self.executor!
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let state = try ex.poll(id: id)
            if case .finished = state { return state }
            usleep(50_000)
        }
        XCTFail("job \(id) did not finish within \(timeout) s; state \(try ex.poll(id: id))")
        return try ex.poll(id: id)
    }

    func waitUntil(_ timeout: TimeInterval = 15, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    func exitCode(_ state: JobState) -> Int32?? {
        if case .finished(let end) = state { return .some(end.exitCode) }
        return nil
    }

    func outcome(_ state: JobState) -> JobOutcome? {
        if case .finished(let end) = state { return end.outcome }
        return nil
    }

    func log(_ id: String) -> String {
        (try? String(contentsOf: executor.logFile(for: id), encoding: .utf8)) ?? ""
    }

    func outFile(_ name: String) -> String? {
        try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)
    }

    func isRunning(_ id: String) throws -> Bool {
        if case .running = try executor.poll(id: id) { return true }
        return false
    }

    // MARK: tests

    func testSuccessfulJobWritesFileAndLogsStdoutAndStderr() throws {
        let job = try makeJob("ok", #"echo to-stdout; echo to-stderr >&2; pwd > "$OUT/pwd"; echo done > "$OUT/file""#)
        XCTAssertEqual(try executor.poll(id: "ok"), .notFound)
        let pid = try executor.launch(job)
        XCTAssertNotNil(Int32(pid))
        let state = try waitFinished("ok")
        guard case .finished(let end) = state else { return XCTFail() }
        let (startedAt, finishedAt) = (end.startedAt, end.finishedAt)
        XCTAssertEqual(end.executorId, pid)
        XCTAssertEqual(end.exitCode, 0)
        XCTAssertEqual(end.outcome, .succeeded)
        XCTAssertNotNil(startedAt)
        XCTAssertNotNil(finishedAt)
        XCTAssertEqual(outFile("file"), "done\n")
        let dir = executor.jobDirectory(for: "ok").standardizedFileURL.path
        XCTAssertEqual(outFile("pwd")?.trimmingCharacters(in: .newlines),
                       URL(fileURLWithPath: dir + "/src").resolvingSymlinksInPath().path)
        XCTAssertTrue(log("ok").contains("to-stdout\n"))
        XCTAssertTrue(log("ok").contains("to-stderr\n"))
        XCTAssertEqual(executor.logFile(for: "ok").lastPathComponent, "task.log")
        let record = JobRecord.read(executor.jobDirectory(for: "ok"))
        XCTAssertTrue(record.started && record.ended)
        XCTAssertEqual(record.exitCode, 0)
        XCTAssertEqual(record.pid, Int32(pid))
        XCTAssertEqual(record.pgid, Int32(pid))
        XCTAssertEqual(record.startedAt, startedAt)
    }

    /// run.sh started by something that did not write `pid` (as on Slurm), over a stale pid file: it records
    /// its own pid and pgid, the times in order, and leaves no temporary files behind.
    func testScriptRecordsItsOwnFilesWhenRunDirectly() throws {
        let job = try makeJob("direct", "exit 4")
        let dir = executor.jobDirectory(for: "direct")
        try "1 1\n".write(to: dir.appendingPathComponent("pid"), atomically: false, encoding: .utf8)
        let script = dir.appendingPathComponent("run.sh")
        try JobScript.render(job: job, jobDirectory: dir, runtimeCache: root.appendingPathComponent("runtimes"))
            .write(to: script, atomically: false, encoding: .utf8)
        let before = Int(Date().timeIntervalSince1970)
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = [script.path]
        try bash.run()
        bash.waitUntilExit()
        let after = Int(Date().timeIntervalSince1970)
        XCTAssertEqual(bash.terminationStatus, 4)
        func text(_ name: String) -> String? {
            (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8))?.trimmingCharacters(in: .newlines)
        }
        XCTAssertEqual(text("exitcode"), "4")
        let ids = text("pid")?.split(separator: " ").compactMap { Int32($0) } ?? []
        XCTAssertEqual(ids.first, bash.processIdentifier)
        XCTAssertEqual(ids.count, 2)
        XCTAssertEqual(ids.last.map { $0 > 1 }, true, "a real process group, not the stale one")
        guard let started = text("started").flatMap({ Int($0) }), let finished = text("finished").flatMap({ Int($0) })
        else { return XCTFail("started \(text("started") ?? "-"), finished \(text("finished") ?? "-")") }
        XCTAssertTrue(before <= started && started <= finished && finished <= after, "\(before) \(started) \(finished) \(after)")
        // `cgroup` names the job's cgroup where one could be made (see JobProcessesTests).
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().filter { $0 != "cgroup" }
        XCTAssertEqual(names, ["exitcode", "finished", "lock", "pid", "run.sh", "src", "started", "task.log"])
    }

    func testExitCodeIsRecorded() throws {
        try executor.launch(makeJob("three", "echo failing; exit 3"))
        let state = try waitFinished("three")
        XCTAssertEqual(exitCode(state), .some(3))
        XCTAssertEqual(outcome(state), .failed(exitCode: 3))
    }

    func testHandlerKilledBySignalGets128PlusSignal() throws {
        try executor.launch(makeJob("killed", #"kill -KILL $$"#))
        XCTAssertEqual(exitCode(try waitFinished("killed")), .some(137))
    }

    func testLaunchingTwiceRunsOnce() throws {
        let count = out.appendingPathComponent("count").path
        let job = try makeJob("twice", #"echo run >> "$OUT/count"; sleep 1"#)
        let first = try executor.launch(job)
        let second = try executor.launch(job)  // immediately, maybe before run.sh started
        XCTAssertEqual(first, second)
        XCTAssertTrue(try waitUntil { try isRunning("twice") })
        XCTAssertEqual(try executor.launch(job), first)  // while running
        // A second executor (a new reconciler) adopts the job too.
        let other = LocalExecutor(jobsRoot: executor.jobsRoot, runtimeCache: executor.runtimeCache)
        XCTAssertEqual(try other.launch(job), first)
        XCTAssertEqual(exitCode(try waitFinished("twice")), .some(0))
        XCTAssertEqual(try executor.launch(job), first)  // after it finished
        // Nothing of the job can run any more: no run.sh of it is alive and its lock is free.
        XCTAssertTrue(waitUntil { !self.executor.scriptProcessAlive(id: "twice") && !LocalExecutor.lockHeld(self.executor.jobDirectory(for: "twice").appendingPathComponent("lock")) })
        XCTAssertEqual(try String(contentsOfFile: count, encoding: .utf8), "run\n")
        XCTAssertEqual(exitCode(try executor.poll(id: "twice")), .some(0))
    }

    func testConcurrentScriptInstancesRunOnce() throws {
        // Several run.sh instances at once (a requeued Slurm job, a duplicate launch): the lock lets one run.
        let job = try makeJob("race", #"echo run >> "$OUT/count"; sleep 0.5"#)
        let dir = executor.jobDirectory(for: "race")
        let script = dir.appendingPathComponent("run.sh")
        try JobScript.render(job: job, jobDirectory: dir, runtimeCache: executor.runtimeCache)
            .write(to: script, atomically: true, encoding: .utf8)
        let processes = try (0..<4).map { _ -> Process in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [script.path]
            try p.run()
            return p
        }
        for p in processes { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        // Once finished, another instance does nothing either.
        let again = Process()
        again.executableURL = URL(fileURLWithPath: "/bin/bash")
        again.arguments = [script.path]
        try again.run(); again.waitUntilExit()
        XCTAssertEqual(outFile("count"), "run\n")
        XCTAssertEqual(exitCode(try executor.poll(id: "race")), .some(0))
    }

    func testJobSurvivesTheDeathOfItsLauncher() throws {
        // The launcher (standing in for the reconciler) detaches run.sh exactly like `launch`, then is killed -9.
        let job = try makeJob("orphan", #"sleep 1.5; echo survived > "$OUT/survived""#)
        let dir = executor.jobDirectory(for: "orphan")
        let script = dir.appendingPathComponent("run.sh")
        try JobScript.render(job: job, jobDirectory: dir, runtimeCache: executor.runtimeCache)
            .write(to: script, atomically: true, encoding: .utf8)
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: "/bin/bash")
        launcher.arguments = ["-c", LocalExecutor.detachCommand + "\nexec sleep 600", "hone-launch", script.path]
        let pipe = Pipe()
        launcher.standardOutput = pipe
        try launcher.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let jobPid = Int32(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertNotNil(jobPid)
        XCTAssertTrue(try waitUntil { try isRunning("orphan") })
        // The job is in its own session and process group, not the launcher's.
        let jobStat = LocalExecutor.procStat(jobPid!)
        let launcherStat = LocalExecutor.procStat(launcher.processIdentifier)
        XCTAssertEqual(jobStat?.pgrp, jobPid)
        XCTAssertEqual(jobStat?.session, jobPid)
        XCTAssertNotEqual(jobStat?.pgrp, launcherStat?.pgrp)
        kill(launcher.processIdentifier, SIGKILL)
        if let g = launcherStat?.pgrp, g == launcher.processIdentifier { kill(-g, SIGKILL) }
        launcher.waitUntilExit()
        XCTAssertEqual(launcher.terminationReason, .uncaughtSignal)
        XCTAssertEqual(exitCode(try waitFinished("orphan")), .some(0))
        XCTAssertEqual(outFile("survived"), "survived\n")
    }

    func testLauncherHandsTheLockToTheJobButNotToItsHandler() throws {
        // The local executor takes the run-once lock itself and passes it to run.sh as fd 9: run.sh holds it
        // for its whole life, started no `flock` for it, and the handler's processes do not hold it (a
        // leftover daemon of the handler would otherwise keep the job "running").
        let command = #"ls -l /proc/self/fd > "$OUT/fds"; sleep 30"#
        let pid = try executor.launch(makeJob("handover", command))
        XCTAssertTrue(try waitUntil { try isRunning("handover") })
        let dir = executor.jobDirectory(for: "handover")
        XCTAssertTrue(LocalExecutor.lockHeld(dir.appendingPathComponent("lock")))
        let lockTarget = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/9")
        XCTAssertEqual(lockTarget, dir.appendingPathComponent("lock").path)
        XCTAssertTrue(waitUntil { outFile("fds")?.contains("/proc/") == true })
        let fds = try XCTUnwrap(outFile("fds"))
        XCTAssertFalse(fds.contains(dir.appendingPathComponent("lock").path), "the handler holds the lock:\n\(fds)")
        let children = try String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
            .split(separator: " ").compactMap { Int32($0) }
        let names = children.compactMap { try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8) }
        XCTAssertFalse(names.contains("flock\n"), "run.sh started flock: \(names)")
        try executor.cancel(id: "handover")
        XCTAssertFalse(LocalExecutor.lockHeld(dir.appendingPathComponent("lock")))
    }

    func testLaunchStartsNothingWhileAnotherInstanceHoldsTheLock() throws {
        // A run.sh of this job that has not recorded anything yet (a launcher killed right after the spawn)
        // holds the lock: launching again must not start a second one.
        let job = try makeJob("held", #"echo run >> "$OUT/count""#)
        let dir = executor.jobDirectory(for: "held")
        let fd = open(dir.appendingPathComponent("lock").path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        _ = try executor.launch(job)
        // The launch started nothing: no run.sh of this job is alive (polled: a spawned one would show at once).
        XCTAssertTrue(waitUntil { !self.executor.scriptProcessAlive(id: "held") })
        XCTAssertNil(outFile("count"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("started").path))
        close(fd)
        // Once the lock is free, a launch runs it (once).
        _ = try executor.launch(job)
        XCTAssertEqual(exitCode(try waitFinished("held")), .some(0))
        XCTAssertEqual(outFile("count"), "run\n")
    }

    func testALaunchCutOffBeforeTheSpawnIsLaunchedAgain() throws {
        // A reconciler killed after writing run.sh but before spawning it left a script nobody runs and a free
        // lock: the job was never launched, so it is not found (and the next launch runs it once), not Lost.
        let job = try makeJob("cutoff", #"echo run >> "$OUT/count""#)
        let dir = executor.jobDirectory(for: "cutoff")
        try JobScript.render(job: job, jobDirectory: dir, runtimeCache: executor.runtimeCache)
            .write(to: dir.appendingPathComponent("run.sh"), atomically: false, encoding: .utf8)
        FileManager.default.createFile(atPath: dir.appendingPathComponent("lock").path, contents: Data())
        guard case .notFound = try executor.poll(id: "cutoff") else { return XCTFail("\(try executor.poll(id: "cutoff"))") }
        // While a launcher holds the lock, the launch is under way.
        let fd = open(dir.appendingPathComponent("lock").path, O_WRONLY | O_CLOEXEC)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        guard case .pending(_, "Launching") = try executor.poll(id: "cutoff") else { return XCTFail("\(try executor.poll(id: "cutoff"))") }
        close(fd)
        _ = try executor.launch(job)
        XCTAssertEqual(exitCode(try waitFinished("cutoff")), .some(0))
        XCTAssertEqual(outFile("count"), "run\n")
    }

    func testAnEmptyExitCodeFileIsOneBeingWritten() throws {
        // run.sh writes exitcode in one write, without a temporary file: until the line is there, the job has
        // not ended (lock held: running), or its writer died mid-way (lock free: lost, no exit status).
        let pid = try executor.launch(makeJob("partial", "sleep 30"))
        XCTAssertTrue(try waitUntil { try isRunning("partial") })
        let dir = executor.jobDirectory(for: "partial")
        let exitFile = dir.appendingPathComponent("exitcode")
        FileManager.default.createFile(atPath: exitFile.path, contents: Data())
        XCTAssertTrue(try isRunning("partial"))
        XCTAssertFalse(JobRecord.read(dir).ended)
        // Killed with its whole group before it could write the line.
        kill(-(Int32(pid) ?? 0), SIGKILL)
        XCTAssertTrue(waitUntil { !LocalExecutor.lockHeld(dir.appendingPathComponent("lock")) })
        XCTAssertEqual(outcome(try executor.poll(id: "partial")), .lost)
        // A complete line (as cancel writes one) is the job's status.
        try Data("137\n".utf8).write(to: exitFile)
        XCTAssertEqual(exitCode(try executor.poll(id: "partial")), .some(137))
        XCTAssertEqual(JobRecord.read(dir).exitCode, 137)
    }

    func testWaitingEndsWhenAJobEndsAlsoOneLaunchedByAnotherProcess() throws {
        // A job this executor launched (its child) and one it only knows from its job folder (launched by an
        // earlier reconciler: not a child): waiting returns once one of them has ended.
        _ = try executor.launch(makeJob("mine", "sleep 0.3"))
        XCTAssertTrue(executor.waitForAnyEnd(ids: ["mine"], timeout: 60))
        XCTAssertNotNil(exitCode(try executor.poll(id: "mine")))

        let stranger = Process()
        stranger.executableURL = URL(fileURLWithPath: "/bin/bash")
        stranger.arguments = ["-c", "sleep 0.3 >/dev/null 2>&1 & echo $!"]
        let pipe = Pipe()
        stranger.standardOutput = pipe
        try stranger.run()
        stranger.waitUntilExit()
        let pid = try XCTUnwrap(Int32(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let dir = executor.jobDirectory(for: "adopted")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("\(pid) \(pid)\n".utf8).write(to: dir.appendingPathComponent("pid"))
        XCTAssertTrue(executor.waitForAnyEnd(ids: ["adopted"], timeout: 60))
        XCTAssertFalse(LocalExecutor.processAlive(pid))
        // Nothing to watch (no pid recorded): it says so at once instead of waiting.
        XCTAssertFalse(executor.waitForAnyEnd(ids: ["never-launched"], timeout: 60))
    }

    func testJobDoesNotInheritTheLaunchersDescriptors() throws {
        // A reconciler's open files (its repository lock, say) must not be held by a long-lived job.
        let marker = out.appendingPathComponent("held-by-reconciler")
        FileManager.default.createFile(atPath: marker.path, contents: nil)
        let fd = open(marker.path, O_RDONLY)  // no O_CLOEXEC
        defer { close(fd) }
        let pid = try executor.launch(makeJob("fds", "sleep 30"))
        XCTAssertTrue(try waitUntil { try isRunning("fds") })
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        for entry in fds {
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)")
            XCTAssertNotEqual(target, marker.path, "fd \(entry) leaked into the job")
        }
        try executor.cancel(id: "fds")
    }

    func testCancelKillsAGrandchildThatIgnoresSigterm() throws {
        let command = #"(trap '' TERM; exec sleep 300) & echo $! > "$OUT/grandchild"; wait"#
        try executor.launch(makeJob("cancel", command))
        XCTAssertTrue(waitUntil { outFile("grandchild") != nil && outFile("grandchild")!.hasSuffix("\n") })
        XCTAssertTrue(try waitUntil { try isRunning("cancel") })
        let grandchild = Int32(outFile("grandchild")!.trimmingCharacters(in: .whitespacesAndNewlines))!
        XCTAssertTrue(LocalExecutor.processAlive(grandchild))
        let started = Date()
        try executor.cancel(id: "cancel")
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertFalse(LocalExecutor.processAlive(grandchild), "the grandchild survived cancel")
        let state = try executor.poll(id: "cancel")
        XCTAssertEqual(outcome(state), .failed(exitCode: exitCode(state) ?? nil))
        let code = exitCode(state) ?? nil
        XCTAssertTrue(code == 143 || code == 137, "exit code \(String(describing: code)) log: \(log("cancel"))")
        try executor.cancel(id: "cancel")  // cancelling a finished job is not an error
        try executor.cancel(id: "never-launched")
    }

    func testCancelRecordsTheExitCodeWhenTheScriptCannot() throws {
        // The handler ignores SIGTERM, so only SIGKILL ends it, and run.sh dies with it.
        let quick = LocalExecutor(jobsRoot: executor.jobsRoot, runtimeCache: executor.runtimeCache, terminationGrace: 0.5)
        // The marker is written after the trap is set: a SIGTERM that arrives before it would end the
        // handler with 143, which is right but not what this test is about.
        try quick.launch(makeJob("stubborn", #"trap '' TERM; echo > "$OUT/trapped"; sleep 300; sleep 300"#))
        XCTAssertTrue(try waitUntil { try isRunning("stubborn") })
        XCTAssertTrue(waitUntil { outFile("trapped") != nil })
        try quick.cancel(id: "stubborn")
        let state = try quick.poll(id: "stubborn")
        XCTAssertEqual(exitCode(state), .some(137))
    }

    func testJobKilledWithItsGroupIsLost() throws {
        let pid = try executor.launch(makeJob("lost", "sleep 300"))
        XCTAssertTrue(try waitUntil { try isRunning("lost") })
        kill(-Int32(pid)!, SIGKILL)
        XCTAssertTrue(waitUntil { !LocalExecutor.groupAlive(Int32(pid)!) })
        let state = try executor.poll(id: "lost")
        XCTAssertEqual(exitCode(state), .some(nil))
        XCTAssertEqual(outcome(state), .lost)
    }

    func testSecretsAreRedactedAndNeverWritten() throws {
        let secret = #"s3cr3t 'q' "dq" $HOME"#
        let command = #"echo "password is $HONE_DEBUG_PASSWORD!"; echo "$HONE_DEBUG_PASSWORD" >&2; "#
            + #"echo "$HONE_DEBUG_PASSWORD" > "$OUT/seen"; printf 'tail %s' "$HONE_DEBUG_PASSWORD"; exit 5"#
        try executor.launch(makeJob("secret", command, secrets: ["HONE_DEBUG_PASSWORD": secret]))
        let state = try waitFinished("secret")
        XCTAssertEqual(exitCode(state), .some(5))  // the handler's status, not the filter's
        XCTAssertEqual(outFile("seen"), secret + "\n")  // the handler saw the real value
        let text = log("secret")
        XCTAssertTrue(text.contains("password is ***!\n"), text)
        XCTAssertTrue(text.contains("\n***\n"), text)
        XCTAssertTrue(text.contains("tail ***"), text)
        XCTAssertFalse(text.contains(secret))
        XCTAssertFalse(text.contains("s3cr3t"))
        let dir = executor.jobDirectory(for: "secret")
        let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)!
        var checked = 0
        for case let file as URL in files {
            guard let data = try? Data(contentsOf: file) else { continue }
            checked += 1
            XCTAssertNil(data.range(of: Data("s3cr3t".utf8)), "secret in \(file.path)")
        }
        XCTAssertGreaterThanOrEqual(checked, 5)
    }

    func testRedactedLogStreamsWhileTheJobRuns() throws {
        let command = #"echo "early $PW"; sleep 3; echo late"#
        try executor.launch(makeJob("stream", command, secrets: ["PW": "pa55"]))
        XCTAssertTrue(waitUntil(10) { log("stream").contains("early ***\n") }, "log: \(log("stream"))")
        XCTAssertTrue(try isRunning("stream"))
        XCTAssertEqual(exitCode(try waitFinished("stream")), .some(0))
        XCTAssertEqual(log("stream"), "early ***\nlate\n")
    }

    func testEnvironmentValuesArriveIntact() throws {
        let tricky = "a 'single' \"double\" $HOME `date` \\back; $(echo no) \n second line"
        let command = #"printf '%s' "$TRICKY" > "$OUT/tricky"; printf '%s' "$PLAIN" > "$OUT/plain"; echo 'it''s' "$""#
        try executor.launch(makeJob("env", command, environment: ["TRICKY": tricky, "PLAIN": "x y"]))
        XCTAssertEqual(exitCode(try waitFinished("env")), .some(0))
        XCTAssertEqual(outFile("tricky"), tricky)
        XCTAssertEqual(outFile("plain"), "x y")
        XCTAssertTrue(log("env").contains("its $\n"), log("env"))
    }

    func testRuntimeIsCreatedOnceAndReused() throws {
        let runtime = RuntimeSetup(digest: "rt-\(UUID().uuidString.prefix(6).lowercased())", python: "python3",
                                   requirements: [], systemSitePackages: true,
                                   environment: ["RT_VAR": "from runtime", "PIP_NO_INDEX": "1"])
        let command = #"command -v python > "$OUT/python-$HONE_N"; python -c 'import sys; print(sys.prefix)' > "$OUT/prefix-$HONE_N"; echo "$RT_VAR" > "$OUT/rt-$HONE_N""#
        // Two jobs at once: one builds, the other waits for it.
        try executor.launch(makeJob("rt-a", command, environment: ["HONE_N": "a"], runtime: runtime))
        try executor.launch(makeJob("rt-b", command, environment: ["HONE_N": "b"], runtime: runtime))
        XCTAssertEqual(exitCode(try waitFinished("rt-a", timeout: 120)), .some(0), log("rt-a"))
        XCTAssertEqual(exitCode(try waitFinished("rt-b", timeout: 120)), .some(0), log("rt-b"))
        try executor.launch(makeJob("rt-c", command, environment: ["HONE_N": "c"], runtime: runtime))
        XCTAssertEqual(exitCode(try waitFinished("rt-c", timeout: 60)), .some(0), log("rt-c"))

        let creations = ["rt-a", "rt-b", "rt-c"].filter { log($0).contains("hone: creating runtime") }
        XCTAssertEqual(creations.count, 1, "logs: \(["rt-a", "rt-b", "rt-c"].map(log))")
        XCTAssertFalse(log("rt-c").contains("creating runtime"))
        let venv = executor.runtimeCache.appendingPathComponent(runtime.digest).standardizedFileURL.path
        for n in ["a", "b", "c"] {
            XCTAssertEqual(outFile("python-\(n)"), venv + "/bin/python\n")
            XCTAssertEqual(outFile("rt-\(n)"), "from runtime\n")
            let prefix = outFile("prefix-\(n)")?.trimmingCharacters(in: .newlines) ?? ""
            XCTAssertTrue(prefix.hasPrefix(executor.runtimeCache.standardizedFileURL.path), prefix)
        }
        let builds = try FileManager.default.contentsOfDirectory(atPath: executor.runtimeCache.path)
            .filter { $0.hasPrefix(".\(runtime.digest).") && !$0.hasSuffix(".lock") }
        XCTAssertEqual(builds.count, 1, "\(builds)")
    }

    func testRuntimeThatCannotBeCreatedFailsWith97() throws {
        let runtime = RuntimeSetup(digest: "broken-\(UUID().uuidString.prefix(6).lowercased())", python: "python3",
                                   requirements: ["/nonexistent/pkg"], systemSitePackages: true,
                                   environment: ["PIP_NO_INDEX": "1"])
        try executor.launch(makeJob("broken", #"echo ran > "$OUT/ran""#, runtime: runtime))
        let state = try waitFinished("broken", timeout: 120)
        XCTAssertEqual(exitCode(state), .some(97), log("broken"))
        XCTAssertTrue(log("broken").contains("runtime creation failed"), log("broken"))
        XCTAssertNil(outFile("ran"))
        // Never half-used: no venv under the digest.
        let venv = executor.runtimeCache.appendingPathComponent(runtime.digest)
        XCTAssertFalse(FileManager.default.fileExists(atPath: venv.path))
    }

    func testRenderedScriptQuotesAndHoldsNoSecret() {
        let job = JobSpec(id: "q", object: "g/q", task: "train", command: #"echo "it's $HOME""#,
                          environment: ["A": "it's"], secretEnvironment: ["PW": "hunter2"])
        let text = JobScript.render(job: job, jobDirectory: URL(fileURLWithPath: "/tmp/with space/q"),
                                    runtimeCache: URL(fileURLWithPath: "/tmp/rt"))
        XCTAssertFalse(text.contains("hunter2"))
        XCTAssertTrue(text.contains(#"HONE_COMMAND='echo "it'\''s $HOME"'"#))
        XCTAssertTrue(text.contains(#"export A='it'\''s'"#))
        XCTAssertTrue(text.contains(#"HONE_JOBDIR='/tmp/with space/q'"#))
        XCTAssertThrowsError(try executor.launch(JobSpec(id: "../x", object: "g/x", task: "t", command: "true")))
    }
}
