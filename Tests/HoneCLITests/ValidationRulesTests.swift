import ArgumentParser
import XCTest
@testable import HoneCLI

/// Every command's `validate()` rule, reached in-process through `HoneCommand.parseAsRoot` (what `hone`
/// runs before any command touches a repository): each refused combination with the message the user
/// sees, next to the nearest accepted one, so a rule that stops refusing (or starts refusing too much) fails.
final class ValidationRulesTests: XCTestCase {
    func refused(_ args: [String], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(args), "hone \(args.joined(separator: " "))", file: file, line: line) { error in
            let message = HoneCommand.message(for: error)
            XCTAssertTrue(message.contains(fragment), "hone \(args.joined(separator: " ")): \(message)", file: file, line: line)
        }
    }

    func accepted(_ args: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNoThrow(try HoneCommand.parseAsRoot(args), "hone \(args.joined(separator: " "))", file: file, line: line)
    }

    func testLogs() {
        accepted(["logs", "g/r", "--follow"])
        accepted(["logs", "g/r", "--tail", "0", "--attempt", "2"])
        refused(["logs", "g/r", "--follow", "--ref", "main"], "--follow reads the live job: it cannot be used with --ref")
        refused(["logs", "g/r", "--tail=-1"], "--tail must be 0 or more lines")
        refused(["logs", "g/r", "--attempt", "0"], "--attempt counts from 1")
        refused(["logs", "g/r", "--attempt", "1", "--follow"], "--attempt reads a recorded attempt: it cannot be followed")
        refused(["logs", "g/r", "--tail", "3", "--follow"], "--follow prints the live log from its start: drop --tail")
    }

    func testReconcile() {
        accepted(["reconcile", "--wait", "--timeout", "15m", "--push", "origin"])
        refused(["reconcile", "--wait", "--timeout", "soon"], "--timeout soon: expected a duration like 90s, 15m or 2h")
        refused(["reconcile", "--timeout", "90s"], "--timeout only applies with --wait")
        refused(["reconcile", "--no-commit", "--push", "origin"], "--push needs commits: it cannot be used with --no-commit")
    }

    func testEventsSince() {
        accepted(["events", "g/r", "--since", "10m"])
        accepted(["events", "g/r", "--since", "2026-01-31"])
        refused(["events", "g/r", "--since", "yesterday"], "--since yesterday is neither a duration (10m, 2h, 1d) nor an ISO time")
    }

    func testCompare() {
        accepted(["compare", "g/a", "g/b"])
        accepted(["compare", "g/a", "--baseline", "g/b"])
        accepted(["compare", "g/a", "g/b", "--rows", "--only-diff"])
        refused(["compare", "g/a"], "name at least two evals to compare")
        refused(["compare", "g/a", "g/b", "--only-diff"], "--columns, --pin and --only-diff choose per-sample rows: add --rows")
        refused(["compare", "g/a", "g/b", "--pin", "id"], "add --rows")
    }

    func testPublishAndSync() {
        accepted(["publish", "g/r", "--model", "bot", "--new"])
        accepted(["publish", "g/r", "--model", "bot", "--existing"])
        refused(["publish", "g/r", "--model", "bot"], "say how to publish: --new (a new model) or --existing")
        refused(["publish", "g/r", "--model", "bot", "--new", "--existing"], "exactly one")
        accepted(["sync", "g/e", "--to-evaluations"])
        accepted(["sync", "evaluations/e", "--to-group", "g"])
        refused(["sync", "g/e"], "give exactly one of --to-evaluations and --to-group G")
        refused(["sync", "g/e", "--to-evaluations", "--to-group", "g"], "give exactly one of --to-evaluations and --to-group G")
    }

    func testScopeAndViews() {
        accepted(["get", "evals", "--group", "g"])
        refused(["get", "evals", "--group", "g", "--evaluations"], "give --group G or --evaluations, not both")
        refused(["get", "evals", "--view", "v"], "--view names a view of a group: add --group G (or --evaluations)")
        refused(["get", "evals", "--group", "g", "--view", "v", "--no-view"], "--view and --no-view contradict each other")
        refused(["get", "runs", "--evaluations"], "the evaluation module has evals only")
        accepted(["view", "save", "v", "--group", "g", "--clear-filter"])
        refused(["view", "save", "v", "--group", "g", "--filter", "phase=Succeeded", "--clear-filter"], "--filter and --clear-filter contradict each other")
    }

    func testDescribeKind() {
        accepted(["describe", "run", "g/r"])
        refused(["describe", "job", "g/r"], "job")
    }
}
