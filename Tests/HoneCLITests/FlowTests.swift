import Foundation
import XCTest
import HoneTestSupport

/// The CI flow, end to end, with the templates' own step scripts (examples/ci/scripts) against local
/// bare repositories: a pull request's plan comment, the merge, reconciles pushing to a remote that
/// moves meanwhile, reviewers reading the results, and gates passing or failing.
final class FlowTests: XCTestCase {
    func testPullRequestMergeReconcileAndReview() throws {
        let s = try Sandbox()
        let a = try s.seedOriginAndClone("a")        // the CI runner's checkout
        let b = try s.clone("b")                      // a developer's checkout
        // The baseline gets its results first, as it would on an existing main.
        let first = s.run([s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: a)
        XCTAssertEqual(first.status, 0, first.all)

        // A pull request adds a run and an eval with gates.
        s.git(["pull", "-q", "--ff-only"], in: b)
        s.git(["checkout", "-q", "-b", "feature"], in: b)
        try s.write("groups/g/runs/ft.yaml", Sandbox.runSpec, in: b)
        try s.write("groups/g/evals/ft-test.yaml", Sandbox.evalSpec(accuracy: 0.7, gate: ">= baseline - 0.01"), in: b)
        s.git(["add", "-A"], in: b)
        s.git(["commit", "-qm", "fine-tune ft and its eval"], in: b)
        s.git(["push", "-q", "origin", "feature"], in: b)

        // CI on the pull request: a fresh checkout of the branch, the plan comment.
        let pr = try s.clone("pr", branch: "feature")
        let plan = s.run([s.script("pr-plan.sh"), "origin/main", "plan.md"], in: pr)
        XCTAssertEqual(plan.status, 0, plan.all)
        let comment = try String(contentsOf: pr.appendingPathComponent("plan.md"), encoding: .utf8)
        XCTAssertTrue(comment.hasPrefix("<!-- hone-plan -->\n"), comment)
        let planRows = comment.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| |") && !$0.hasPrefix("| eval") }
        let actionRows = planRows.filter { $0.contains("| Run |") || $0.contains("| Eval |") }
        XCTAssertEqual(actionRows.count, 2, "exactly the run and the eval the change adds:\n\(comment)")
        XCTAssertTrue(actionRows.contains { $0.contains("`ft`") && $0.contains("**create**") && $0.contains("≤ $2.50") }, comment)
        XCTAssertTrue(actionRows.contains { $0.contains("`ft-test`") && $0.contains("**blocked**") && $0.contains("≤ $0.42") }, comment)
        XCTAssertFalse(comment.contains("`base`"), "the unchanged baseline is not part of the change:\n\(comment)")
        XCTAssertTrue(comment.contains("est. cost $2.92"), comment)
        XCTAssertTrue(comment.contains("| g/ft-test | metrics.accuracy | >= baseline - 0.01 |") && comment.contains("| pending |"), comment)
        try comment.write(to: s.root.appendingPathComponent("pr-comment.md"), atomically: true, encoding: .utf8)
        print("--- PR comment ---\n\(comment)--- end ---")
        let prCheck = s.run(["hone", "check", "--base", "origin/main"], in: pr)
        XCTAssertEqual(prCheck.status, 0, "pending gates do not fail the pull request: \(prCheck.all)")
        XCTAssertEqual(s.run(["hone", "check", "--base", "origin/main", "--require-results"], in: pr).status, 1)

        // Merge.
        s.git(["checkout", "-q", "main"], in: b)
        s.git(["merge", "-q", "--no-ff", "-m", "Merge feature", "feature"], in: b)
        s.git(["push", "-q", "origin", "main"], in: b)
        let mergeCommit = s.git(["rev-parse", "HEAD"], in: b)
        let beforeMerge = s.git(["rev-parse", "HEAD^1"], in: b)

        // CI on main: launch without waiting (records the intent, pushes) ...
        s.git(["pull", "-q", "--ff-only"], in: a)
        let launch = s.run([s.script("reconcile.sh")], in: a)
        XCTAssertEqual(launch.status, 0, launch.all)
        XCTAssertTrue(launch.stdout.contains("1 launched"), launch.all)
        // ... meanwhile a developer pushes an unrelated commit ...
        s.git(["pull", "-q", "--ff-only"], in: b)
        try s.write("NOTES.md", "unrelated work\n", in: b)
        s.git(["add", "NOTES.md"], in: b)
        s.git(["commit", "-qm", "notes"], in: b)
        s.git(["push", "-q", "origin", "main"], in: b)
        let notesCommit = s.git(["rev-parse", "HEAD"], in: b)
        // ... so the next reconcile's first push is rejected: it must fetch, re-apply and retry.
        let collect = s.run([s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: a)
        XCTAssertEqual(collect.status, 0, collect.all)
        XCTAssertTrue(collect.stderr.contains("push rejected"), "the remote had moved: \(collect.all)")
        XCTAssertTrue(collect.stdout.contains("2 Succeeded: g/ft, g/ft-test"), collect.all)
        XCTAssertEqual(s.git(["status", "--porcelain"], in: a), "")

        // Nothing lost on the remote: the merge, the unrelated commit and every hone commit.
        let origin = s.root.appendingPathComponent("origin.git")
        XCTAssertEqual(s.run(["git", "fsck", "--no-progress"], in: origin).status, 0)
        XCTAssertEqual(s.run(["git", "merge-base", "--is-ancestor", notesCommit, "main"], in: origin).status, 0)
        XCTAssertEqual(s.run(["git", "merge-base", "--is-ancestor", mergeCommit, "main"], in: origin).status, 0)
        XCTAssertEqual(s.git(["rev-parse", "main"], in: origin), s.git(["rev-parse", "HEAD"], in: a))
        let honeCommits = s.git(["log", "--format=%H", "--grep=Hone-Action:", "\(beforeMerge)..main"], in: origin).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(honeCommits.count, 3, "create ft, collect ft + create ft-test, collect ft-test")
        // CI skips pushes of hone's commits by their trailer: every commit hone made must carry one.
        // (Fails today: the commit launching an eval in a later --wait pass is "hone:" with no trailer;
        // reported to the engine's owner.)
        let byHone = s.git(["log", "--author=hone@localhost", "--format=%h %s|%(trailers:key=Hone-Action,valueonly,separator=%x2C)", "\(beforeMerge)..main"], in: origin)
            .split(separator: "\n")
        XCTAssertFalse(byHone.isEmpty)
        XCTAssertTrue(byHone.allSatisfy { !$0.hasSuffix("|") }, "hone commits without a Hone-Action trailer:\n\(byHone.joined(separator: "\n"))")

        // Reviewers pull and read statuses, logs and results in git.
        s.git(["pull", "-q", "--ff-only"], in: b)
        XCTAssertTrue(FileManager.default.fileExists(atPath: b.appendingPathComponent("NOTES.md").path))
        let runStatus = try String(contentsOf: b.appendingPathComponent("status/groups/g/runs/ft.yaml"), encoding: .utf8)
        XCTAssertTrue(runStatus.contains("phase: Succeeded"), runStatus)
        let trainLog = try String(contentsOf: b.appendingPathComponent("status/groups/g/runs/ft/train.log"), encoding: .utf8)
        XCTAssertTrue(trainLog.contains("trained g/ft"), trainLog)
        let evalStatus = try String(contentsOf: b.appendingPathComponent("status/groups/g/evals/ft-test.yaml"), encoding: .utf8)
        XCTAssertTrue(evalStatus.contains("phase: Succeeded") && evalStatus.contains("accuracy: 0.7"), evalStatus)
        let rows = try String(contentsOf: b.appendingPathComponent("status/groups/g/evals/ft-test/results.jsonl"), encoding: .utf8)
        XCTAssertEqual(rows.split(separator: "\n").count, 2, rows)
        let plain = s.run(["hone", "plan", "--detailed-exitcode"], in: b)
        XCTAssertEqual(plain.status, 0, "everything finished, nothing left to do: \(plain.all)")

        // The good change's gates pass once its results exist.
        let good = s.run(["hone", "check", "--base", beforeMerge, "--require-results"], in: b)
        XCTAssertEqual(good.status, 0, good.all)
        XCTAssertTrue(good.stdout.contains("g/ft-test  metrics.accuracy  >= baseline - 0.01  0.7    0.59   g/base @ \(beforeMerge.prefix(10))  0.6             pass"), good.stdout)

        // A worse change: a gate it cannot meet. Pending on the pull request, FAIL once it has run.
        s.git(["checkout", "-q", "-b", "worse"], in: b)
        try s.write("groups/g/evals/ft-strict.yaml", Sandbox.evalSpec(accuracy: 0.7, gate: ">= baseline + 0.5"), in: b)
        s.git(["add", "-A"], in: b)
        s.git(["commit", "-qm", "strict eval"], in: b)
        let worseCheck = s.run(["hone", "check", "--base", "main"], in: b)
        XCTAssertEqual(worseCheck.status, 0, worseCheck.all)
        XCTAssertTrue(worseCheck.stdout.contains("pending"), worseCheck.stdout)
        s.git(["checkout", "-q", "main"], in: b)
        let beforeWorse = s.git(["rev-parse", "HEAD"], in: b)
        s.git(["merge", "-q", "--ff-only", "worse"], in: b)
        s.git(["push", "-q", "origin", "main"], in: b)
        s.git(["pull", "-q", "--ff-only"], in: a)
        let third = s.run([s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: a)
        XCTAssertEqual(third.status, 0, third.all)
        s.git(["pull", "-q", "--ff-only"], in: b)
        let bad = s.run(["hone", "check", "--base", beforeWorse], in: b)
        XCTAssertEqual(bad.status, 1, bad.all)
        XCTAssertTrue(bad.stdout.contains("g/ft-strict  metrics.accuracy  >= baseline + 0.5  0.7    1.1    g/base @ \(beforeWorse.prefix(10))  0.6             FAIL"), bad.stdout)
        XCTAssertFalse(bad.stdout.contains("g/ft-test"), "only the change's evals: \(bad.stdout)")
        XCTAssertEqual(s.run(["hone", "check"], in: b).status, 1, "the whole repository has a failing gate now")
    }

    /// post-comment.sh keeps ONE comment: it creates it, then edits it in place, found by its marker
    /// even on the second page of comments.
    func testPostCommentCreatesOnceThenUpdatesOnGitHub() throws {
        let s = try Sandbox()
        let server = try FakeForge(sandbox: s, seedComments: 100)
        defer { server.stop() }
        try "<!-- hone-plan -->\n### hone plan\n\nfirst\n".write(to: s.root.appendingPathComponent("p1.md"), atomically: true, encoding: .utf8)
        try "### hone plan\n\nsecond\n".write(to: s.root.appendingPathComponent("p2.md"), atomically: true, encoding: .utf8)
        let env = ["GITHUB_API_URL": server.url, "GITHUB_REPOSITORY": "acme/models", "PR_NUMBER": "7", "GITHUB_TOKEN": "t0ken", "GITLAB_CI": ""]
        let one = s.run([s.script("post-comment.sh"), "p1.md"], in: s.root, env: env)
        XCTAssertEqual(one.status, 0, one.all)
        XCTAssertEqual(one.stdout, "created a comment\n")
        let two = s.run([s.script("post-comment.sh"), "p2.md"], in: s.root, env: env)
        XCTAssertEqual(two.status, 0, two.all)
        XCTAssertEqual(two.stdout, "updated comment 1101\n")

        let writes = try server.requests().filter { $0["method"] as? String != "GET" }
        XCTAssertEqual(writes.map { "\($0["method"]!) \($0["path"]!)" },
                       ["POST /repos/acme/models/issues/7/comments", "PATCH /repos/acme/models/issues/comments/1101"])
        XCTAssertTrue(writes.allSatisfy { $0["authorization"] as? String == "Bearer t0ken" })
        let comments = try server.comments()
        XCTAssertEqual(comments.filter { ($0["body"] as? String ?? "").contains("<!-- hone-plan -->") }.count, 1)
        XCTAssertEqual(comments.count, 101, "the 100 other comments are untouched")
        XCTAssertEqual(comments.last?["body"] as? String, "<!-- hone-plan -->\n### hone plan\n\nsecond\n", "the marker is added when the file lacks it")
    }

    func testPostCommentUpdatesTheGitLabNote() throws {
        let s = try Sandbox()
        let server = try FakeForge(sandbox: s, seedComments: 2, seedMarked: true)
        defer { server.stop() }
        try "<!-- hone-plan -->\nnew plan\n".write(to: s.root.appendingPathComponent("p.md"), atomically: true, encoding: .utf8)
        let env = ["GITLAB_CI": "true", "CI_API_V4_URL": server.url + "/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "3",
                   "HONE_GITLAB_TOKEN": "glpat-x"]
        let r = s.run([s.script("post-comment.sh"), "p.md"], in: s.root, env: env)
        XCTAssertEqual(r.status, 0, r.all)
        let writes = try server.requests().filter { $0["method"] as? String != "GET" }
        XCTAssertEqual(writes.map { "\($0["method"]!) \($0["path"]!)" }, ["PUT /api/v4/projects/42/merge_requests/3/notes/1003"])
        XCTAssertEqual(writes.first?["private-token"] as? String, "glpat-x")
        XCTAssertEqual(try server.comments().first { $0["id"] as? Int == 1003 }?["body"] as? String, "<!-- hone-plan -->\nnew plan\n")

        // Without a token it says which variable is missing and posts nothing.
        var noToken = env; noToken["HONE_GITLAB_TOKEN"] = ""
        let refused = s.run([s.script("post-comment.sh"), "p.md"], in: s.root, env: noToken)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("HONE_GITLAB_TOKEN"), refused.all)
        XCTAssertEqual(try server.requests().filter { $0["method"] as? String != "GET" }.count, 1)
    }
}

// MARK: - Fixtures

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var all: String { "exit \(status)\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// A temporary folder with a bare "origin", clones of it, the built `hone` on PATH, an isolated git
/// configuration and a fixed identity for the test's own commits.
final class Sandbox {
    let root: URL
    let env: [String: String]

    static var buildDir: URL { HoneBinary.directory }
    static var scriptsDir: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/ci/scripts")
    }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hone-flow-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let emptyConfig = root.appendingPathComponent("gitconfig")
        try "".write(to: emptyConfig, atomically: true, encoding: .utf8)
        var e = ProcessInfo.processInfo.environment
        for k in e.keys where k.hasPrefix("GIT_") || k.hasPrefix("HONE") || k.hasPrefix("GITHUB_") || k.hasPrefix("CI_") { e[k] = nil }
        e["PATH"] = Sandbox.buildDir.path + ":" + (e["PATH"] ?? "/usr/bin:/bin")
        e["HONE"] = Sandbox.buildDir.appendingPathComponent("hone").path
        e["GIT_CONFIG_GLOBAL"] = emptyConfig.path   // no user identity: reconcile.sh must set one
        e["GIT_CONFIG_NOSYSTEM"] = "1"
        e["GIT_AUTHOR_NAME"] = "Dev"; e["GIT_AUTHOR_EMAIL"] = "dev@example.com"
        e["GIT_COMMITTER_NAME"] = "Dev"; e["GIT_COMMITTER_EMAIL"] = "dev@example.com"
        env = e
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func script(_ name: String) -> String { Sandbox.scriptsDir.appendingPathComponent(name).path }

    @discardableResult
    func run(_ args: [String], in dir: URL, env extra: [String: String] = [:]) -> CommandResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = dir
        var e = env
        for (k, v) in extra { e[k] = v }
        p.environment = e
        let out = root.appendingPathComponent(".out-\(UUID().uuidString)")
        let err = root.appendingPathComponent(".err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        do {
            let o = try FileHandle(forWritingTo: out), r = try FileHandle(forWritingTo: err)
            p.standardOutput = o; p.standardError = r; p.standardInput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            try o.close(); try r.close()
        } catch {
            return CommandResult(status: -1, stdout: "", stderr: "cannot run \(args): \(error)")
        }
        return CommandResult(status: p.terminationStatus,
                             stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs git, failing the test on a non-zero exit; returns trimmed stdout.
    @discardableResult
    func git(_ args: [String], in dir: URL, file: StaticString = #filePath, line: UInt = #line) -> String {
        let r = run(["git"] + args, in: dir)
        XCTAssertEqual(r.status, 0, "git \(args.joined(separator: " ")): \(r.all)", file: file, line: line)
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func write(_ relative: String, _ text: String, in dir: URL) throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func clone(_ name: String, branch: String = "main") throws -> URL {
        git(["clone", "-q", "--branch", branch, root.appendingPathComponent("origin.git").path, name], in: root)
        return root.appendingPathComponent(name)
    }

    /// A bare origin whose main holds a tiny hone repository (one baseline eval), cloned as `name`.
    func seedOriginAndClone(_ name: String) throws -> URL {
        git(["init", "-q", "--bare", "-b", "main", "origin.git"], in: root)
        let seed = root.appendingPathComponent("seed")
        git(["init", "-q", "-b", "main", "seed"], in: root)
        try Sandbox.writeRepository(self, at: seed)
        git(["add", "-A"], in: seed)
        git(["commit", "-qm", "hone repository"], in: seed)
        git(["remote", "add", "origin", root.appendingPathComponent("origin.git").path], in: seed)
        git(["push", "-q", "origin", "main"], in: seed)
        return try clone(name)
    }

    /// Project with a priced pool, a model, a dataset, python handlers that write summary.json
    /// (+ results.jsonl, a model file) in well under a second, and the baseline eval `base` (accuracy 0.6).
    static func writeRepository(_ s: Sandbox, at dir: URL) throws {
        let weights = "weights\n", data = "q1\nq2\n"
        try s.write(".gitignore", ".hone/\n", in: dir)
        try s.write("hone.yaml", """
            kind: Project
            name: flow
            store: .hone/store
            pools:
              gpu:
                executor: local
                maxParallel: 2
                costPerHour: 2.5
                maxHours: 1

            """, in: dir)
        try s.write("models/tiny/w.bin", weights, in: dir)
        try s.write("models/tiny/v1.yaml", "kind: ModelVersion\nuri: models/tiny/w.bin\nsha256: \(sha256(weights))\n", in: dir)
        try s.write("datasets/qa/data.txt", data, in: dir)
        try s.write("datasets/qa/v1.yaml", "kind: DatasetVersion\nuri: datasets/qa/data.txt\nsha256: \(sha256(data))\n", in: dir)
        try s.write("groups/g/group.yaml", "kind: Group\ndescription: CI flow\n", in: dir)
        try s.write("handlers/train.py", """
            import json, os
            job = json.load(open(os.environ["HONE_JOB"]))
            out = job["outputDir"]
            open(os.path.join(out, "model.bin"), "w").write("trained " + json.dumps(job["params"]))
            json.dump({"loss": 0.5}, open(os.path.join(out, "summary.json"), "w"))
            print("trained", job["object"])

            """, in: dir)
        try s.write("handlers/evaluate.py", """
            import json, os, sys
            job = json.load(open(os.environ["HONE_JOB"]))
            params = job["params"]
            if params.get("fail"):
                print("evaluation crashed", file=sys.stderr); sys.exit(3)
            out = job["outputDir"]
            acc = float(params.get("accuracy", 0.5))
            summary = {"accuracy": acc}
            summary.update(params.get("extra", {}))
            json.dump(summary, open(os.path.join(out, "summary.json"), "w"))
            with open(os.path.join(out, "results.jsonl"), "w") as f:
                f.write(json.dumps({"id": "q1", "correct": True}) + "\\n")
                f.write(json.dumps({"id": "q2", "correct": acc > 0.5}) + "\\n")
            print("evaluated", job["object"], acc)

            """, in: dir)
        try s.write("groups/g/evals/base.yaml", """
            kind: Eval
            pool: gpu
            model: tiny@v1
            handler: python3 handlers/evaluate.py
            dataset: qa@v1
            params: {accuracy: 0.6}
            autoRelease: 600s

            """, in: dir)
    }

    static let runSpec = """
        kind: Run
        pool: gpu
        baseModel: tiny@v1
        trainDataset: qa@v1
        handler: python3 handlers/train.py
        params: {lr: 0.01}

        """

    /// An eval of run `ft`'s model, reporting `accuracy`, with one gate on it against `base`.
    static func evalSpec(accuracy: Double, gate: String, fromRun: String? = "ft", extraParams: String = "") -> String {
        """
        kind: Eval
        pool: gpu
        \(fromRun.map { "fromRun: \($0)" } ?? "model: tiny@v1")
        handler: python3 handlers/evaluate.py
        dataset: qa@v1
        params: {accuracy: \(accuracy)\(extraParams)}
        autoRelease: 600s
        baseline: base
        gates:
          metrics.accuracy: "\(gate)"

        """
    }

    static func sha256(_ text: String) -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", text]
        let pipe = Pipe()
        p.standardOutput = pipe
        try? p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A tiny GitHub/GitLab comments API on 127.0.0.1 (python3 http.server): lists comments 100 a page,
/// creates, edits, and records every call. It exits by itself after 120 s if a test forgets it.
final class FakeForge {
    let process = Process()
    let url: String
    let log: URL
    let state: URL

    init(sandbox s: Sandbox, seedComments: Int, seedMarked: Bool = false) throws {
        let dir = s.root.appendingPathComponent("forge-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        log = dir.appendingPathComponent("requests.jsonl")
        state = dir.appendingPathComponent("comments.json")
        let portFile = dir.appendingPathComponent("port")
        var comments: [[String: Any]] = (0..<seedComments).map { ["id": 1000 + $0 + 1, "body": "review comment \($0 + 1)"] }
        if seedMarked { comments.append(["id": 1000 + seedComments + 1, "body": "<!-- hone-plan -->\nold plan\n"]) }
        try JSONSerialization.data(withJSONObject: comments).write(to: state)
        let server = dir.appendingPathComponent("forge.py")
        try FakeForge.source.write(to: server, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", server.path, state.path, log.path, portFile.path]
        try process.run()
        var port = ""
        for _ in 0..<200 {
            if let p = try? String(contentsOf: portFile, encoding: .utf8), p.hasSuffix("\n") { port = p.trimmingCharacters(in: .whitespacesAndNewlines); break }
            usleep(25_000)
        }
        guard !port.isEmpty else { process.terminate(); throw XCTSkip("the fake forge did not start") }
        url = "http://127.0.0.1:\(port)"
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    func requests() throws -> [[String: Any]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    func comments() throws -> [[String: Any]] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: state)) as! [[String: Any]]
    }

    static let source = #"""
    import json, re, sys, threading, os
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import urlparse, parse_qs
    state_path, log_path, port_path = sys.argv[1:4]
    threading.Timer(120, lambda: os._exit(0)).start()   # bounded: never outlives a test run

    def load(): return json.load(open(state_path))
    def save(c):
        json.dump(c, open(state_path + ".tmp", "w")); os.replace(state_path + ".tmp", state_path)

    class Forge(BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def record(self, body):
            with open(log_path, "a") as f:
                f.write(json.dumps({"method": self.command, "path": urlparse(self.path).path, "query": urlparse(self.path).query,
                                    "authorization": self.headers.get("Authorization"), "private-token": self.headers.get("PRIVATE-TOKEN"),
                                    "body": body}) + "\n")
        def reply(self, code, obj):
            data = json.dumps(obj).encode()
            self.send_response(code); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")
        def do_GET(self):
            self.record(None)
            u = urlparse(self.path); q = parse_qs(u.query)
            if re.fullmatch(r"/repos/[^/]+/[^/]+/issues/\d+/comments|/api/v4/projects/\d+/merge_requests/\d+/notes", u.path):
                per, page = int(q.get("per_page", ["30"])[0]), int(q.get("page", ["1"])[0])
                c = load(); return self.reply(200, c[(page - 1) * per: page * per])
            self.reply(404, {"message": "Not Found"})
        def do_POST(self):
            b = self.body(); self.record(b)
            if re.fullmatch(r"/repos/[^/]+/[^/]+/issues/\d+/comments|/api/v4/projects/\d+/merge_requests/\d+/notes", urlparse(self.path).path):
                c = load(); new = {"id": max([x["id"] for x in c] + [1100]) + 1, "body": b["body"]}
                c.append(new); save(c); return self.reply(201, new)
            self.reply(404, {"message": "Not Found"})
        def edit(self):
            b = self.body(); self.record(b)
            m = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)|/api/v4/projects/\d+/merge_requests/\d+/notes/(\d+)", urlparse(self.path).path)
            if m:
                cid = int(m.group(1) or m.group(2)); c = load()
                for x in c:
                    if x["id"] == cid:
                        x["body"] = b["body"]; save(c); return self.reply(200, x)
            self.reply(404, {"message": "Not Found"})
        do_PATCH = edit
        do_PUT = edit

    server = HTTPServer(("127.0.0.1", 0), Forge)
    with open(port_path, "w") as f: f.write("%d\n" % server.server_address[1])
    server.serve_forever()
    """#
}
