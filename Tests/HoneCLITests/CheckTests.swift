import Foundation
import XCTest

/// `hone check` on tiny repositories with real results (reconcile --wait runs python handlers that
/// report the accuracy their params say).
final class CheckTests: XCTestCase {
    /// main with the baseline `base` (0.6), a run `ft`, a good eval (0.7 ≥ 0.6 - 0.01) and a bad one (0.55 ≥ 0.6).
    func makeRepository() throws -> (Sandbox, URL) {
        let s = try Sandbox()
        let dir = try s.seedOriginAndClone("repo")
        try s.write("groups/g/runs/ft.yaml", Sandbox.runSpec, in: dir)
        try s.write("groups/g/evals/good.yaml", Sandbox.evalSpec(accuracy: 0.7, gate: ">= baseline - 0.01"), in: dir)
        try s.write("groups/g/evals/bad.yaml", Sandbox.evalSpec(accuracy: 0.55, gate: ">= baseline"), in: dir)
        s.git(["add", "-A"], in: dir)
        s.git(["commit", "-qm", "ft with evals"], in: dir)
        return (s, dir)
    }

    func reconcile(_ s: Sandbox, _ dir: URL) {
        let r = s.run(["hone", "reconcile", "--wait", "--timeout", "60s"], in: dir)
        XCTAssertEqual(r.status, 0, r.all)
    }

    /// `g/name` of a gate's eval (an ObjectRef in the document).
    func evalName(_ gate: [String: Any]) -> String? {
        (gate["eval"] as? [String: String]).map { "\($0["group"] ?? "?")/\($0["name"] ?? "?")" }
    }

    func json(_ r: CommandResult) throws -> [String: Any] {
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(doc["apiVersion"] as? String, "hone/v1")
        XCTAssertEqual(doc["kind"] as? String, "GateCheck")
        return doc
    }

    func testPendingBeforeResultsThenPassAndFail() throws {
        let (s, dir) = try makeRepository()
        let before = s.run(["hone", "check"], in: dir)
        XCTAssertEqual(before.status, 0, before.all)
        XCTAssertTrue(before.stdout.contains("2 gates: 0 pass, 0 FAIL, 2 pending"), before.stdout)
        XCTAssertTrue(before.stdout.contains("g/good has not run yet"), before.stdout)
        XCTAssertTrue(before.stdout.contains("--require-results makes them fail"), before.stdout)
        XCTAssertEqual(s.run(["hone", "check", "--require-results"], in: dir).status, 1)

        reconcile(s, dir)
        let after = s.run(["hone", "check", "--format", "json"], in: dir)
        XCTAssertEqual(after.status, 1, after.all)
        let doc = try json(after)
        XCTAssertEqual(doc["passed"] as? Int, 1)
        XCTAssertEqual(doc["failed"] as? Int, 1)
        XCTAssertEqual(doc["pending"] as? Int, 0)
        let gates = doc["gates"] as! [[String: Any]]
        let bad = gates.first { evalName($0) == "g/bad" }!
        XCTAssertEqual(bad["result"] as? String, "FAIL")
        XCTAssertEqual(bad["value"] as? Double, 0.55)
        XCTAssertEqual(bad["bound"] as? Double, 0.6)
        XCTAssertEqual(bad["baselineValue"] as? Double, 0.6)
        XCTAssertEqual(bad["baseline"] as? [String: String], ["group": "g", "name": "base", "path": "groups/g/evals/base.yaml"])
        let good = gates.first { evalName($0) == "g/good" }!
        XCTAssertEqual(good["result"] as? String, "pass")
        XCTAssertEqual(good["value"] as? Double, 0.7)

        let md = s.run(["hone", "check", "--format", "markdown"], in: dir)
        XCTAssertEqual(md.status, 1)
        XCTAssertTrue(md.stdout.contains("**❌ 2 gates: 1 pass, 1 FAIL, 0 pending**"), md.stdout)
        XCTAssertTrue(md.stdout.contains("| g/bad | metrics.accuracy | >= baseline | 0.55 | 0.6 | g/base | 0.6 | FAIL | - |"), md.stdout)
    }

    func testBaseChecksOnlyTheEvalsAChangeTouches() throws {
        let (s, dir) = try makeRepository()
        reconcile(s, dir)
        let main = s.git(["rev-parse", "HEAD"], in: dir)
        // A change to the good eval only: the failing `bad` eval is not this change's business.
        try s.write("groups/g/evals/good.yaml", Sandbox.evalSpec(accuracy: 0.8, gate: ">= baseline - 0.01"), in: dir)
        s.git(["commit", "-qam", "tune good"], in: dir)
        reconcile(s, dir)
        let scoped = s.run(["hone", "check", "--base", main], in: dir)
        XCTAssertEqual(scoped.status, 0, scoped.all)
        XCTAssertTrue(scoped.stdout.contains("1 gate: 1 pass, 0 FAIL, 0 pending"), scoped.stdout)
        XCTAssertFalse(scoped.stdout.contains("g/bad"), scoped.stdout)
        XCTAssertEqual(s.run(["hone", "check"], in: dir).status, 1, "without --base every eval counts")
        // A change of the baseline puts every eval judged against it in scope.
        let tip = s.git(["rev-parse", "HEAD"], in: dir)
        try s.write("groups/g/evals/base.yaml", "kind: Eval\npool: gpu\nmodel: tiny@v1\nhandler: python3 handlers/evaluate.py\ndataset: qa@v1\nparams: {accuracy: 0.5}\nautoRelease: 600s\n", in: dir)
        s.git(["commit", "-qam", "baseline changed"], in: dir)
        reconcile(s, dir)
        let viaBaseline = s.run(["hone", "check", "--base", tip, "--format", "json"], in: dir)
        XCTAssertEqual(viaBaseline.status, 0, viaBaseline.all)
        XCTAssertEqual(Set((try json(viaBaseline)["scope"] as! [[String: String]]).map { "\($0["group"]!)/\($0["name"]!)" }), ["g/base", "g/good", "g/bad"])
        XCTAssertEqual(try json(viaBaseline)["passed"] as? Int, 2, "bad (0.55) now beats the new baseline (0.5)")
    }

    func testResultsOfAnOlderSpecArePending() throws {
        let (s, dir) = try makeRepository()
        reconcile(s, dir)
        // The bad eval is changed to a passing one but not reconciled: its recorded 0.55 is stale.
        try s.write("groups/g/evals/bad.yaml", Sandbox.evalSpec(accuracy: 0.9, gate: ">= baseline"), in: dir)
        s.git(["commit", "-qam", "fix bad"], in: dir)
        let r = s.run(["hone", "check", "--format", "json"], in: dir)
        let bad = (try json(r)["gates"] as! [[String: Any]]).first { evalName($0) == "g/bad" }!
        XCTAssertEqual(bad["result"] as? String, "pending")
        XCTAssertNil(bad["value"], "the old result is not used")
        XCTAssertTrue((bad["note"] as? String ?? "").contains("older spec"), "\(bad)")
        reconcile(s, dir)
        XCTAssertEqual(s.run(["hone", "check"], in: dir).status, 0)
    }

    func testFailedEvalsAndMissingMetricsFail() throws {
        let (s, dir) = try makeRepository()
        try s.write("groups/g/evals/bad.yaml", Sandbox.evalSpec(accuracy: 0.9, gate: ">= baseline", extraParams: ", fail: true"), in: dir)
        try s.write("groups/g/evals/good.yaml", Sandbox.evalSpec(accuracy: 0.7, gate: ">= baseline - 0.01") + "  metrics.latency: \"<= 12\"\n", in: dir)
        s.git(["commit", "-qam", "a crashing eval, a metric nobody reports"], in: dir)
        let r = s.run(["hone", "reconcile", "--wait", "--timeout", "60s"], in: dir)
        XCTAssertTrue(r.stdout.contains("1 Failed: g/bad"), r.all)
        let check = s.run(["hone", "check"], in: dir)
        XCTAssertEqual(check.status, 1, check.all)
        XCTAssertTrue(check.stdout.contains("g/bad Failed (attempt 1): no results"), check.stdout)
        XCTAssertTrue(check.stdout.contains("g/good recorded no metrics.latency"), check.stdout)
        XCTAssertTrue(check.stdout.contains("3 gates: 1 pass, 2 FAIL, 0 pending"), check.stdout)
    }

    func testNoGatesAndBadBase() throws {
        let s = try Sandbox()
        let dir = try s.seedOriginAndClone("repo")
        let r = s.run(["hone", "check"], in: dir)
        XCTAssertEqual(r.status, 0, r.all)
        XCTAssertEqual(r.stdout, "no gates to check\n")
        let bad = s.run(["hone", "check", "--base", "no-such-branch"], in: dir)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("cannot resolve --base no-such-branch"), bad.all)
    }
}
