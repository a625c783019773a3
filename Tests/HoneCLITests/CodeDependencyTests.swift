import Foundation
import XCTest

/// Code as a dependency (`code:`): a committed edit to a handler's folder reruns what uses it, the plan
/// names the files, `code: []` opts out, and statuses recorded before hone recorded code keep matching
/// until the code changes after the commit they were launched from.
final class CodeDependencyTests: XCTestCase {
    static let env = HoneRepoFixture.gitIdentity

    func git(_ args: [String], in dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + args
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.merging(Self.env) { _, b in b }
        p.standardOutput = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "git \(args)")
    }

    /// A group with run `a` on `bash handlers/train.sh` (default code: handlers/) and run `b` opting out.
    func fixture() throws -> HoneRepoFixture {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("handlers/train.sh", "echo training\n")
        try f.write("handlers/util.sh", "echo util\n")
        try f.write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: bash handlers/train.sh\n")
        try f.write("groups/g/runs/b.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: bash handlers/train.sh\ncode: []\n")
        try f.commitAll()
        let rec = try runHone(["reconcile", "--wait", "--timeout", "60s"], in: f.root, environment: Self.env)
        XCTAssertEqual(rec.status, 0, rec.stdout + rec.stderr)
        return f
    }

    func testCommittedCodeEditRerunsAndThePlanNamesTheFile() throws {
        let f = try fixture()
        let status = try f.read("status/groups/g/runs/a.yaml")
        XCTAssertTrue(status.contains("code:\n  handlers/train.sh: ") && status.contains("  handlers/util.sh: "), status)
        XCTAssertTrue(try f.read("status/groups/g/runs/b.yaml").contains("code: {}"))
        XCTAssertEqual(try runHone(["plan", "--detailed-exitcode"], in: f.root).status, 0)

        // An edit not committed yet: plan compares the committed code (what reconcile would run).
        try f.write("handlers/util.sh", "echo util 2\n")
        let uncommitted = try runHone(["plan", "--detailed-exitcode"], in: f.root)
        XCTAssertEqual(uncommitted.status, 0, uncommitted.stdout)

        try git(["commit", "-qam", "edit util"], in: f.root)
        let plan = try runHone(["plan", "--detailed-exitcode"], in: f.root)
        XCTAssertEqual(plan.status, 2, plan.stdout + plan.stderr)
        XCTAssertTrue(plan.stdout.contains("~ g/a") && plan.stdout.contains("code changed: handlers/util.sh since attempt 1"), plan.stdout)
        XCTAssertFalse(plan.stdout.contains("g/b"), "code: [] opts out:\n\(plan.stdout)")
        let json = try runHone(["plan", "--format", "json"], in: f.root)
        XCTAssertTrue(json.stdout.contains("code changed: handlers/util.sh"), json.stdout)

        // A spec edit and a code edit together say both.
        try f.write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: bash handlers/train.sh\nparams: {lr: 2}\n")
        try f.write("handlers/new.sh", "echo new\n")
        try git(["add", "-A"], in: f.root)
        try git(["commit", "-qm", "params and a new file"], in: f.root)
        let both = try runHone(["plan"], in: f.root)
        XCTAssertTrue(both.stdout.contains("spec changed (params.lr unset → 2) and code changed: handlers/new.sh, handlers/util.sh since attempt 1"), both.stdout)

        // The rerun records the new code: then nothing is left to do.
        let rec = try runHone(["reconcile", "--wait", "--timeout", "60s"], in: f.root, environment: Self.env)
        XCTAssertEqual(rec.status, 0, rec.stdout + rec.stderr)
        let events = try f.read("status/groups/g/runs/a.yaml")
        XCTAssertTrue(events.contains("scheduled on pool local: spec changed (params.lr unset → 2) and code changed: handlers/new.sh, handlers/util.sh"), events)
        XCTAssertEqual(try runHone(["plan", "--detailed-exitcode"], in: f.root).status, 0)
    }

    /// A status written before hone recorded code (no `code:`) is compared with the code of the commit
    /// it was launched from: unchanged → nothing to do (no mass rerun on upgrade); changed later → rerun.
    func testStatusesRecordedBeforeCodeMatchUntilTheCodeChanges() throws {
        let f = try fixture()
        for name in ["a", "b"] {
            let path = "status/groups/g/runs/\(name).yaml"
            let lines = try f.read(path).split(separator: "\n", omittingEmptySubsequences: false)
            var kept: [Substring] = []
            var inCode = false
            for l in lines {
                if l.hasPrefix("code:") { inCode = true; continue }
                if inCode && l.hasPrefix("  ") { continue }
                inCode = false
                kept.append(l)
            }
            try f.write(path, kept.joined(separator: "\n"))
            XCTAssertFalse(try f.read(path).contains("code:"))
        }
        try git(["commit", "-qam", "statuses as an older hone wrote them"], in: f.root)
        let validate = try runHone(["validate"], in: f.root)
        XCTAssertEqual(validate.status, 0, validate.stdout)
        let same = try runHone(["plan", "--detailed-exitcode"], in: f.root)
        XCTAssertEqual(same.status, 0, "an upgrade reruns nothing: \(same.stdout)")

        try f.write("handlers/train.sh", "echo training 2\n")
        try git(["commit", "-qam", "edit train"], in: f.root)
        let plan = try runHone(["plan", "--detailed-exitcode"], in: f.root)
        XCTAssertEqual(plan.status, 2, plan.stdout)
        XCTAssertTrue(plan.stdout.contains("~ g/a") && plan.stdout.contains("code changed: handlers/train.sh"), plan.stdout)
        XCTAssertFalse(plan.stdout.contains("g/b"), plan.stdout)
    }

    /// A pull request that only edits code: `plan --base` shows the objects whose code it changes.
    func testPullRequestPlanShowsWhatACodeEditReruns() throws {
        let f = try fixture()
        try git(["checkout", "-q", "-b", "feature"], in: f.root)
        try f.write("handlers/train.sh", "echo training faster\n")
        try git(["commit", "-qam", "faster training"], in: f.root)
        let plan = try runHone(["plan", "--base", "main", "--detailed-exitcode"], in: f.root)
        XCTAssertEqual(plan.status, 2, plan.stdout + plan.stderr)
        XCTAssertTrue(plan.stdout.contains("~ g/a") && plan.stdout.contains("code changed: handlers/train.sh"), plan.stdout)
        XCTAssertFalse(plan.stdout.contains("g/b"), plan.stdout)
        let md = try runHone(["plan", "--base", "main", "--format", "markdown"], in: f.root)
        XCTAssertTrue(md.stdout.contains("code changed: handlers/train.sh"), md.stdout)
    }

    func testCodePathsAreChecked() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("lib/tok.py", "x = 1\n")
        try f.write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: python3 train.py\ncode: [lib/, lib/tok.py, libs/, status/x, \"../up\"]\n")
        let v = try runHone(["validate"], in: f.root)
        XCTAssertEqual(v.status, 1, v.stdout)
        XCTAssertTrue(v.stdout.contains("groups/g/runs/a.yaml:5:26: error: code path \"libs\" is neither a file nor a folder of the working tree"), v.stdout)
        XCTAssertTrue(v.stdout.contains("\"code\": \"status/x\" is written by hone, not code"), v.stdout)
        XCTAssertTrue(v.stdout.contains("\"code\": \"../up\" is not a path inside the repository"), v.stdout)
        XCTAssertFalse(v.stdout.contains("\"lib\"") || v.stdout.contains("\"lib/tok.py\""), v.stdout)
        XCTAssertFalse(v.stdout.contains("code path \"status/x\""), "one error per path: \(v.stdout)")
    }
}
