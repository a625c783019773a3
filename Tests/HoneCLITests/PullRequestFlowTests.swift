import Foundation
import XCTest

/// Pull-request driven fine-tunes, end to end with the templates' scripts (examples/ci/scripts): a bare origin,
/// a CI runner's checkout and a developer's, a fake GitHub for the comment, and handlers that count their
/// executions in a file outside every repository. The pull request's branch is reconciled (results land on it,
/// publishing waits), the comment shows the plan then the results, the comparison against main's baseline and
/// the gates; after the merge main's reconcile launches nothing and only publishes.
final class PullRequestFlowTests: XCTestCase {
    enum MergeKind { case mergeCommit, fastForward, squash }

    func testMergeCommitReusesThePullRequestsTraining() throws { try pullRequestThenMerge(.mergeCommit) }
    func testFastForwardReusesThePullRequestsTraining() throws { try pullRequestThenMerge(.fastForward) }
    func testSquashMergeReusesThePullRequestsTraining() throws { try pullRequestThenMerge(.squash) }

    func pullRequestThenMerge(_ kind: MergeKind) throws {
        let f = try PRFlow()
        let forge = try FakeForge(sandbox: f.s, seedComments: 0)
        defer { forge.stop() }
        // The squash merge's pull request is a GitLab merge request: its note is edited in place the same way.
        let forgeEnv = kind == .squash
            ? ["GITLAB_CI": "true", "CI_API_V4_URL": forge.url + "/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "12", "HONE_GITLAB_TOKEN": "glpat-x"]
            : ["GITHUB_API_URL": forge.url, "GITHUB_REPOSITORY": "acme/models", "PR_NUMBER": "12", "GITHUB_TOKEN": "t0ken", "GITLAB_CI": ""]
        let forkPoint = f.s.git(["rev-parse", "HEAD"], in: f.dev)
        if kind != .fastForward {
            // main moves on after the branch is cut: its baseline is re-evaluated (0.65). The pull request's
            // copy of the baseline's status still says 0.6; the comparison must be against main's.
            f.s.git(["pull", "-q", "--ff-only"], in: f.dev)
            try f.s.write("groups/g/evals/base.yaml", PRFlow.baseSpec(accuracy: 0.65), in: f.dev)
            f.s.git(["commit", "-qam", "re-evaluate the baseline"], in: f.dev)
            f.s.git(["push", "-q", "origin", "main"], in: f.dev)
            f.s.git(["pull", "-q", "--ff-only"], in: f.runner)
            XCTAssertEqual(f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner).status, 0)
        }
        let mainBaseline = kind == .fastForward ? "0.6" : "0.65"

        // The pull request: a run that publishes, and an eval of its model with a gate against the baseline.
        try f.openPullRequest("feature", accuracy: 0.7, from: forkPoint)

        // CI, pull_request event: the plan comment first.
        f.checkout("feature", in: f.runner)
        let plan = f.comment()
        XCTAssertEqual(plan.status, 0, plan.text)
        XCTAssertTrue(plan.text.contains("| + | `ft` | Run | **create** | new run: never run; publishes into model ft-model when merged into main |"), plan.text)
        XCTAssertTrue(plan.text.contains("| g/ft-test | metrics.accuracy | >= baseline - 0.01 | - |") && plan.text.contains("| pending |"), plan.text)
        XCTAssertEqual(f.s.run([f.s.script("post-comment.sh"), "plan.md"], in: f.runner, env: forgeEnv).stdout, "created a comment\n")

        // ... then the branch is reconciled: its jobs run, their results are committed to the branch.
        let reconcile = f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner)
        XCTAssertEqual(reconcile.status, 0, reconcile.all)
        XCTAssertTrue(reconcile.stdout.contains("2 Succeeded: g/ft, g/ft-test"), reconcile.all)
        XCTAssertEqual(f.s.git(["ls-tree", "-r", "--name-only", "origin/feature", "models/"], in: f.runner), "models/tiny/v1.yaml\nmodels/tiny/w.bin",
                       "nothing is published on a pull request's branch")
        let branchPlan = f.s.run(["hone", "plan"], in: f.runner)
        XCTAssertTrue(branchPlan.stdout.contains("g/ft") && branchPlan.stdout.contains("deferred") && branchPlan.stdout.contains("publishes into model ft-model when merged into main"), branchPlan.all)
        XCTAssertEqual(f.s.run(["hone", "plan", "--detailed-exitcode"], in: f.runner).status, 0, "nothing left to do on the branch")

        // The same comment, updated: results, the comparison against main's baseline, the gate's verdict.
        let results = f.comment()
        XCTAssertEqual(results.status, 0, results.text)
        XCTAssertTrue(results.text.contains("**✅ 1 gate: 1 pass, 0 FAIL, 0 pending**"), results.text)
        XCTAssertTrue(results.text.contains("| g/ft-test | metrics.accuracy | >= baseline - 0.01 | 0.7 |"), results.text)
        XCTAssertTrue(results.text.contains("| g/base @ origin/main | \(mainBaseline) |"), "the baseline as main records it:\n\(results.text)")
        XCTAssertTrue(results.text.contains("### Results of `g/ft-test` against `g/base @ origin/main`") && results.text.contains("| metric | better | `g/base @ origin/main` (baseline) | `g/ft-test` |"), results.text)
        XCTAssertTrue(results.text.contains("| accuracy | ↑ higher | \(mainBaseline) |"), results.text)
        XCTAssertEqual(f.s.run([f.s.script("post-comment.sh"), "plan.md"], in: f.runner, env: forgeEnv).stdout, "updated comment 1101\n")
        XCTAssertEqual(try forge.comments().count, 1, "one comment, edited in place")
        XCTAssertEqual(try forge.comments().first?["body"] as? String, results.text)
        XCTAssertEqual(try forge.requests().filter { $0["method"] as? String != "GET" }.compactMap { $0["path"] as? String },
                       kind == .squash ? ["/api/v4/projects/42/merge_requests/12/notes", "/api/v4/projects/42/merge_requests/12/notes/1101"]
                                       : ["/repos/acme/models/issues/12/comments", "/repos/acme/models/issues/comments/1101"])
        if kind == .mergeCommit {
            print("--- PR comment with the plan ---\n\(plan.text)--- end ---")
            try results.text.write(to: f.s.root.appendingPathComponent("pr-results-comment.md"), atomically: true, encoding: .utf8)
            print("--- PR comment with results ---\n\(results.text)--- end ---")
        }
        let check = f.s.run(["hone", "check", "--base", "origin/main", "--require-results"], in: f.runner)
        XCTAssertEqual(check.status, 0, check.all)

        // Merge.
        f.s.git(["fetch", "-q"], in: f.dev)
        f.s.git(["checkout", "-q", "main"], in: f.dev)
        f.s.git(["pull", "-q", "--ff-only"], in: f.dev)
        switch kind {
        case .mergeCommit: f.s.git(["merge", "-q", "--no-ff", "-m", "Merge pull request #12", "origin/feature"], in: f.dev)
        case .fastForward: f.s.git(["merge", "-q", "--ff-only", "origin/feature"], in: f.dev)
        case .squash:
            f.s.git(["merge", "-q", "--squash", "origin/feature"], in: f.dev)
            f.s.git(["commit", "-qm", "fine-tune ft (#12)"], in: f.dev)
        }
        f.s.git(["push", "-q", "origin", "main"], in: f.dev)

        // CI, push to main: nothing to launch, only the publish.
        f.checkout("main", in: f.runner)
        let mainPlan = f.s.run(["hone", "plan"], in: f.runner)
        XCTAssertTrue(mainPlan.stdout.contains("1 to publish") && !mainPlan.stdout.contains("to create"), mainPlan.all)
        let onMain = f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner)
        XCTAssertEqual(onMain.status, 0, onMain.all)
        XCTAssertTrue(onMain.stdout.hasPrefix("reconciled: 0 launched, 0 finished"), onMain.all)
        let manifest = f.s.run(["git", "show", "origin/main:models/ft-model/v1.yaml"], in: f.runner)
        XCTAssertEqual(manifest.status, 0, "published on main: \(manifest.all)")
        XCTAssertTrue(manifest.stdout.contains("publishedFrom: g/ft"), manifest.stdout)
        XCTAssertEqual(try f.executions().filter { !$0.contains("g/base") }, ["train g/ft attempt 1", "evaluate g/ft-test attempt 1"],
                       "the training ran exactly once, on the pull request")
        XCTAssertEqual(f.s.run(["hone", "plan", "--detailed-exitcode"], in: f.runner).status, 0)
        XCTAssertEqual(f.s.run(["hone", "check", "--require-results"], in: f.runner).status, 0)
    }

    /// main moved while the pull request was open so that the merged spec differs from what the branch ran: main's
    /// plan says why it runs again.
    func testMergeAfterMainMovedSaysWhyItReruns() throws {
        let f = try PRFlow()
        let forkPoint = f.s.git(["rev-parse", "HEAD"], in: f.dev)
        // The pull request re-evaluates the baseline with other params, on its branch.
        f.s.git(["checkout", "-q", "-b", "params"], in: f.dev)
        try f.s.write("groups/g/evals/base.yaml", PRFlow.baseSpec(accuracy: 0.62), in: f.dev)
        f.s.git(["commit", "-qam", "baseline params"], in: f.dev)
        f.s.git(["push", "-q", "origin", "params"], in: f.dev)
        f.checkout("params", in: f.runner)
        XCTAssertEqual(f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner).status, 0)
        // Meanwhile main changes the baseline's handler (another line of the same file).
        f.s.git(["checkout", "-q", "main"], in: f.dev)
        f.s.git(["reset", "-q", "--hard", forkPoint], in: f.dev)
        try f.s.write("groups/g/evals/base.yaml", PRFlow.baseSpec(accuracy: 0.6).replacingOccurrences(of: "handlers/evaluate.py", with: "handlers/evaluate.py --strict"), in: f.dev)
        f.s.git(["commit", "-qam", "strict baseline"], in: f.dev)
        f.s.git(["push", "-q", "origin", "main"], in: f.dev)
        f.s.git(["fetch", "-q"], in: f.dev)
        f.s.git(["merge", "-q", "--no-ff", "-m", "Merge params", "origin/params"], in: f.dev)
        f.s.git(["push", "-q", "origin", "main"], in: f.dev)

        f.checkout("main", in: f.runner)
        let plan = f.s.run(["hone", "plan"], in: f.runner)
        XCTAssertTrue(plan.stdout.contains("g/base  Eval  rerun    spec changed (handler python3 handlers/evaluate.py → python3 handlers/evaluate.py --strict) since attempt 2 (Succeeded)"), plan.all)
        XCTAssertEqual(f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner).status, 0)
        XCTAssertEqual(try f.executions().filter { $0.contains("g/base") }, ["evaluate g/base attempt 1", "evaluate g/base attempt 2", "evaluate g/base attempt 3"])
    }

    /// A comment over the forges' 65,536-character limit is cut at a line, its open code fence closed, with a note.
    func testPostCommentKeepsUnderTheCommentLimit() throws {
        let s = try Sandbox()
        let forge = try FakeForge(sandbox: s, seedComments: 0)
        defer { forge.stop() }
        let long = "<!-- hone-plan -->\n### hone plan\n\n```\n" + String(repeating: "g/e: error: a long diagnostic line\n", count: 3000)
        try long.write(to: s.root.appendingPathComponent("big.md"), atomically: true, encoding: .utf8)
        let env = ["GITHUB_API_URL": forge.url, "GITHUB_REPOSITORY": "acme/models", "PR_NUMBER": "3", "GITHUB_TOKEN": "t0ken", "GITLAB_CI": ""]
        let r = s.run([s.script("post-comment.sh"), "big.md"], in: s.root, env: env)
        XCTAssertEqual(r.status, 0, r.all)
        let body = try XCTUnwrap(try forge.comments().first?["body"] as? String)
        XCTAssertGreaterThan(long.count, 65_536)
        XCTAssertLessThanOrEqual(body.count, 65_536)
        XCTAssertTrue(body.hasSuffix("_… cut to fit the 65,536-character limit of a comment: run `hone plan`, `hone compare --base` and `hone check --base` for the rest._\n"), String(body.suffix(300)))
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.filter { $0.hasPrefix("```") }.count, 2, "the code fence is closed")
        XCTAssertTrue(lines.filter { $0.hasPrefix("g/e") }.allSatisfy { $0 == "g/e: error: a long diagnostic line" }, "cut at a line")
    }

    /// A worse model: the eval's gate fails on the pull request, before any merge.
    func testWorseModelFailsTheChecksGate() throws {
        let f = try PRFlow()
        try f.openPullRequest("worse", accuracy: 0.4)
        f.checkout("worse", in: f.runner)
        let before = f.s.run(["hone", "compare", "--base", "origin/main"], in: f.runner)
        XCTAssertEqual(before.stdout, "no results yet for the evals changed since origin/main\n", before.all)
        let reconcile = f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner)
        XCTAssertEqual(reconcile.status, 0, reconcile.all)
        let json = f.s.run(["hone", "compare", "--base", "origin/main", "--format", "json"], in: f.runner)
        let reports = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], json.all)
        XCTAssertEqual(reports.count, 1, json.stdout)
        XCTAssertTrue(json.stdout.contains("\"recordedAt\" : \"origin/main\"") || json.stdout.contains("\"recordedAt\": \"origin/main\""), json.stdout)
        XCTAssertTrue(json.stdout.contains("groups/g/evals/ft-test.yaml"), json.stdout)
        let usage = f.s.run(["hone", "compare", "--base", "origin/main", "g/ft-test"], in: f.runner)
        XCTAssertEqual(usage.status, 1, usage.all)
        XCTAssertTrue(usage.stderr.contains("--base compares the evals a change touches with their baselines: name no EVAL"), usage.all)
        let check = f.s.run(["hone", "check", "--base", "origin/main"], in: f.runner)
        XCTAssertEqual(check.status, 1, check.all)
        XCTAssertTrue(check.stdout.contains("g/ft-test  metrics.accuracy  >= baseline - 0.01  0.4    0.59   g/base @ origin/main  0.6             FAIL"), check.stdout)
        let comment = f.comment()
        XCTAssertTrue(comment.text.contains("**❌ 1 gate: 0 pass, 1 FAIL, 0 pending**"), comment.text)
        XCTAssertEqual(f.s.run(["git", "ls-tree", "origin/main", "models/ft-model"], in: f.runner).stdout, "", "nothing merged, nothing published")
    }

    /// A second push while the training runs: the superseded attempt is cancelled, the unchanged run is not rerun.
    func testNewPushCancelsTheSupersededAttempt() throws {
        let f = try PRFlow()
        try f.openPullRequest("feature", accuracy: 0.7, extraRun: true)
        try f.hold("g/ft")
        f.checkout("feature", in: f.runner)
        let launch = f.ci([f.s.script("reconcile.sh")], in: f.runner)
        XCTAssertEqual(launch.status, 0, launch.all)
        let first = try f.waitForHeldJob()
        XCTAssertTrue(first.id.hasPrefix("ft-1-"), first.id)
        let otherID = try f.statusID("g/other", at: "origin/feature")

        // The developer pulls hone's commits and pushes a change of the run's params.
        f.s.git(["checkout", "-q", "feature"], in: f.dev)
        f.s.git(["pull", "-q", "--ff-only", "origin", "feature"], in: f.dev)
        try f.s.write("groups/g/runs/ft.yaml", PRFlow.runSpec(lr: 0.02) + "publish: {model: ft-model, as: new}\n", in: f.dev)
        f.s.git(["commit", "-qam", "lower learning rate"], in: f.dev)
        f.s.git(["push", "-q", "origin", "feature"], in: f.dev)

        f.checkout("feature", in: f.runner)
        let again = f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner)
        XCTAssertEqual(again.status, 0, again.all)
        XCTAssertTrue(again.stderr.contains("cancelled g/ft attempt 1: superseded by a spec change"), again.all)
        try f.waitGone(first.pid)
        XCTAssertTrue(again.stdout.contains("Succeeded: g/ft"), again.all)
        XCTAssertTrue(try f.statusID("g/ft", at: "origin/feature").hasPrefix("ft-2-"))
        XCTAssertEqual(try f.statusID("g/other", at: "origin/feature"), otherID, "the unchanged run keeps its job")
        let runs = try f.executions().filter { $0.hasPrefix("train") }
        XCTAssertEqual(runs.sorted(), ["train g/ft attempt 1", "train g/ft attempt 2", "train g/other attempt 1"], "g/other ran once")
        XCTAssertFalse(try f.finished().contains(first.id), "the superseded attempt never finished")
    }

    /// A pull request closed without merging: its running job is cancelled.
    func testClosedPullRequestCancelsItsRunningJob() throws {
        let f = try PRFlow()
        try f.openPullRequest("abandoned", accuracy: 0.7)
        try f.hold("g/ft")
        f.checkout("abandoned", in: f.runner)
        XCTAssertEqual(f.ci([f.s.script("reconcile.sh")], in: f.runner).status, 0)
        let job = try f.waitForHeldJob()

        f.checkout("main", in: f.runner)    // the runner moved on; the closed event names the branch
        let cancel = f.ci([f.s.script("cancel.sh"), "abandoned"], in: f.runner)
        XCTAssertEqual(cancel.status, 0, cancel.all)
        XCTAssertTrue(cancel.stdout.contains("cancelled g/ft attempt 1 (\(job.id))"), cancel.all)
        try f.waitGone(job.pid)
        let status = f.s.run(["git", "show", "origin/abandoned:status/groups/g/runs/ft.yaml"], in: f.runner).stdout
        XCTAssertTrue(status.contains("phase: Cancelled") && status.contains("the pull request was closed without merging"), status)
        XCTAssertFalse(try f.finished().contains(job.id))
    }

    /// Two pull requests declaring the identical run: one job, one execution; closing one keeps the other's job.
    func testTwoPullRequestsShareTheIdenticalRun() throws {
        let f = try PRFlow()
        try f.openPullRequest("pr-a", accuracy: 0.7)
        try f.openPullRequest("pr-b", accuracy: 0.7)
        try f.hold("g/ft")
        f.checkout("pr-a", in: f.runner)
        XCTAssertEqual(f.ci([f.s.script("reconcile.sh")], in: f.runner).status, 0)
        let job = try f.waitForHeldJob()
        f.checkout("pr-b", in: f.runner)
        let b = f.ci([f.s.script("reconcile.sh")], in: f.runner)
        XCTAssertEqual(b.status, 0, b.all)
        XCTAssertTrue(b.stdout.hasPrefix("reconciled: 0 launched"), "pr-b adopts pr-a's job: \(b.all)")
        XCTAssertEqual(try f.statusID("g/ft", at: "origin/pr-b"), job.id)

        // pr-a is closed: its job is pr-b's too, so it keeps running.
        let cancel = f.ci([f.s.script("cancel.sh"), "pr-a"], in: f.runner)
        XCTAssertEqual(cancel.status, 0, cancel.all)
        XCTAssertTrue(cancel.stdout.contains("kept g/ft (\(job.id)): also recorded by "), cancel.all)
        try f.release()
        f.checkout("pr-b", in: f.runner)
        let done = f.ci([f.s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: f.runner)
        XCTAssertEqual(done.status, 0, done.all)
        XCTAssertTrue(done.stdout.contains("Succeeded: g/ft"), done.all)
        XCTAssertEqual(try f.executions().filter { $0.hasPrefix("train") }, ["train g/ft attempt 1"], "one execution for both pull requests")
        XCTAssertEqual(try f.finished(), [job.id])
    }
}

/// The sandbox of a pull-request flow: origin with a baseline evaluated on main (accuracy 0.6), a store every
/// checkout reaches (an absolute path), a CI runner's checkout and a developer's.
final class PRFlow {
    let s: Sandbox
    let runner: URL
    let dev: URL
    let executionsFile: URL
    let holdFile: URL
    var holdObject = ""

    init() throws {
        s = try Sandbox()
        executionsFile = s.root.appendingPathComponent("executions.txt")
        holdFile = s.root.appendingPathComponent("hold")
        s.git(["init", "-q", "--bare", "-b", "main", "origin.git"], in: s.root)
        let seed = s.root.appendingPathComponent("seed")
        s.git(["init", "-q", "-b", "main", "seed"], in: s.root)
        try Sandbox.writeRepository(s, at: seed)
        try s.write("hone.yaml", """
            kind: Project
            name: flow
            store: \(s.root.appendingPathComponent("store").path)
            pools:
              gpu:
                executor: local
                maxParallel: 2
                costPerHour: 2.5
                maxHours: 1

            """, in: seed)
        try s.write("handlers/train.py", PRFlow.trainHandler, in: seed)
        try s.write("handlers/evaluate.py", PRFlow.evalHandler, in: seed)
        s.git(["add", "-A"], in: seed)
        s.git(["commit", "-qm", "hone repository"], in: seed)
        s.git(["remote", "add", "origin", s.root.appendingPathComponent("origin.git").path], in: seed)
        s.git(["push", "-q", "origin", "main"], in: seed)
        runner = try s.clone("runner")
        dev = try s.clone("dev")
        let baseline = ci([s.script("reconcile.sh"), "--wait", "--timeout", "60s"], in: runner)
        XCTAssertEqual(baseline.status, 0, baseline.all)
        s.git(["pull", "-q", "--ff-only"], in: dev)
    }

    /// Runs a CI step with the counting handlers' environment.
    func ci(_ args: [String], in dir: URL) -> CommandResult {
        s.run(args, in: dir, env: ["FLOW_EXECUTIONS": executionsFile.path, "FLOW_HOLD": holdFile.path, "FLOW_HOLD_OBJECT": holdObject])
    }

    /// The developer opens a pull request: run `ft` (publishing into ft-model), eval `ft-test` of its model gated
    /// against `base`; with `extraRun`, a second run `other` the later push leaves alone.
    func openPullRequest(_ branch: String, accuracy: Double, extraRun: Bool = false, from start: String? = nil) throws {
        s.git(["checkout", "-q", "-b", branch] + (start.map { [$0] } ?? []), in: dev)
        try s.write("groups/g/runs/ft.yaml", PRFlow.runSpec(lr: 0.01) + "publish: {model: ft-model, as: new}\n", in: dev)
        try s.write("groups/g/evals/ft-test.yaml", Sandbox.evalSpec(accuracy: accuracy, gate: ">= baseline - 0.01"), in: dev)
        if extraRun { try s.write("groups/g/runs/other.yaml", PRFlow.runSpec(lr: 0.5), in: dev) }
        s.git(["add", "-A"], in: dev)
        s.git(["commit", "-qm", "fine-tune ft"], in: dev)
        s.git(["push", "-q", "origin", branch], in: dev)
        s.git(["checkout", "-q", "main"], in: dev)
    }

    /// The runner checks out a branch at the remote's tip (its `.hone/` stays: jobs, snapshots).
    func checkout(_ branch: String, in dir: URL) {
        s.git(["fetch", "-q", "origin"], in: dir)
        s.git(["checkout", "-q", "-B", branch, "origin/\(branch)"], in: dir)
    }

    /// pr-plan.sh against origin/main, as the pull request's comment.
    func comment() -> (status: Int32, text: String) {
        let r = s.run([s.script("pr-plan.sh"), "origin/main", "plan.md"], in: runner)
        return (r.status, (try? String(contentsOf: runner.appendingPathComponent("plan.md"), encoding: .utf8)) ?? r.all)
    }

    /// From now on, attempt 1 of `object` waits in its handler until `release()`.
    func hold(_ object: String) throws {
        holdObject = object
        try "hold\n".write(to: holdFile, atomically: true, encoding: .utf8)
    }

    func release() throws { try FileManager.default.removeItem(at: holdFile) }

    /// Polls (60 s at most) until the held job says it started: its id and process id.
    func waitForHeldJob() throws -> (id: String, pid: Int32) {
        let started = URL(fileURLWithPath: holdFile.path + ".started")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let text = try? String(contentsOf: started, encoding: .utf8), let line = text.split(separator: "\n").first {
                let parts = line.split(separator: " ")
                if parts.count == 2, let pid = Int32(parts[1]) { return (String(parts[0]), pid) }
            }
            usleep(50_000)
        }
        throw XCTSkip("the held job never started")
    }

    /// Polls (30 s at most) until the process is gone.
    func waitGone(_ pid: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(30)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        XCTAssertNotEqual(kill(pid, 0), 0, "process \(pid) still runs", file: file, line: line)
    }

    /// "train g/ft attempt 1", … in the order the handlers started.
    func executions() throws -> [String] {
        ((try? String(contentsOf: executionsFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Ids of the held jobs that ran to their end.
    func finished() throws -> [String] {
        ((try? String(contentsOf: URL(fileURLWithPath: holdFile.path + ".finished"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func statusID(_ object: String, at ref: String) throws -> String {
        let parts = object.split(separator: "/")
        let text = s.git(["show", "\(ref):status/groups/\(parts[0])/runs/\(parts[1]).yaml"], in: runner)
        return text.split(separator: "\n").first { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) } ?? ""
    }

    static func runSpec(lr: Double) -> String {
        """
        kind: Run
        pool: gpu
        baseModel: tiny@v1
        trainDataset: qa@v1
        handler: python3 handlers/train.py
        params: {lr: \(lr)}

        """
    }

    static func baseSpec(accuracy: Double) -> String {
        """
        kind: Eval
        pool: gpu
        model: tiny@v1
        handler: python3 handlers/evaluate.py
        dataset: qa@v1
        params: {accuracy: \(accuracy)}
        autoRelease: 600s

        """
    }

    /// Counts itself in $FLOW_EXECUTIONS; attempt 1 of $FLOW_HOLD_OBJECT waits while $FLOW_HOLD exists.
    static let trainHandler = #"""
    import json, os, sys, time
    job = json.load(open(os.environ["HONE_JOB"]))
    with open(os.environ["FLOW_EXECUTIONS"], "a") as f:
        f.write("train %s attempt %d\n" % (job["object"], job["attempt"]))
    hold = os.environ.get("FLOW_HOLD", "")
    held = job["object"] == os.environ.get("FLOW_HOLD_OBJECT") and job["attempt"] == 1 and os.path.exists(hold)
    if held:
        with open(hold + ".started", "a") as f:
            f.write("%s %d\n" % (job["id"], os.getpid()))
        deadline = time.time() + 120
        while os.path.exists(hold) and time.time() < deadline:
            time.sleep(0.05)
    out = job["outputDir"]
    open(os.path.join(out, "model.bin"), "w").write("trained " + json.dumps(job["params"]))
    json.dump({"loss": 0.5}, open(os.path.join(out, "summary.json"), "w"))
    if held:
        with open(hold + ".finished", "a") as f:
            f.write(job["id"] + "\n")
    print("trained", job["object"])

    """#

    static let evalHandler = #"""
    import json, os
    job = json.load(open(os.environ["HONE_JOB"]))
    with open(os.environ["FLOW_EXECUTIONS"], "a") as f:
        f.write("evaluate %s attempt %d\n" % (job["object"], job["attempt"]))
    out = job["outputDir"]
    acc = float(job["params"].get("accuracy", 0.5))
    json.dump({"accuracy": acc}, open(os.path.join(out, "summary.json"), "w"))
    with open(os.path.join(out, "results.jsonl"), "w") as f:
        f.write(json.dumps({"id": "q1", "correct": True}) + "\n")
        f.write(json.dumps({"id": "q2", "correct": acc > 0.5}) + "\n")
    print("evaluated", job["object"], acc)

    """#
}
