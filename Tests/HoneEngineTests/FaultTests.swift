import Foundation
import HoneModel
import XCTest

/// A reconciler killed anywhere (kill -9) loses nothing and launches nothing twice; two at once are
/// serialised. Oracles: the counter file outside the repository (what really ran), the statuses,
/// `git status --porcelain` and `git fsck`.
final class FaultTests: XCTestCase {
    /// Two runs (one publishes), an eval of a run's draft and an eval of the published model: every
    /// kind of commit (intent, launch, collect, publish) happens, over several passes.
    func makeRepo() throws -> HoneRepo {
        let repo = try HoneRepo(maxParallel: 2)
        try repo.run("r1", params: "sleep: 0.2", extra: "publish: {model: m, as: new}")
        try repo.run("r2", params: "sleep: 0.2")
        try repo.eval("e1", source: "fromRun: r2")
        try repo.eval("e2", source: "model: m@v1")
        try repo.commit("work")
        return repo
    }

    func assertEverythingRanExactlyOnce(_ repo: HoneRepo, file: StaticString = #filePath, line: UInt = #line) throws {
        for object in ["g/r1", "g/r2", "g/e1", "g/e2"] {
            XCTAssertEqual(repo.executions(of: object), 1, "\(object) ran \(repo.executions(of: object)) times: \(repo.executions)", file: file, line: line)
        }
        XCTAssertEqual(repo.executions.count, 4, file: file, line: line)
        for s in [repo.status("r1"), repo.status("r2"), repo.evalStatus("e1"), repo.evalStatus("e2")] {
            let s = try XCTUnwrap(s, file: file, line: line)
            XCTAssertEqual(s.phase, .succeeded, "\(s.key.display): \(s.events)", file: file, line: line)
            XCTAssertFalse(s.metrics.isEmpty, "\(s.key.display) lost its metrics", file: file, line: line)
            XCTAssertEqual(s.attempt, 1, file: file, line: line)
            XCTAssertTrue(repo.exists(s.tasks.first?.log ?? "-"), "\(s.key.display) lost its log", file: file, line: line)
            // Collected without ever being seen running (the reconciler died after launch): the times still come
            // from the job's own record.
            XCTAssertNotNil(s.startedAt, "\(s.key.display) has no start time", file: file, line: line)
            XCTAssertNotNil(s.tasks.first?.startedAt, "\(s.key.display)'s task has no start time", file: file, line: line)
            XCTAssertNotNil(s.tasks.first?.finishedAt, "\(s.key.display)'s task has no end time", file: file, line: line)
        }
        XCTAssertNotNil(repo.status("r1")?.run?.model?.sha256)
        XCTAssertEqual(repo.evalStatus("e1")?.eval?.resultsRows, 2, file: file, line: line)
        XCTAssertTrue(repo.read("models/m/v1.yaml")?.contains("publishedFrom: g/r1") == true, file: file, line: line)
        XCTAssertFalse(repo.exists("models/m/v2.yaml"), file: file, line: line)
        try repo.assertHealthy(file: file, line: line)
        // The repository is at rest: one more reconcile changes nothing.
        let count = repo.commitCount
        try repo.reconcile(file: file, line: line)
        XCTAssertEqual(repo.commitCount, count, "a reconcile after recovery still had work to do", file: file, line: line)
        XCTAssertEqual(repo.executions.count, 4, file: file, line: line)
    }

    /// Reconciles with HONE_CRASH_AT=point until a run gets through without reaching it (each run dies
    /// at its first hit), then once more normally.
    func crashRepeatedly(at point: String) throws {
        let repo = try makeRepo()
        var crashes = 0
        for _ in 0..<20 {
            let r = try repo.hone(["reconcile", "--wait"], env: ["HONE_CRASH_AT": point])
            if r.status == 0 { break }
            XCTAssertTrue(r.stderr.contains("HONE_CRASH_AT=\(point)"), "unexpected failure: \(r.output)")
            XCTAssertEqual(r.status, SIGKILL, r.output)
            crashes += 1
        }
        XCTAssertGreaterThan(crashes, 0, "the crash point \(point) was never reached")
        try repo.reconcile()
        try assertEverythingRanExactlyOnce(repo)
    }

    func testCrashAfterIntentCommit() throws { try crashRepeatedly(at: "after-intent-commit") }
    func testCrashAfterLaunch() throws { try crashRepeatedly(at: "after-launch") }
    func testCrashBeforeCollect() throws { try crashRepeatedly(at: "before-collect") }
    func testCrashMidCommit() throws { try crashRepeatedly(at: "mid-commit") }

    func testTwoReconcilersStartedAtOnceLaunchNothingTwice() throws {
        let repo = try makeRepo()
        let a = try repo.start(["reconcile", "--wait"])
        let b = try repo.start(["reconcile", "--wait"])
        a.process.waitUntilExit()
        b.process.waitUntilExit()
        let logs = [a.log, b.log].map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }
        for (p, log) in zip([a.process, b.process], logs) {
            XCTAssertTrue(p.terminationStatus == 0 || log.contains("another reconcile holds"), log)
        }
        try repo.reconcile()
        try assertEverythingRanExactlyOnce(repo)
    }

    func testKilledAtRandomMomentsDuringWaitThenFinished() throws {
        let repo = try makeRepo()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let r = try repo.start(["reconcile", "--wait"])
            usleep(UInt32.random(in: 50_000...700_000, using: &generator))
            kill(r.process.processIdentifier, SIGKILL)
            r.process.waitUntilExit()
        }
        try repo.reconcile()
        try assertEverythingRanExactlyOnce(repo)
    }

    /// `rm -rf .hone` while a job runs: the job is not Lost while its process runs (found again by the pid in
    /// its status and its command line), `.hone/` comes back with its ignore rule (so `git add -A` commits none
    /// of it), and the job is recorded Lost only once its process is really gone.
    /// kill -9 while libgit2 held the branch's or the index's lock file leaves it behind; git would refuse
    /// every later write until someone removed it by hand. The next reconcile removes it, says so and goes on.
    func testLockFilesLeftByAKilledWriterAreRemovedAndTheWorkGoesOn() throws {
        let repo = try makeRepo()
        let old = Date().addingTimeInterval(-60)
        for name in ["refs/heads/main.lock", "index.lock"] {
            let url = repo.root.appendingPathComponent(".git/" + name)
            XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: Data("0000\n".utf8)))
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: url.path)
        }
        let r = try repo.reconcile()
        XCTAssertTrue(r.stderr.contains("removed .git/refs/heads/main.lock"), r.stderr)
        XCTAssertTrue(r.stderr.contains("removed .git/index.lock"), r.stderr)
        XCTAssertFalse(repo.exists(".git/refs/heads/main.lock"))
        XCTAssertFalse(repo.exists(".git/index.lock"))
        try assertEverythingRanExactlyOnce(repo)
    }

    func testRemovingDotHoneWhileAJobRunsKeepsItRunningUntilItsProcessIsGone() throws {
        let repo = try HoneRepo()
        try repo.run("long", params: "sleep: 600")
        try repo.commit("long")
        var pid: Int32 = 0
        defer { if pid > 1 { kill(-pid, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while repo.status("long")?.phase != .running && Date() < deadline { try repo.reconcile([]) }
        let running = try XCTUnwrap(repo.status("long"))
        XCTAssertEqual(running.phase, .running, "\(running.events)")
        pid = try XCTUnwrap(running.tasks.first?.executorId.flatMap { Int32($0) })
        // The handler has read its job.json and is working (it counts itself first).
        while repo.executions(of: "g/long") == 0 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(repo.executions(of: "g/long"), 1)

        try FileManager.default.removeItem(at: repo.url(".hone"))
        let r = try repo.reconcile([])
        let kept = try XCTUnwrap(repo.status("long"))
        XCTAssertEqual(kept.phase, .running, "marked \(kept.phase) while its process runs: \(kept.events)\n\(r.output)")
        XCTAssertNil(kept.event("Lost"))
        XCTAssertEqual(repo.read(".hone/.gitignore")?.contains("\n*\n"), true, "the ignore rule came back")
        XCTAssertEqual(try repo.porcelain(), "")
        try repo.git("add", "-A")
        XCTAssertEqual(try repo.git("diff", "--cached", "--name-only"), "", "git add -A would commit .hone/")

        kill(-pid, SIGKILL)
        let gone = Date().addingTimeInterval(30)
        while FileManager.default.fileExists(atPath: "/proc/\(pid)/cmdline"),
              (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") != true, Date() < gone {
            usleep(20_000)
        }
        try repo.reconcile([])
        let lost = try XCTUnwrap(repo.status("long"))
        XCTAssertEqual(lost.phase, .failed, "\(lost.events)")
        XCTAssertNotNil(lost.event("Lost"), "\(lost.eventReasons)")
        XCTAssertEqual(repo.executions(of: "g/long"), 1)
        try repo.assertHealthy()
    }

    /// `rm -rf .hone` under a running `reconcile --wait`: the job is adopted while its process runs, recorded
    /// Lost once it has ended without a trace, the reconciler keeps the repository lock (its file is made
    /// again), and the `.hone/` that the reconciler writes again has its ignore rule (`git status` stays clean:
    /// nothing of the jobs or the store could be committed by `git add -A`).
    func testRemovingDotHoneUnderAWaitingReconcilerBringsBackTheIgnoreRule() throws {
        let repo = try HoneRepo()
        let go = repo.base.appendingPathComponent("go")
        try repo.run("gate", params: "waitFor: \"\(go.path)\"")
        try repo.commit("gate")
        let reconciler = try repo.start(["reconcile", "--wait"])
        defer { if reconciler.process.isRunning { kill(reconciler.process.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(30)
        while repo.executions(of: "g/gate") == 0 && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(repo.executions(of: "g/gate"), 1, "the handler never started")
        // As a person would: `rm -rf .hone`, again if the reconciler wrote there meanwhile (not empty).
        var removed = false
        for _ in 1...50 where !removed {
            removed = try HoneRepo.exec("/bin/rm", ["-rf", ".hone"], in: repo.root, env: [:]).status == 0
        }
        XCTAssertTrue(removed)
        let jobPid = repo.status("gate")?.tasks.first?.executorId.flatMap { Int32($0) } ?? 0
        let aliveAfterRemoval = jobPid > 1 && kill(jobPid, 0) == 0
        let cmdline = (FileManager.default.contents(atPath: "/proc/\(jobPid)/cmdline")).map { String(decoding: $0, as: UTF8.self) } ?? "-"
        // The reconciler goes on passing: the job stays adopted (its process waits for `go`).
        while !((try? String(contentsOf: reconciler.log, encoding: .utf8)) ?? "").contains("its job folder is gone") && Date() < deadline {
            usleep(20_000)
        }
        // Its lock file went too: the running reconciler takes the lock again on a new file (it names its holder),
        // and a second one still waits and fails.
        let holder = "pid \(reconciler.process.processIdentifier) "
        while repo.read(".hone/reconcile.lock")?.hasPrefix(holder) != true && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(repo.read(".hone/reconcile.lock")?.hasPrefix(holder), true,
                       "the lock was not taken again (job \(jobPid) alive after the removal: \(aliveAfterRemoval), \(cmdline)): \((try? String(contentsOf: reconciler.log, encoding: .utf8)) ?? "")\n\(repo.status("gate")?.events.map { "\($0.at) \($0.reason): \($0.message)" } ?? [])")
        let second = try repo.hone(["reconcile", "--lock-timeout", "1"])
        XCTAssertNotEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("another reconcile holds"), second.output + "\nfirst:\n" + ((try? String(contentsOf: reconciler.log, encoding: .utf8)) ?? ""))
        FileManager.default.createFile(atPath: go.path, contents: nil)
        reconciler.process.waitUntilExit()
        let log = (try? String(contentsOf: reconciler.log, encoding: .utf8)) ?? ""
        XCTAssertEqual(reconciler.process.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("its job folder is gone but its process"), log)
        let s = try XCTUnwrap(repo.status("gate"))
        XCTAssertEqual(s.phase, .failed, "\(s.events)")
        XCTAssertNotNil(s.event("Lost"), "\(s.events.map { "\($0.reason): \($0.message)" })")
        XCTAssertNil(s.event("Succeeded"))
        XCTAssertEqual(repo.read(".hone/.gitignore")?.contains("\n*\n"), true, "the ignore rule came back")
        try repo.assertHealthy()
        XCTAssertEqual(repo.executions(of: "g/gate"), 1)
    }
}
