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
        XCTAssertNotNil(repo.status("r1")?.model?.sha256)
        XCTAssertEqual(repo.evalStatus("e1")?.resultsRows, 2, file: file, line: line)
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
}
