import Foundation
import XCTest

/// Every example repository shipped in examples/ is valid to hone and to the JSON Schemas in specs/schema
/// (what an editor with yaml-language-server checks as users type).
final class ExamplesTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func run(_ tool: String, _ args: [String], in dir: URL) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        p.currentDirectoryURL = dir
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testQuickstartValidatesWithHone() throws {
        let dir = Self.repoRoot.appendingPathComponent("examples/quickstart")
        let r = try runHone(["validate"], in: dir)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("valid: "), r.stdout)
        XCTAssertFalse(r.stdout.contains("warning"), r.stdout)
    }

    func testSlurmExampleAssembledOverTheQuickstartValidates() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hone-slurm-example-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (status, out) = try run("bash", [Self.repoRoot.appendingPathComponent("examples/slurm/assemble.sh").path, dir.path], in: Self.repoRoot)
        XCTAssertEqual(status, 0, out)
        let r = try runHone(["validate"], in: dir)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let plan = try runHone(["plan", "--format", "json"], in: dir)
        XCTAssertTrue(plan.stdout.contains("\"pool\" : \"gpu\"") || plan.stdout.contains("\"pool\": \"gpu\""), "the runs go to the Slurm pool: \(plan.stdout.prefix(400))")
    }

    func testEveryExampleFileMatchesItsJSONSchema() throws {
        let (status, out) = try run("python3", ["specs/check_schemas.py"], in: Self.repoRoot)
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains(" passed, 0 failed"), out)
        XCTAssertTrue(out.contains("examples/quickstart/groups/support/runs/lr-small.yaml"), "the quickstart is among the checked files:\n\(out)")
        XCTAssertTrue(out.contains("examples/slurm/hone.yaml"), "the Slurm example is among the checked files:\n\(out)")
    }
}
