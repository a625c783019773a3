import Foundation
import XCTest

/// The built `hone` on a repository where one spec is made to break the reader: that file is one
/// diagnostic at its place, and the valid spec beside it is still validated, planned and reconciled.
extension ValidateTests {
    func deepRepository() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "support")
        try write("models/tiny/w.bin", "weights\n")
        try write("models/tiny/v1.yaml", "kind: ModelVersion\nuri: models/tiny/w.bin\nsha256: \(Sandbox.sha256("weights\n"))\n")
        try write("datasets/qa/data.txt", "q\n")
        try write("datasets/qa/v1.yaml", "kind: DatasetVersion\nuri: datasets/qa/data.txt\nsha256: \(Sandbox.sha256("q\n"))\n")
        try write("groups/support/runs/good.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: qa@v1\nhandler: python3 handlers/train.py\n")
        try write("handlers/train.py", """
            import json, os
            out = json.load(open(os.environ["HONE_JOB"]))["outputDir"]
            open(os.path.join(out, "model.bin"), "w").write("trained")
            json.dump({"loss": 0.5}, open(os.path.join(out, "summary.json"), "w"))

            """)
        // 50 KB: `- - - … 1`, 25,000 block sequences deep (crashed every command with SIGSEGV).
        try write("groups/support/runs/deep.yaml", String(repeating: "- ", count: 25_000) + "1\n")
        // `[[[…]]]`, 25,000 deep in a flow value (libyaml alone took quadratic time over it).
        try write("groups/support/runs/flow.yaml", "kind: Run\nparams:\n  x: " + String(repeating: "[", count: 25_000) + String(repeating: "]", count: 25_000) + "\n")
    }

    var deepDiagnostics: String {
        let dash = String(repeating: "- ", count: 60)
        return """
        groups/support/runs/deep.yaml:1:1025: error: nested too deeply: hone files allow at most 512 levels of lists and mappings
            …\(dash)…
             \(String(repeating: " ", count: 40))^
        groups/support/runs/flow.yaml:3:516: error: nested too deeply: hone files allow at most 512 levels of lists and mappings
            …\(String(repeating: "[", count: 120))…
             \(String(repeating: " ", count: 40))^

        """
    }

    func testDeeplyNestedSpecsAreOneErrorEachAndTheValidSpecIsStillPlannedAndReconciled() throws {
        try deepRepository()
        let v = try hone("validate", in: dir)
        XCTAssertEqual(v.status, 1, v.stderr)
        XCTAssertEqual(v.stdout, deepDiagnostics + "2 errors in 2 files (9 checked)\n")

        let p = try hone("plan", in: dir)
        XCTAssertEqual(p.status, 1, p.stderr)
        XCTAssertEqual(p.stdout, deepDiagnostics.replacingOccurrences(of: "\n\n", with: "\n") + """
          + support/good  Run   create   new run: never run  [$0]
        1 to create, est. cost $0.00, 2 errors

        """)

        try git("add", "-A", in: dir)
        try git("commit", "-qm", "deep", in: dir)
        let r = try hone("reconcile", "--wait", "--timeout", "60s", in: dir)
        XCTAssertEqual(r.status, 1, "invalid objects were skipped: " + r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("groups/support/runs/deep.yaml:1:1025: error: nested too deeply"), r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("reconciled: 1 launched, 1 finished (1 Succeeded: support/good)"), r.stdout)
        XCTAssertTrue(try read("status/groups/support/runs/good.yaml").contains("phase: Succeeded"))
    }
}

extension ValidateTests {
    /// A file name holding an OSC sequence (set the window title) and a spec whose key holds a
    /// clear-screen sequence and a right-to-left override: no raw control character reaches the
    /// output of validate (text, JSON) or plan (text, markdown, JSON); each is shown as an escape.
    func testControlCharactersFromFilesAreEscapedInEveryFormat() throws {
        _ = try hone("init", dir.path, "--group", "g")
        try write("groups/g/runs/\u{1B}]0;owned\u{07}.yaml", "kind: Run\n")
        try write("groups/g/views/v.yaml", "kind: View\n\"\\e[2J\\u202E```\": 1\n")
        let raw: (String) -> Bool = { $0.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E } }
        let expected = [
            #"groups/g/runs/\x1B]0;owned\x07.yaml: error: "\x1B]0;owned\x07" is not a valid name"#,
            #"groups/g/views/v.yaml:2:1: error: unknown field "\x1B[2J\u{202E}```""#,
        ]
        for args in [["validate"], ["validate", "--format", "json"], ["plan"], ["plan", "--format", "markdown"], ["plan", "--format", "json"]] {
            let r = try hone(arguments: args + ["-C", dir.path])
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertFalse(raw(r.stdout) || raw(r.stderr), "\(args): \(r.stdout.debugDescription)")
            if args.count == 1 || args.last == "markdown" {
                for e in expected { XCTAssertTrue(r.stdout.contains(e), "\(args): \(e) in\n\(r.stdout)") }
            }
        }
        // The markdown's code fence is longer than the backquotes a message holds.
        let md = try hone("plan", "--format", "markdown", "-C", dir.path).stdout
        XCTAssertTrue(md.contains("\n````\n"), md)
        // JSON carries the escaped text too (what a script would print).
        let json = try hone("validate", "--format", "json", "-C", dir.path).stdout
        let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let paths = (doc["errors"] as! [[String: Any]]).map { $0["path"] as! String }
        XCTAssertTrue(paths.contains(#"groups/g/runs/\x1B]0;owned\x07.yaml"#), "\(paths)")
    }
}

extension ValidateTests {
    /// Listings and overviews print values people wrote (a group's description, a run's owner and
    /// handler): a clear-screen or window-title sequence there is shown as an escape in every text format.
    func testControlCharactersInValuesAreEscapedInListingsAndOverviews() throws {
        _ = try hone("init", dir.path, "--group", "g")
        try write("groups/g/group.yaml", "kind: Group\ndescription: \"wipe \\e[2J\\e]0;owned\\a\"\n")
        try write("models/tiny/w.bin", "weights\n")
        try write("models/tiny/v1.yaml", "kind: ModelVersion\nuri: models/tiny/w.bin\nsha256: \(Sandbox.sha256("weights\n"))\n")
        try write("datasets/qa/data.txt", "q\n")
        try write("datasets/qa/v1.yaml", "kind: DatasetVersion\nuri: datasets/qa/data.txt\nsha256: \(Sandbox.sha256("q\n"))\n")
        try write("groups/g/runs/r.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: qa@v1\nowner: \"o\\e[31m\"\nhandler: \"sh \\e[2Jx.sh\"\n")
        let raw: (String) -> Bool = { $0.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 } }
        for args in [["get", "groups"], ["get", "groups", "-o", "wide"], ["get", "groups", "-o", "csv"],
                     ["get", "groups", "-o", "markdown"], ["get", "runs", "-o", "wide"], ["describe", "run", "g/r"],
                     ["describe", "group", "g"]] {
            let r = try hone(arguments: args + ["-C", dir.path])
            XCTAssertFalse(raw(r.stdout) || raw(r.stderr), "\(args): \(r.stdout.debugDescription)")
        }
        XCTAssertTrue(try hone("get", "groups", "-o", "wide", "-C", dir.path).stdout.contains(#"wipe \x1B[2J\x1B]0;owned\x07"#))
        XCTAssertTrue(try hone("describe", "run", "g/r", "-C", dir.path).stdout.contains(#"sh \x1B[2Jx.sh"#))
    }
}
