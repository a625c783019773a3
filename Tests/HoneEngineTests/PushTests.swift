import Foundation
import HoneModel
import XCTest

/// `reconcile --push REMOTE` against a local bare remote that others push to meanwhile.
final class PushTests: XCTestCase {
    func makeRemote(_ repo: HoneRepo) throws -> URL {
        let remote = repo.base.appendingPathComponent("remote.git")
        try repo.git("init", "-q", "--bare", "-b", "main", remote.path, in: repo.base)
        try repo.git("remote", "add", "origin", remote.path)
        try repo.git("push", "-q", "-u", "origin", "main")
        return remote
    }

    func clone(_ repo: HoneRepo, _ remote: URL, as name: String) throws -> URL {
        try repo.git("clone", "-q", remote.path, name, in: repo.base)
        return repo.base.appendingPathComponent(name)
    }

    func commitIn(_ dir: URL, _ repo: HoneRepo, file: String, text: String, message: String) throws {
        try Data(text.utf8).write(to: dir.appendingPathComponent(file))
        try repo.git("add", "-A", in: dir)
        try repo.git("commit", "-q", "-m", message, in: dir)
    }

    func testPushRetriesOverConcurrentUnrelatedPushesAndLosesNothing() throws {
        let repo = try HoneRepo()
        try repo.run("r1", params: "sleep: 1.0")
        try repo.eval("e1", source: "fromRun: r1")
        try repo.commit("r1, e1")
        let remote = try makeRemote(repo)
        let other = try clone(repo, remote, as: "other")
        // Someone pushed before we reconcile…
        try commitIn(other, repo, file: "NOTES.md", text: "notes\n", message: "notes")
        try repo.git("push", "-q", "origin", "main", in: other)

        let reconciler = try repo.start(["reconcile", "--wait", "--push", "origin"])
        // … and someone pushes while the run is running.
        usleep(500_000)
        try repo.git("pull", "-q", "--rebase", "origin", "main", in: other)
        try commitIn(other, repo, file: "MORE.md", text: "more\n", message: "more notes")
        // hone pushes meanwhile too: pull again when the remote moved between our pull and push.
        for _ in 1...10 {
            if (try? repo.git("push", "-q", "origin", "main", in: other)) != nil { break }
            try repo.git("pull", "-q", "--rebase", "origin", "main", in: other)
        }
        reconciler.process.waitUntilExit()
        let log = (try? String(contentsOf: reconciler.log, encoding: .utf8)) ?? ""
        XCTAssertEqual(reconciler.process.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("push rejected"), "the test meant to make a push fail: \(log)")

        // The remote has everyone's commits and every result; our branch is the remote's.
        let remoteHead = try repo.git("--git-dir", remote.path, "rev-parse", "main").trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(repo.head, remoteHead)
        let files = try repo.git("--git-dir", remote.path, "ls-tree", "-r", "--name-only", "main")
        for f in ["NOTES.md", "MORE.md", "status/groups/g/runs/r1.yaml", "status/groups/g/evals/e1.yaml", "status/groups/g/evals/e1/results.jsonl"] {
            XCTAssertTrue(files.contains(f), "\(f) missing on the remote:\n\(files)")
        }
        let remoteRun = try repo.git("--git-dir", remote.path, "show", "main:status/groups/g/runs/r1.yaml")
        XCTAssertTrue(remoteRun.contains("phase: Succeeded"), remoteRun)
        let remoteEval = try repo.git("--git-dir", remote.path, "show", "main:status/groups/g/evals/e1.yaml")
        XCTAssertTrue(remoteEval.contains("phase: Succeeded"), remoteEval)
        XCTAssertTrue(repo.exists("MORE.md") && repo.exists("NOTES.md"), "the working tree has what the remote added")
        XCTAssertEqual(repo.executions.count, 2)
        try repo.assertHealthy()
        let fsck = try HoneRepo.exec("/usr/bin/git", ["--git-dir", remote.path, "fsck", "--strict"], in: repo.base, env: HoneRepo.gitEnv)
        XCTAssertEqual(fsck.status, 0, fsck.output)
    }

    func testAStalePushNeverOverwritesANewerAttemptOnTheRemote() throws {
        let repo = try HoneRepo()
        try repo.run("r1", params: "lr: 0.1")
        try repo.commit("r1")
        let remote = try makeRemote(repo)
        // Clone B runs attempt 1, then a param change's attempt 2, pushing both.
        let b = try clone(repo, remote, as: "b")
        XCTAssertEqual(try repo.hone(["reconcile", "--wait", "--push", "origin"], in: b).status, 0)
        let spec = try String(contentsOf: b.appendingPathComponent("groups/g/runs/r1.yaml"), encoding: .utf8)
        try commitIn(b, repo, file: "groups/g/runs/r1.yaml", text: spec.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.2"), message: "lr 0.2")
        let rb = try repo.hone(["reconcile", "--wait", "--push", "origin"], in: b)
        XCTAssertEqual(rb.status, 0, rb.output)
        let newer = try repo.git("--git-dir", remote.path, "show", "main:status/groups/g/runs/r1.yaml")
        XCTAssertTrue(newer.contains("attempt: 2") && newer.contains("phase: Succeeded"), newer)

        // Clone A never pulled: it runs attempt 1 of the old spec and pushes its statuses.
        let ra = try repo.hone(["reconcile", "--wait", "--push", "origin"])
        XCTAssertEqual(ra.status, 0, ra.output)
        XCTAssertEqual(repo.executions.filter { $0.contains(" r1-2-") }.count, 1, "attempt 2 ran twice: \(repo.executions)")
        XCTAssertEqual(repo.executions.count, 2, "A launched on stale statuses: \(repo.executions)")
        let after = try repo.git("--git-dir", remote.path, "show", "main:status/groups/g/runs/r1.yaml")
        XCTAssertTrue(after.contains("attempt: 2") && after.contains("phase: Succeeded"), "the remote's newer attempt was overwritten:\n\(after)")
        XCTAssertEqual(repo.status("r1")?.attempt, 2, "A's working tree shows the remote's newer status")
        try repo.assertHealthy()
    }

    /// Two clones (two CI runners: each has its own `.hone/`) reconcile the same remote at the same instant,
    /// ten times in a row: every job runs exactly once (counted by the handler, outside every repository),
    /// and the remote ends with every status Succeeded.
    func testTwoClonesReconcilingAtOnceLaunchEachJobExactlyOnce() throws {
        let repo = try HoneRepo(maxParallel: 4)
        let remote = try makeRemote(repo)
        let a = try clone(repo, remote, as: "a"), b = try clone(repo, remote, as: "b")
        var objects: [String] = []
        var raced = 0
        for i in 1...10 {
            try repo.git("pull", "-q", "--rebase", "origin", "main")
            try repo.run("r\(i)", params: "sleep: 0.2")
            try repo.run("q\(i)")
            try repo.eval("e\(i)", source: "fromRun: r\(i)")
            try repo.commit("iteration \(i)")
            try repo.git("push", "-q", "origin", "main")
            objects += ["g/r\(i)", "g/q\(i)", "g/e\(i)"]
            for clone in [a, b] { try repo.git("pull", "-q", "--ff-only", "origin", "main", in: clone) }
            let first = try repo.start(["reconcile", "--wait", "--push", "origin"], in: a)
            let second = try repo.start(["reconcile", "--wait", "--push", "origin"], in: b)
            first.process.waitUntilExit()
            second.process.waitUntilExit()
            let logs = [first.log, second.log].map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }
            XCTAssertEqual(first.process.terminationStatus, 0, logs[0])
            XCTAssertEqual(second.process.terminationStatus, 0, logs[1])
            if logs.contains(where: { $0.contains("push rejected") }) { raced += 1 }
            for object in objects {
                XCTAssertEqual(repo.executions(of: object), 1, "iteration \(i): \(object) ran \(repo.executions(of: object)) times\nA:\n\(logs[0])\nB:\n\(logs[1])")
            }
        }
        XCTAssertEqual(repo.executions.count, objects.count, repo.executions.joined(separator: "\n"))
        XCTAssertGreaterThan(raced, 0, "the two reconcilers never met at the remote: the test proved nothing")
        // Whatever one clone left running is collected by the next reconcile of either clone.
        for clone in [a, b] {
            let r = try repo.hone(["reconcile", "--wait", "--push", "origin"], in: clone)
            XCTAssertEqual(r.status, 0, r.output)
        }
        for object in objects {
            let path = "status/groups/g/\(object.hasPrefix("g/e") ? "evals" : "runs")/\(object.dropFirst(2)).yaml"
            let status = try repo.git("--git-dir", remote.path, "show", "main:\(path)")
            XCTAssertTrue(status.contains("phase: Succeeded") && status.contains("attempt: 1\n"), "\(path):\n\(status)")
        }
        XCTAssertEqual(repo.executions.count, objects.count, "a later reconcile launched again: \(repo.executions)")
    }
}
