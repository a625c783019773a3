import Foundation
import HoneModel
import XCTest

/// Nothing secret reaches git, a file hone writes, or hone's output; jobs get none of the reconciler's
/// credentials; and hone never rejects a file it wrote (specs/secrets.md).
final class SecretLeakTests: XCTestCase {
    let debugPassword = "pw-debug-Qx81-never"
    let otherPassword = "pw-other-Lm22-never"
    let token = "tok3n-value-Zr9"

    /// The handler: dumps its whole environment into its log and into `envDump` (outside the repository, the
    /// oracle), and writes the value of `leak` (a variable) into summary.json and results.jsonl.
    static let leakyHandler = #"""
    import json, os, sys
    job = json.load(open(os.environ["HONE_JOB"]))
    p = job["params"]
    for k, v in sorted(os.environ.items()):
        print("%s=%s" % (k, v))
    json.dump(dict(os.environ), open(p["envDump"], "w"))
    out = job["outputDir"]
    leaked = os.environ.get(p.get("leak", ""), "")
    if job["kind"] == "run":
        open(os.path.join(out, "model.bin"), "w").write("weights")
        open(os.path.join(out, "metrics.jsonl"), "w").write(json.dumps({"step": 1, "note": leaked}) + "\n")
    else:
        open(os.path.join(out, "results.jsonl"), "w").write(json.dumps({"id": "a", "said": "the password is " + leaked}) + "\n")
    json.dump({"accuracy": 0.5, "echo": leaked, "quoted": '"' + leaked + '"'}, open(os.path.join(out, "summary.json"), "w"))
    print("leaked:", leaked, file=sys.stderr)
    """#

    func spec(_ kind: String, _ name: String, _ repo: HoneRepo, leak: String = "", extra: String = "") -> String {
        let params = "{envDump: \(repo.base.appendingPathComponent("env-\(name).json").path), leak: \"\(leak)\"}"
        let inputs = kind == "Run" ? "baseModel: base@v1\ntrainDataset: d@v1" : "model: base@v1\ndataset: d@v1"
        return "kind: \(kind)\n\(inputs)\nhandler: python3 handlers/leak.py\nparams: \(params)\n\(extra)\n"
    }

    func environment(of name: String, _ repo: HoneRepo) throws -> [String: String] {
        let data = try Data(contentsOf: repo.base.appendingPathComponent("env-\(name).json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    func testNoSecretReachesGitFilesOrOutputAndJobsGetOnlyTheirOwn() throws {
        let repo = try HoneRepo()
        try repo.write("handlers/leak.py", SecretLeakTests.leakyHandler)
        try repo.write("groups/g/runs/r.yaml", spec("Run", "r", repo, leak: "HONE_DEBUG_PASSWORD"))
        try repo.write("groups/g/evals/plain.yaml", spec("Eval", "plain", repo, leak: "HONE_REMOTE_URL"))
        try repo.write("groups/g/evals/dbg.yaml", spec("Eval", "dbg", repo, leak: "HONE_DEBUG_PASSWORD", extra: "debug: {enabled: true}"))
        try repo.write("groups/g/evals/other.yaml", spec("Eval", "other", repo, leak: "OTHER_PW", extra: "debug: {enabled: true, passwordEnv: OTHER_PW}"))
        try repo.commit("leaky jobs")
        let env = ["HONE_DEBUG_PASSWORD": debugPassword, "OTHER_PW": otherPassword,
                   "HONE_REMOTE_URL": "https://user:\(token)@host.invalid/x.git", "GITHUB_TOKEN": "gh-" + token]
        let first = try repo.reconcile(env: env)
        XCTAssertEqual(repo.status("r")?.phase, .succeeded)
        for name in ["plain", "dbg", "other"] { XCTAssertEqual(repo.evalStatus(name)?.phase, .succeeded, name) }
        let validate = try repo.hone(["validate"], env: env)
        XCTAssertEqual(validate.status, 0, validate.output)

        // Jobs get what they need only: no push token, no git credentials, no other eval's password.
        for name in ["r", "plain", "dbg", "other"] {
            let seen = try environment(of: name, repo)
            XCTAssertNil(seen["HONE_REMOTE_URL"], name)
            XCTAssertNil(seen["GITHUB_TOKEN"], name)
            XCTAssertEqual(seen["HONE_DEBUG_PASSWORD"], name == "dbg" ? debugPassword : nil, name)
            XCTAssertEqual(seen["OTHER_PW"], name == "other" ? otherPassword : nil, name)
            XCTAssertFalse(seen.values.contains { $0.contains(token) }, name)
            XCTAssertNotNil(seen["PATH"], "the rest of the environment is inherited")
        }
        // The debug eval's leaks were redacted on the way in, where the values are kept.
        XCTAssertEqual(repo.evalStatus("dbg")?.metrics["echo"], .string(SecretRedactor.mask))
        XCTAssertTrue(repo.read("status/groups/g/evals/dbg/results.jsonl")?.contains("the password is ***") == true)

        let secrets = [debugPassword, otherPassword, token]
        let objects = try allObjects(repo)
        let files = filesOutsideJobOutputs(repo)
        for secret in secrets {
            XCTAssertFalse(objects.contains(secret), "\(secret) is in a git object")
            XCTAssertFalse(files.contains(secret), "\(secret) is in a file under the repository")
            XCTAssertFalse(first.output.contains(secret) || validate.output.contains(secret), "\(secret) was printed")
        }
        try repo.assertHealthy()
    }

    /// What the CLI prints passes through the redactor too: a log committed before the token was known to
    /// hone (here: printed under an innocent name) is shown with the token masked once it is in scope.
    func testTheCLIPrintsNoSecretInScope() throws {
        let repo = try HoneRepo()
        try repo.run("r", params: "printEnv: INNOCENT")
        try repo.commit("r")
        try repo.reconcile(env: ["INNOCENT": token])
        XCTAssertTrue(repo.read("status/groups/g/runs/r/train.log")?.contains("secret is \(token)") == true, "the oracle: committed as printed")
        let env = ["HONE_REMOTE_URL": "https://x-access-token:\(token)@host.invalid/o/r.git"]
        for args in [["logs", "g/r"], ["describe", "run", "g/r"], ["get", "runs"]] {
            let r = try repo.hone(args, env: env)
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertFalse(r.output.contains(token), "hone \(args.joined(separator: " ")) printed the token:\n\(r.output)")
        }
        XCTAssertTrue(try repo.hone(["logs", "g/r"], env: env).stdout.contains("secret is ***"))
    }

    /// A debug password too short to be redacted without masking ordinary words is refused before the job
    /// starts: the eval fails with DebugPasswordTooShort and its handler never runs.
    func testATooShortDebugPasswordIsRefused() throws {
        let repo = try HoneRepo()
        try repo.eval("dbg", params: "printEnv: HONE_DEBUG_PASSWORD", extra: "debug: {enabled: true}")
        try repo.commit("debug eval")
        try repo.reconcile(env: ["HONE_DEBUG_PASSWORD": "abc12"])
        let s = try XCTUnwrap(repo.evalStatus("dbg"))
        XCTAssertEqual(s.phase, .failed)
        XCTAssertEqual(s.event("DebugPasswordTooShort")?.type, .warning, "\(s.events)")
        XCTAssertEqual(repo.executions(of: "g/dbg"), 0)
        XCTAssertFalse(try allObjects(repo).contains("abc12"))
    }

    /// Every git object, through `git cat-file --batch-all-objects --batch` (reachable or not).
    func allObjects(_ repo: HoneRepo) throws -> String {
        try repo.git("cat-file", "--batch-all-objects", "--batch")
    }

    /// Every regular file under the repository folder, except what handlers wrote into their own `out/`.
    func filesOutsideJobOutputs(_ repo: HoneRepo) -> String {
        var out = ""
        guard let e = FileManager.default.enumerator(at: repo.root, includingPropertiesForKeys: [.isRegularFileKey]) else { return "" }
        for case let u as URL in e where (try? u.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            if u.path.contains("/.hone/jobs/") && u.path.contains("/out/") { continue }
            if let d = FileManager.default.contents(atPath: u.path) { out += String(decoding: d, as: UTF8.self) + "\n" }
        }
        return out
    }
}
