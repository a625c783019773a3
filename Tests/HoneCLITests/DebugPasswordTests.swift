import Foundation
import XCTest

/// A debug eval whose password variable is unset: `plan` warns before anything launches, and the
/// failed attempt's event says what works (set it, `hone rerun`, commit, reconcile).
final class DebugPasswordTests: XCTestCase {
    static let env = HoneRepoFixture.gitIdentity

    func testPlanWarnsAndTheFailureSaysToRerun() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("groups/g/evals/e.yaml", "kind: Eval\nmodel: base@v1\ndataset: d@v1\nhandler: python3 eval.py\ndebug:\n  enabled: true\n  passwordEnv: HONE_TEST_DEBUG_PW\n")
        try f.commitAll()
        let unset = try runHone(["plan"], in: f.root, environment: ["HONE_TEST_DEBUG_PW": ""])
        XCTAssertEqual(unset.status, 0, unset.stderr)
        XCTAssertTrue(unset.stderr.contains("groups/g/evals/e.yaml:6:3: warning: debug mode is on but HONE_TEST_DEBUG_PW is not set here: reconcile would fail g/e (DebugPasswordMissing)"), unset.stderr)
        XCTAssertTrue(unset.stdout.contains("+ g/e"), unset.stdout)

        let set = try runHone(["plan"], in: f.root, environment: ["HONE_TEST_DEBUG_PW": "a-long-password"])
        XCTAssertEqual(set.status, 0, set.stderr)
        XCTAssertFalse(set.stderr.contains("warning"), set.stderr)
        XCTAssertFalse(set.stdout.contains("a-long-password") || set.stderr.contains("a-long-password"))

        let rec = try runHone(["reconcile"], in: f.root, environment: Self.env.merging(["HONE_TEST_DEBUG_PW": ""]) { _, b in b })
        XCTAssertEqual(rec.status, 0, rec.stdout + rec.stderr)
        let status = try f.read("status/groups/g/evals/e.yaml")
        XCTAssertTrue(status.contains("phase: Failed") && status.contains("DebugPasswordMissing"), status)
        XCTAssertTrue(status.contains("then start another attempt with `hone rerun g/e`, commit and reconcile"), status)
        XCTAssertFalse(status.contains("and reconcile again"), status)
        // What the message says works: once set, reconcile alone does nothing; a rerun does.
        let again = try runHone(["plan", "--detailed-exitcode"], in: f.root, environment: ["HONE_TEST_DEBUG_PW": "a-long-password"])
        XCTAssertEqual(again.status, 0, again.stdout)
        XCTAssertEqual(try runHone(["rerun", "g/e"], in: f.root).status, 0)
        let rerun = try runHone(["plan", "--detailed-exitcode"], in: f.root, environment: ["HONE_TEST_DEBUG_PW": "a-long-password"])
        XCTAssertEqual(rerun.status, 2, rerun.stdout)
        XCTAssertTrue(rerun.stdout.contains("~ g/e"), rerun.stdout)
    }
}
