import Foundation
import HoneModel
import XCTest

/// The closing line of a reconcile counts per phase and names at most three objects of each; `--format json`
/// lists every one.
final class ReconcileSummaryTests: XCTestCase {
    func testTheSummaryLineStaysShortAndJSONHasEveryObject() throws {
        let repo = try HoneRepo(maxParallel: 4)
        for i in 1...5 { try repo.run("r\(i)") }
        try repo.run("bad", params: "fail: 3")
        try repo.commit("six runs")
        let r = try repo.reconcile()
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(line.hasPrefix("reconciled: 6 launched, 6 finished (5 Succeeded: g/r1, g/r2, g/r3 and 2 more; 1 Failed: g/bad), "), line)
        XCTAssertFalse(line.contains("g/r4"), "at most three names a phase: \(line)")

        for i in 1...5 { try repo.run("r\(i)", params: "lr: 2") }
        try repo.commit("rerun all")
        let json = try repo.hone(["reconcile", "--wait", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.output)
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(doc?["apiVersion"] as? String, "hone/v1")
        let finished = (doc?["finished"] as? [[String: Any]]) ?? []
        XCTAssertEqual(finished.compactMap { $0["object"] as? String }, (1...5).map { "g/r\($0)" })
        XCTAssertTrue(finished.allSatisfy { $0["phase"] as? String == "Succeeded" })
        XCTAssertEqual((doc?["launched"] as? [String])?.count, 5)
        let commits = (doc?["commits"] as? [String]) ?? []
        XCTAssertFalse(commits.isEmpty)
        for c in commits { XCTAssertEqual(try repo.git("cat-file", "-t", c).trimmingCharacters(in: .whitespacesAndNewlines), "commit") }
        XCTAssertEqual(commits.last, try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines), "the last is the tip")
        XCTAssertEqual(doc?["timedOut"] as? Bool, false)
    }
}
