import Foundation
import HoneModel
import XCTest

/// hone never rejects what it wrote: whatever a handler puts into summary.json (metrics named token, secret
/// or password, nested, unicode, YAML-looking), the status and the published manifest hone writes from it
/// pass `hone validate`, a second reconcile changes nothing, evals of the published model run, and a fresh
/// clone plans nothing.
final class OwnFilesTests: XCTestCase {
    /// Writes `summaryFile` (outside the repository: no spec holds these names) as the job's summary.json.
    static let handler = #"""
    import json, os, shutil
    job = json.load(open(os.environ["HONE_JOB"]))
    out = job["outputDir"]
    if job["kind"] == "run":
        open(os.path.join(out, "model.bin"), "w").write("weights of " + job["id"])
    shutil.copy(job["params"]["summaryFile"], os.path.join(out, "summary.json"))
    """#

    static let names = ["token", "secret", "password", "apiKey", "HF_TOKEN", "db_password", "credentials", "pass", "Passwd",
                        "access_token", "ünï-token", "密码", "émoji 🎉 secret", "a.b-token", "*", "&a", "- x", ":", "#", "yes", "null",
                        "<<", "~", "sequence", "accuracy"]
    static let values: [JSONValue] = [.double(0.91), .string("x"), .string("*alias"), .string("&anchor"), .string("!tag"), .string("@x"),
                                      .array([.string("y"), .int(1)]), .object(["value": .string("z")]), .bool(true), .null, .double(-0.0),
                                      .string(""), .string("密码")]

    /// A summary of odd metrics drawn from `rng`: nested mappings and lists, names and values above.
    static func summary(_ rng: inout SeededGenerator, depth: Int = 0) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for _ in 0..<Int.random(in: 2...6, using: &rng) {
            let name = names.randomElement(using: &rng)!
            if depth < 2 && Bool.random(using: &rng) { out[name] = .object(summary(&rng, depth: depth + 1)) }
            else { out[name] = values.randomElement(using: &rng)! }
        }
        return out
    }

    func testStatusesAndManifestsFromAnyHandlerOutputRoundTripThroughValidate() throws {
        let repo = try HoneRepo(maxParallel: 4)
        try repo.write("handlers/odd.py", OwnFilesTests.handler)
        var rng = SeededGenerator(seed: 11)
        let count = 4
        for i in 0..<count {
            var summary = OwnFilesTests.summary(&rng)
            summary["accuracy"] = .object(["token": .double(0.91), "sequence": .double(0.5)])  // the pair of the report
            let file = repo.base.appendingPathComponent("summary-\(i).json")
            try Data(JSONValue.object(summary).prettyJSON.utf8).write(to: file)
            try repo.write("groups/g/runs/r\(i).yaml", """
                kind: Run
                baseModel: base@v1
                trainDataset: d@v1
                handler: python3 handlers/odd.py
                params: {summaryFile: \(file.path)}
                publish: {model: m\(i), as: new}

                """)
        }
        try repo.commit("runs with odd metrics")
        try repo.reconcile()
        for i in 0..<count {
            XCTAssertEqual(repo.status("r\(i)")?.phase, .succeeded, "r\(i)")
            XCTAssertTrue(repo.exists("models/m\(i)/v1.yaml"), "r\(i) published")
            XCTAssertEqual(repo.status("r\(i)")?.metrics["accuracy"], .object(["token": .double(0.91), "sequence": .double(0.5)]))
        }
        let validate = try repo.hone(["validate"])
        XCTAssertEqual(validate.status, 0, validate.output)

        // Evals of the published models run; the metrics the eval copies are odd too.
        for i in 0..<count {
            try repo.write("groups/g/evals/e\(i).yaml", """
                kind: Eval
                model: m\(i)@v1
                dataset: d@v1
                handler: python3 handlers/odd.py
                params: {summaryFile: \(repo.base.appendingPathComponent("summary-\(i).json").path)}

                """)
        }
        try repo.commit("evals of the published models")
        try repo.reconcile()
        for i in 0..<count { XCTAssertEqual(repo.evalStatus("e\(i)")?.phase, .succeeded, "e\(i)") }
        let again = try repo.hone(["validate"])
        XCTAssertEqual(again.status, 0, again.output)

        // No churn: another reconcile commits nothing; a fresh clone plans nothing.
        let commits = repo.commitCount
        try repo.reconcile()
        let last = try repo.messages().first ?? ""
        XCTAssertEqual(repo.commitCount, commits, last)
        let clone = repo.base.appendingPathComponent("clone")
        _ = try repo.git("clone", "-q", repo.root.path, clone.path)
        let plan = try HoneRepo.exec(HoneRepo.honeBinary.path, ["plan", "--detailed-exitcode"], in: clone, env: HoneRepo.gitEnv)
        XCTAssertEqual(plan.status, 0, plan.output)
        try repo.assertHealthy()
    }
}

/// A small deterministic generator (SplitMix64), so a failing case can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
