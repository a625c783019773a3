import Foundation
import XCTest
@testable import HoneExecutors
import HoneModel

/// The Slurm executor against a REAL single-node cluster (scripts/slurm-cluster.sh), never fake sbatch scripts.
///
/// The cluster lives in $HONE_SLURM_TEST_DIR (default /tmp/hone-slurm-tests); it is started when `sinfo` does not
/// answer. When $CI is set and the cluster cannot be started the tests FAIL; elsewhere they are skipped with a
/// loud message. `testSlow_TimeLimitKillsJob` takes 60–90 s (Slurm enforces --time in whole minutes); set
/// HONE_SLURM_SKIP_SLOW=1 to skip it while iterating.
final class SlurmExecutorTests: XCTestCase {
    // MARK: Cluster

    struct Cluster: Sendable {
        var dir: URL
        var environment: [String: String]
    }

    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Started (or found) once per test process.
    static let cluster: Result<Cluster, ExecutorError> = {
        let env = ProcessInfo.processInfo.environment
        let dir = URL(fileURLWithPath: env["HONE_SLURM_TEST_DIR"] ?? "/tmp/hone-slurm-tests")
        var clusterEnv = env
        clusterEnv["SLURM_CONF"] = dir.appendingPathComponent("slurm.conf").path
        if !(env["PATH"] ?? "").contains("/usr/sbin") { clusterEnv["PATH"] = (env["PATH"] ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin" }
        let runner = SlurmCommandRunner(environment: clusterEnv, timeout: 30)
        func answers() -> Bool {
            guard let r = try? runner.run("sinfo", ["-h", "-o", "%t"]), r.succeeded else { return false }
            return ["idle", "mix", "alloc"].contains(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                .trimmingCharacters(in: CharacterSet(charactersIn: "*~#!%$@^-")))
        }
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("slurm.conf").path), answers() {
            return .success(Cluster(dir: dir, environment: clusterEnv))
        }
        let script = repoRoot.appendingPathComponent("scripts/slurm-cluster.sh").path
        let start = SlurmCommandRunner(environment: clusterEnv, timeout: 600)
        do {
            let r = try start.run("/bin/bash", [script, "start", dir.path])
            guard r.succeeded else {
                return .failure(ExecutorError("`\(script) start \(dir.path)` failed (exit \(r.status)):\n\(r.stderr)\(r.stdout)"))
            }
        } catch {
            return .failure(error as? ExecutorError ?? ExecutorError("\(error)"))
        }
        guard answers() else { return .failure(ExecutorError("the cluster started but `sinfo` does not report the node idle")) }
        return .success(Cluster(dir: dir, environment: clusterEnv))
    }()

    var cluster: Cluster!
    var workdir: URL!
    /// Makes ids unique across runs: the cluster (and its jobcomp file) outlives a test run.
    let nonce = String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36) + String(Int.random(in: 0..<1296), radix: 36)

    override func setUpWithError() throws {
        switch Self.cluster {
        case .success(let c):
            cluster = c
            workdir = c.dir.appendingPathComponent("work", isDirectory: true)
        case .failure(let error):
            let message = "SLURM CLUSTER UNAVAILABLE — Slurm executor tests cannot run: \(error.message)"
            if ProcessInfo.processInfo.environment["CI"] != nil {
                XCTFail(message)
                throw error
            }
            print("\n*** \(message) ***\n")
            throw XCTSkip(message)
        }
    }

    func makeExecutor(_ settings: ((inout SlurmPoolSettings) -> Void)? = nil) -> SlurmExecutor {
        var s = SlurmPoolSettings(workdir: workdir.path)
        settings?(&s)
        return SlurmExecutor(settings: s, workdir: workdir, environment: cluster.environment)
    }

    func jobId(_ name: String) -> String { "t-\(nonce)-\(name)" }

    func spec(_ name: String, _ command: String, env: [String: String] = [:], secrets: [String: String] = [:],
              timeLimit: Int? = nil) -> JobSpec {
        JobSpec(id: jobId(name), object: "tests/\(name)", task: "train", command: command,
                environment: env, secretEnvironment: secrets, timeLimitSeconds: timeLimit)
    }

    /// Prepares the job directory as the engine would (src/, out/).
    func prepare(_ executor: SlurmExecutor, _ job: JobSpec) throws -> URL {
        let dir = executor.jobDirectory(for: job.id)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("src"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        return dir
    }

    @discardableResult
    func waitFor(_ executor: SlurmExecutor, _ id: String, timeout: TimeInterval = 60, what: String,
                 _ done: (JobState) -> Bool) throws -> JobState {
        let deadline = Date().addingTimeInterval(timeout)
        var last = JobState.notFound
        while Date() < deadline {
            last = try executor.poll(id: id)
            if done(last) { return last }
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTFail("timed out after \(Int(timeout))s waiting for \(what) of \(id); last state: \(last)\n\(diagnostics(executor, id))")
        throw ExecutorError("timeout")
    }

    func waitFinished(_ executor: SlurmExecutor, _ id: String, timeout: TimeInterval = 60) throws -> JobEnd {
        let state = try waitFor(executor, id, timeout: timeout, what: "the end") {
            if case .finished = $0 { return true } else { return false }
        }
        guard case let .finished(end) = state else { throw ExecutorError("unreachable") }
        return end
    }

    func waitRunning(_ executor: SlurmExecutor, _ id: String, timeout: TimeInterval = 60) throws {
        try waitFor(executor, id, timeout: timeout, what: "RUNNING") {
            if case .running = $0 { return true }
            if case .finished = $0 { XCTFail("\(id) finished before it was seen running: \($0)"); return true }
            return false
        }
    }

    func isRunning(_ s: JobState) -> Bool { if case .running = s { return true } else { return false } }

    func diagnostics(_ executor: SlurmExecutor, _ id: String) -> String {
        let dir = executor.jobDirectory(for: id)
        var text = ""
        for f in ["slurm.out", "task.log", "exitcode", "slurm-id"] {
            if let s = try? String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8) { text += "--- \(f):\n\(s)\n" }
        }
        if let r = try? executor.runner.run("squeue", ["-h", "-t", "all", "-o", "%i %j %T %r"]) { text += "--- squeue:\n\(r.stdout)\(r.stderr)" }
        return text
    }

    func namedIds(_ executor: SlurmExecutor, _ id: String) throws -> [String] {
        try executor.squeueIds(name: id)
    }

    // MARK: Cases

    /// sbatch exports its own environment to the job (--export=ALL): it is the job's policy's, so the
    /// reconciler's push token, git credentials and other evals' debug passwords never reach a job on Slurm.
    func testJobsGetNoneOfTheReconcilersCredentials() throws {
        var env = cluster.environment
        env["HONE_REMOTE_URL"] = "https://user:tok3n-slurm-1@host.invalid/x.git"
        env["GITHUB_TOKEN"] = "gh-tok3n-slurm-2"
        env["HONE_DEBUG_PASSWORD"] = "pw-slurm-other-3"
        env["HONE_KEPT"] = "an ordinary variable"
        let ex = SlurmExecutor(settings: SlurmPoolSettings(workdir: workdir.path), workdir: workdir, environment: env)
        var job = spec("policy", #"env; echo "own=$MY_PW""#, secrets: ["MY_PW": "pw-slurm-own-4"])
        job.environmentPolicy = JobEnvironmentPolicy(withheldNames: ["MY_PW"], withheldValues: ["tok3n-slurm-1"])
        _ = try prepare(ex, job)
        try ex.launch(job)
        XCTAssertEqual(try waitFinished(ex, job.id).exitCode, 0, diagnostics(ex, job.id))
        let log = try String(contentsOf: ex.logFile(for: job.id), encoding: .utf8)
        XCTAssertTrue(log.contains("HONE_KEPT=an ordinary variable"), log)
        XCTAssertTrue(log.contains("own=***"), "the job's own secret arrives (redacted in the log): \(log)")
        for leaked in ["HONE_REMOTE_URL", "GITHUB_TOKEN", "HONE_DEBUG_PASSWORD", "tok3n-slurm", "pw-slurm-other"] {
            XCTAssertFalse(log.contains(leaked), "\(leaked) reached the job: \(log)")
        }
    }

    func testJobSucceedsWithOutputAndLog() throws {
        let ex = makeExecutor()
        let job0 = spec("ok", "")
        let dir = try prepare(ex, job0)
        let result = dir.appendingPathComponent("out/result.txt")
        let job = spec("ok", #"echo "hello from $HONE_GREETING"; echo "secret-length=${#HONE_SECRET}"; echo "secret=$HONE_SECRET"; echo done > "$RESULT_FILE""#,
                       env: ["HONE_GREETING": "slurm", "RESULT_FILE": result.path],
                       secrets: ["HONE_SECRET": "s3cr3t-value"])
        let slurmId = try ex.launch(job)
        XCTAssertFalse(slurmId.isEmpty)
        XCTAssertEqual(try String(contentsOf: ex.slurmIdFile(for: job.id), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), slurmId)
        let end = try waitFinished(ex, job.id)
        XCTAssertEqual(end.exitCode, 0, diagnostics(ex, job.id))
        XCTAssertEqual(end.outcome, .succeeded)
        XCTAssertNotNil(end.startedAt)
        XCTAssertNotNil(end.finishedAt)
        if let s = end.startedAt, let f = end.finishedAt { XCTAssertLessThanOrEqual(s, f) }
        XCTAssertEqual(try String(contentsOf: result, encoding: .utf8), "done\n")
        let log = try String(contentsOf: ex.logFile(for: job.id), encoding: .utf8)
        XCTAssertTrue(log.contains("hello from slurm"), log)
        XCTAssertTrue(log.contains("secret-length=12"), "the secret must reach the job through sbatch's environment: \(log)")
        XCTAssertTrue(log.contains("secret=***"), "the secret is redacted from the log: \(log)")
        // The secret is never written to disk in the job directory.
        for file in try FileManager.default.subpathsOfDirectory(atPath: dir.path) {
            let content = (try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)) ?? ""
            XCTAssertFalse(content.contains("s3cr3t-value"), "secret written to \(file)")
        }
        // Polling again after the end is stable.
        guard case let .finished(again) = try ex.poll(id: job.id) else { return XCTFail("not finished") }
        XCTAssertEqual(again.executorId, slurmId); XCTAssertEqual(again.exitCode, 0); XCTAssertEqual(again.outcome, .succeeded)
    }

    func testJobExitingThreeIsFailed() throws {
        let ex = makeExecutor()
        let job = spec("exit3", "echo about to fail; exit 3")
        _ = try prepare(ex, job)
        _ = try ex.launch(job)
        let end = try waitFinished(ex, job.id)
        XCTAssertEqual(end.exitCode, 3, diagnostics(ex, job.id))
        XCTAssertEqual(end.outcome, .failed(exitCode: 3))
        XCTAssertTrue(try String(contentsOf: ex.logFile(for: job.id), encoding: .utf8).contains("about to fail"))
    }

    func testCancelWhileRunningStopsTheHandler() throws {
        let ex = makeExecutor()
        let job0 = spec("cancel", "")
        let dir = try prepare(ex, job0)
        let ticks = dir.appendingPathComponent("out/ticks")
        let writer = dir.appendingPathComponent("out/writer.pid")
        let job = spec("cancel", #"echo $$ > "$WRITER"; while true; do date +%s%N >> "$TICKS"; sleep 0.2; done"#,
                       env: ["TICKS": ticks.path, "WRITER": writer.path])
        _ = try ex.launch(job)
        try waitRunning(ex, job.id)
        // Wait for the handler itself to be ticking (RUNNING can precede the script's start).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, ((try? Data(contentsOf: ticks))?.count ?? 0) == 0 { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertGreaterThan((try? Data(contentsOf: ticks))?.count ?? 0, 0, "the handler never started")
        try ex.cancel(id: job.id)
        let end = try waitFinished(ex, job.id, timeout: 30)
        guard case .cancelled = end.outcome else { return XCTFail("\(end.outcome)\n" + diagnostics(ex, job.id)) }
        XCTAssertNotEqual(end.exitCode, 0)
        // The shell that writes the ticks is gone (polled, with a deadline): nothing of the handler runs on.
        assertGone(writer)
        // Cancelling again, or cancelling an unknown id, is fine.
        XCTAssertNoThrow(try ex.cancel(id: job.id))
        XCTAssertNoThrow(try ex.cancel(id: jobId("never-launched")))
    }

    /// The node is this machine (single-node test cluster): the handler's pids can be checked here.
    func assertGone(_ pidFile: URL, file: StaticString = #filePath, line: UInt = #line) {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return XCTFail("the handler wrote no \(pidFile.lastPathComponent)", file: file, line: line)
        }
        func alive() -> Bool {
            guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
        }
        let deadline = Date().addingTimeInterval(10)
        while alive() && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(alive(), "\(pidFile.lastPathComponent) (\(pid)) outlived its job", file: file, line: line)
        if alive() { kill(pid, SIGKILL) }
    }

    func testBackgroundChildAndSetsidDaemonEndWithTheJob() throws {
        // proctrack/linuxproc (the test cluster's) loses a setsid daemon reparented to init: run.sh ends it.
        let ex = makeExecutor()
        let dir = try prepare(ex, spec("leaves", ""))
        let child = dir.appendingPathComponent("out/child.pid"), daemon = dir.appendingPathComponent("out/daemon.pid")
        let job = spec("leaves", #"sleep 120 & echo $! > "$CHILD"; setsid sleep 120 & echo $! > "$DAEMON"; true"#,
                       env: ["CHILD": child.path, "DAEMON": daemon.path])
        _ = try ex.launch(job)
        let end = try waitFinished(ex, job.id)
        XCTAssertEqual(end.exitCode, 0, diagnostics(ex, job.id))
        assertGone(child)
        assertGone(daemon)
    }

    func testCancelEndsASetsidDaemon() throws {
        let ex = makeExecutor()
        let dir = try prepare(ex, spec("daemon", ""))
        let daemon = dir.appendingPathComponent("out/daemon.pid")
        // Orphaned at once (its parent subshell exits): no longer a descendant of the job for proctrack/linuxproc.
        let job = spec("daemon", #"( setsid sleep 120 & echo $! > "$DAEMON" ); sleep 120"#, env: ["DAEMON": daemon.path])
        _ = try ex.launch(job)
        try waitRunning(ex, job.id)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !FileManager.default.fileExists(atPath: daemon.path) { Thread.sleep(forTimeInterval: 0.1) }
        try ex.cancel(id: job.id)
        _ = try waitFinished(ex, job.id, timeout: 60)
        assertGone(daemon)
    }

    func testLaunchTwiceSubmitsOneJob() throws {
        let ex = makeExecutor()
        let job = spec("twice", "sleep 2; echo once")
        _ = try prepare(ex, job)
        let first = try ex.launch(job)
        let second = try ex.launch(job)
        XCTAssertEqual(first, second)
        // A reconciler killed between sbatch and writing slurm-id: the job name still finds it.
        try FileManager.default.removeItem(at: ex.slurmIdFile(for: job.id))
        let third = try ex.launch(job)
        XCTAssertEqual(first, third)
        XCTAssertEqual(try namedIds(ex, job.id), [first])
        let end = try waitFinished(ex, job.id)
        XCTAssertEqual(end.exitCode, 0)
        XCTAssertEqual(try namedIds(ex, job.id), [first])
        // slurmctld writes the jobcomp record as the job ends; give it a moment.
        let logged = Date().addingTimeInterval(30)
        while ex.sacctIds(name: job.id).isEmpty && Date() < logged { Thread.sleep(forTimeInterval: 0.25) }
        XCTAssertEqual(ex.sacctIds(name: job.id), [first], "the job completion log holds exactly one job")
        // The jobcomp fallback poll uses once slurmctld has purged the job (after MinJobAge).
        let acct = ex.sacctInfo(first, name: job.id)
        XCTAssertEqual(acct?.state, "COMPLETED")
        XCTAssertEqual(acct?.exitCode, 0)
        XCTAssertNotNil(acct?.finishedAt)
        // Launching after the end starts nothing either.
        XCTAssertEqual(try ex.launch(job), first)
        XCTAssertEqual(try namedIds(ex, job.id), [first])
    }

    func testRestartedExecutorFindsAndPollsTheJob() throws {
        let first = makeExecutor()
        let job = spec("restart", "sleep 3; exit 0")
        _ = try prepare(first, job)
        let slurmId = try first.launch(job)

        let second = makeExecutor()  // a reconciler restarted after kill -9
        switch try second.poll(id: job.id) {
        case .pending(let id, _), .running(let id, _): XCTAssertEqual(id, slurmId)
        case .finished(let end): XCTAssertEqual(end.executorId, slurmId)
        case .notFound: XCTFail("a new executor instance did not find \(job.id)")
        }
        XCTAssertEqual(try second.launch(job), slurmId)
        let end = try waitFinished(second, job.id)
        XCTAssertEqual(end.exitCode, 0)
        XCTAssertEqual(end.outcome, .succeeded)

        // Even with its job directory's slurm-id gone, a third instance finds it by name.
        try FileManager.default.removeItem(at: second.slurmIdFile(for: job.id))
        let third = makeExecutor()
        guard case let .finished(found) = try third.poll(id: job.id) else { return XCTFail("not found by name") }
        XCTAssertEqual(found.executorId, slurmId); XCTAssertEqual(found.exitCode, 0)
        XCTAssertEqual(try third.poll(id: jobId("unknown")), .notFound)
    }

    func testTwoJobsRunInParallel() throws {
        let ex = makeExecutor()
        let a = spec("par-a", "sleep 8"), b = spec("par-b", "sleep 8")
        _ = try prepare(ex, a); _ = try prepare(ex, b)
        _ = try ex.launch(a); _ = try ex.launch(b)
        let deadline = Date().addingTimeInterval(30)
        var both = false
        var last: (JobState, JobState) = (.notFound, .notFound)
        while Date() < deadline {
            last = (try ex.poll(id: a.id), try ex.poll(id: b.id))
            if isRunning(last.0) && isRunning(last.1) { both = true; break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTAssertTrue(both, "the two jobs were never RUNNING at once: \(last)\n\(diagnostics(ex, b.id))")
        try ex.cancel(id: a.id); try ex.cancel(id: b.id)
        _ = try waitFinished(ex, a.id); _ = try waitFinished(ex, b.id)
    }

    func testSbatchArguments() throws {
        let ex = makeExecutor {
            $0.partition = "gpu"; $0.gres = "gpu:1"; $0.cpusPerTask = 4; $0.mem = "16G"
            $0.account = "ml"; $0.qos = "high"; $0.constraint = "a100"; $0.extraArgs = ["--nice=10"]
        }
        let job = spec("args", "true", timeLimit: 61)
        let args = ex.sbatchArguments(for: job, script: URL(fileURLWithPath: "/x/run.sh"))
        let dir = ex.jobDirectory(for: job.id).path
        XCTAssertEqual(args, [
            "--parsable", "--job-name=\(job.id)", "--comment=hone:tests/args", "--chdir=\(dir)",
            "--output=\(dir)/slurm.out", "--error=\(dir)/slurm.out", "--export=ALL",
            "--partition=gpu", "--gres=gpu:1", "--cpus-per-task=4", "--mem=16G", "--account=ml", "--qos=high",
            "--constraint=a100", "--time=2", "--nice=10", "/x/run.sh",
        ])
        XCTAssertEqual(SlurmExecutor.parseExitCode("3:0"), 3)
        XCTAssertEqual(SlurmExecutor.parseExitCode("0:15"), 143)
        XCTAssertEqual(SlurmExecutor.normalizeState("CANCELLED by 0"), "CANCELLED")
        XCTAssertEqual(SlurmExecutor.parseParsable("42;cluster\n"), "42")
        XCTAssertNil(SlurmExecutor.parseDate("Unknown"))
    }

    func testSubmitErrorNamesCommandAndStderr() throws {
        let ex = makeExecutor { $0.partition = "no-such-partition" }
        let job = spec("badpart", "true")
        _ = try prepare(ex, job)
        XCTAssertThrowsError(try ex.launch(job)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("sbatch"), text)
            XCTAssertTrue(text.lowercased().contains("partition"), text)
        }
    }

    /// SLOW (60–90 s): Slurm's own --time limit. timeLimitSeconds 60 → --time=1, enforced about every 30 s.
    func testSlow_TimeLimitKillsJob() throws {
        if ProcessInfo.processInfo.environment["HONE_SLURM_SKIP_SLOW"] == "1" {
            throw XCTSkip("HONE_SLURM_SKIP_SLOW=1: skipping the 60–90 s time-limit test")
        }
        let ex = makeExecutor()
        let job = spec("timeout", "echo start; sleep 600", timeLimit: 60)
        _ = try prepare(ex, job)
        let began = Date()
        _ = try ex.launch(job)
        let end = try waitFinished(ex, job.id, timeout: 180)
        let took = Date().timeIntervalSince(began)
        XCTAssertEqual(end.outcome, .timedOut, diagnostics(ex, job.id))
        XCTAssertNotEqual(end.exitCode, 0)
        XCTAssertGreaterThanOrEqual(took, 55, "killed before its limit")
        print("time-limit test: Slurm ended the job after \(Int(took)) s")
    }
}
