import Foundation
import XCTest

/// Publishing once per distinct model, and a version's digest frozen only by a job that read it.
final class PublishOnceTests: XCTestCase {
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

    static let trainer = """
    import json, os
    j = json.load(open(os.environ["HONE_JOB"]))
    open(os.path.join(j["outputDir"], "model.bin"), "w").write("model %s" % j["params"].get("v", 1))

    """

    func reconcile(_ f: HoneRepoFixture) throws -> HoneRun {
        let r = try runHone(["reconcile", "--wait", "--timeout", "60s"], in: f.root, environment: Self.env)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        return r
    }

    func testARerunWithTheSameModelPublishesNothingAndADifferentOneTheNextVersion() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("handlers/train.py", Self.trainer)
        try f.write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: python3 handlers/train.py\npublish: {model: bot, as: new}\n")
        try f.commitAll()
        let plan = try runHone(["plan"], in: f.root)
        XCTAssertTrue(plan.stdout.contains("new run: never run; then publishes bot@v1"), plan.stdout)
        let first = try reconcile(f)
        XCTAssertTrue(first.stderr.contains("published g/a → bot@v1"), first.stderr)
        XCTAssertTrue(f.exists("models/bot/v1.yaml"))

        XCTAssertEqual(try runHone(["rerun", "g/a"], in: f.root).status, 0)
        try git(["commit", "-qam", "rerun"], in: f.root)
        let rerunPlan = try runHone(["plan"], in: f.root)
        XCTAssertTrue(rerunPlan.stdout.contains("rerun raised to 1 since attempt 1 (Succeeded); then publishes bot@v2 (nothing if a version of bot holds the same model)"), rerunPlan.stdout)
        let same = try reconcile(f)
        XCTAssertTrue(same.stderr.contains("g/a: attempt 2 made the same model as bot@v1"), same.stderr)
        XCTAssertFalse(same.stderr.contains("published g/a"), same.stderr)
        XCTAssertFalse(f.exists("models/bot/v2.yaml"), "the same model is not published twice")
        let status = try f.read("status/groups/g/runs/a.yaml")
        XCTAssertTrue(status.contains("publishedAs: bot@v1") && status.contains("reason: AlreadyPublished"), status)
        XCTAssertEqual(try runHone(["plan", "--detailed-exitcode"], in: f.root).status, 0, "nothing left to publish")
        XCTAssertEqual(try runHone(["validate"], in: f.root).status, 0)

        try f.write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: python3 handlers/train.py\nparams: {v: 2}\npublish: {model: bot, as: new}\n")
        try git(["commit", "-qam", "v2"], in: f.root)
        let different = try reconcile(f)
        XCTAssertTrue(different.stderr.contains("published g/a → bot@v2"), different.stderr)
        XCTAssertTrue(f.exists("models/bot/v2.yaml"))
        XCTAssertFalse(f.exists("models/bot/v3.yaml"))
        XCTAssertEqual(try runHone(["plan", "--detailed-exitcode"], in: f.root).status, 0)
    }

    func testATypoInAVersionDigestDoesNotLockTheVersion() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("handlers/train.py", Self.trainer)
        let right = HoneRepoFixture.sha("some data\n")
        let typo = String(right.dropLast()) + (right.hasSuffix("0") ? "1" : "0")
        try f.write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: data/d.txt\nsha256: \(typo)\n")
        try f.write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: python3 handlers/train.py\n")
        try f.commitAll()
        _ = try reconcile(f)
        let failed = try f.read("status/groups/g/runs/a.yaml")
        XCTAssertTrue(failed.contains("phase: Failed") && failed.contains("InputDigestMismatch"), failed)
        XCTAssertFalse(failed.contains("datasets/d/v1:"), "an input that failed verification is not recorded as used:\n\(failed)")

        try f.write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: data/d.txt\nsha256: \(right)\n")
        try git(["commit", "-qam", "fix the sha256 typo"], in: f.root)
        let validate = try runHone(["validate"], in: f.root)
        XCTAssertEqual(validate.status, 0, validate.stdout)
        let plan = try runHone(["plan", "--detailed-exitcode"], in: f.root)
        XCTAssertEqual(plan.status, 2, plan.stdout + plan.stderr)
        XCTAssertTrue(plan.stdout.contains("~ g/a") && !plan.stderr.contains("immutable"), plan.stdout + plan.stderr)
        _ = try reconcile(f)
        let ok = try f.read("status/groups/g/runs/a.yaml")
        XCTAssertTrue(ok.contains("phase: Succeeded") && ok.contains("datasets/d/v1: \"\(right)\""), ok)

        // Now a job read it: changing its digest is the immutability error, in validate as in plan.
        try f.write("data/d.txt", "other data\n")
        try f.write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: data/d.txt\nsha256: \(HoneRepoFixture.sha("other data\n"))\n")
        try git(["commit", "-qam", "edit a used version"], in: f.root)
        let v = try runHone(["validate"], in: f.root)
        let p = try runHone(["plan"], in: f.root)
        XCTAssertEqual(v.status, 1, v.stdout)
        XCTAssertEqual(p.status, 1, p.stdout + p.stderr)
        let line = v.lines.first { $0.contains("versions are immutable") }
        XCTAssertNotNil(line, v.stdout)
        XCTAssertTrue(line.map { $0.hasPrefix("datasets/d/v1.yaml:3:") && (p.stdout + p.stderr).contains($0) } ?? false, "the same error in both:\n\(v.stdout)\n\(p.stdout)\(p.stderr)")
    }
}
