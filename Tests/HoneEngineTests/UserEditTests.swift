import Foundation
import HoneModel
import XCTest

/// What users do to their specs between reconciles, and what hone must do about it.
final class UserEditTests: XCTestCase {
    func testParamChangeReruns_CommentOnlyEditDoesNothing_AddedRunRunsAlone() throws {
        let repo = try HoneRepo()
        try repo.run("r1", params: "lr: 0.1")
        try repo.commit("r1")
        try repo.reconcile()
        let first = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(first.phase, .succeeded)

        // A comment and a reordered key: same spec digest, nothing to do.
        try repo.write("groups/g/runs/r1.yaml", """
            # tuned by alice
            kind: Run
            trainDataset: d@v1     # the only dataset
            baseModel: base@v1
            handler: python3 handlers/job.py
            params: {counter: "\(repo.counter.path)", lr: 0.1}
            """)
        try repo.commit("comments")
        var count = repo.commitCount
        try repo.reconcile()
        XCTAssertEqual(repo.commitCount, count, "a comment-only edit commits nothing")
        XCTAssertEqual(repo.executions.count, 1)

        // A param change: attempt 2 with a new id.
        try repo.run("r1", params: "lr: 0.2")
        try repo.commit("lr 0.2")
        try repo.reconcile()
        let second = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(second.phase, .succeeded)
        XCTAssertEqual(second.attempt, 2)
        XCTAssertNotEqual(second.id, first.id)
        XCTAssertEqual(second.params["lr"], .double(0.2))
        XCTAssertEqual(repo.executions(of: "g/r1"), 2)
        XCTAssertTrue(repo.executions.last?.hasSuffix(" \(second.id) 2") == true, "\(repo.executions)")
        XCTAssertTrue(try repo.messages().first { $0.contains("Hone-Action: rerun g/r1") } != nil)

        // A run added: only it runs.
        try repo.run("r2")
        try repo.commit("r2")
        count = repo.commitCount
        try repo.reconcile()
        XCTAssertGreaterThan(repo.commitCount, count)
        XCTAssertEqual(repo.status("r2")?.phase, .succeeded)
        XCTAssertEqual(repo.executions(of: "g/r1"), 2)
        XCTAssertEqual(repo.executions(of: "g/r2"), 1)
        try repo.assertHealthy()
    }

    /// A hand-corrupted status of a succeeded run (a lowercase phase, no `id:`, emptied) reconciled in a
    /// fresh clone: the run is not launched again and its status file is neither overwritten nor
    /// deleted — the error names the file; a run added in the same commit still runs.
    func testCorruptedStatusOfASucceededRunIsLeftAloneInAFreshClone() throws {
        let repo = try HoneRepo()
        try repo.run("a")
        try repo.commit("a")
        try repo.reconcile()
        XCTAssertEqual(repo.status("a")?.phase, .succeeded)
        let path = "status/groups/g/runs/a.yaml"
        let original = try XCTUnwrap(repo.read(path))
        let id = try XCTUnwrap(repo.status("a")?.id)
        let corruptions = [original.replacingOccurrences(of: "phase: Succeeded", with: "phase: succeeded"),
                           original.replacingOccurrences(of: "id: \(id)\n", with: ""), ""]
        for (i, corrupted) in corruptions.enumerated() {
            XCTAssertNotEqual(corrupted, original)
            try repo.write(path, corrupted)
            try repo.run("b\(i)")
            try repo.commit("hand edit \(i)")
            try repo.git("clone", "-q", repo.root.path, "clone\(i)", in: repo.base)
            let clone = repo.base.appendingPathComponent("clone\(i)")
            let r = try repo.hone(["reconcile", "--wait"], in: clone)
            XCTAssertEqual(r.status, 1, "an unreadable status is an error: \(r.output)")
            XCTAssertTrue(r.output.contains(path), r.output)
            XCTAssertEqual(repo.executions(of: "g/a"), 1, "corruption \(i): the succeeded run was launched again")
            XCTAssertEqual(repo.executions(of: "g/b\(i)"), 1, "corruption \(i): the other run proceeds")
            XCTAssertEqual(try String(contentsOf: clone.appendingPathComponent(path), encoding: .utf8), corrupted)
            XCTAssertEqual(try repo.git("show", "HEAD:\(path)", in: clone), corrupted, "corruption \(i): the status was overwritten")
            try repo.write(path, original)
            try repo.commit("restore \(i)")
        }
    }

    func testRunDeletedWhileRunningIsCancelledWithItsWholeProcessGroup() throws {
        let repo = try HoneRepo()
        let child = repo.base.appendingPathComponent("child.pid")
        let done = repo.base.appendingPathComponent("done")
        try repo.run("long", params: "sleep: 30, childPidFile: \"\(child.path)\", donePath: \"\(done.path)\"")
        try repo.commit("long")
        try repo.reconcile([])
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: child.path) && Date() < deadline { usleep(50_000) }
        let childPid = try XCTUnwrap(Int32(String(contentsOf: child, encoding: .utf8)))
        XCTAssertEqual(kill(childPid, 0), 0, "the handler's child runs")

        try repo.remove("groups/g/runs/long.yaml")
        try repo.commit("delete long")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("long"))
        XCTAssertEqual(s.phase, .cancelled)
        XCTAssertTrue(s.event("Deleted")?.message.contains("deleted") == true, "\(s.events)")
        XCTAssertNotNil(s.finishedAt)
        XCTAssertFalse(processAlive(childPid), "cancel kills the job's process group, children included")
        XCTAssertFalse(FileManager.default.fileExists(atPath: done.path))
        XCTAssertTrue(try repo.messages().first?.contains("Hone-Action: cancel g/long id=\(s.id)") == true)
        try repo.assertHealthy()

        // --prune removes the status and its folder; without it they stay.
        try repo.reconcile()
        XCTAssertTrue(repo.exists(s.key.statusPath))
        try repo.reconcile(["--prune"])
        XCTAssertFalse(repo.exists(s.key.statusPath))
        XCTAssertFalse(repo.exists("status/groups/g/runs/long"))
        try repo.assertHealthy()
    }

    func testAnEvalPastItsAutoReleaseIsCancelledAsAutoReleased() throws {
        let repo = try HoneRepo()
        try repo.eval("e", params: "sleep: 30", extra: "autoRelease: 2s")
        try repo.commit("e")
        try repo.reconcile(["--wait", "--timeout", "20s"])
        let s = try XCTUnwrap(repo.evalStatus("e"))
        XCTAssertEqual(s.phase, .cancelled)
        XCTAssertTrue(s.event("AutoReleased") != nil, "\(s.events)")
        XCTAssertEqual(s.autoRelease, 2)
        XCTAssertNotNil(s.releaseAt)
        XCTAssertEqual(repo.executions.count, 1)
        try repo.assertHealthy()
    }

    func testTamperedVersionDigestIsAnErrorNotASilentRerun() throws {
        let repo = try HoneRepo()
        try repo.run("r1")
        try repo.commit("r1")
        try repo.reconcile()
        try repo.write("data/d.txt", "different data\n")
        try repo.write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: data/d.txt\nsha256: \(ContentHash.hex("different data\n"))\n")
        try repo.commit("oops: rewrote d@v1")
        let count = repo.commitCount
        let r = try repo.hone(["reconcile", "--wait"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("versions are immutable"), r.stderr)
        XCTAssertEqual(repo.executions.count, 1, "no silent rerun")
        XCTAssertEqual(repo.status("r1")?.attempt, 1)
        XCTAssertEqual(repo.commitCount, count)
        try repo.assertHealthy()
    }

    func testSpecChangeWhileRunningSupersedesTheRunningAttempt() throws {
        let repo = try HoneRepo()
        let done = repo.base.appendingPathComponent("done-1")
        try repo.run("r", params: "sleep: 30, donePath: \"\(done.path)\"")
        try repo.commit("r")
        try repo.reconcile([])
        let old = try XCTUnwrap(repo.status("r"))
        XCTAssertTrue(old.phase.isActive)
        // Running for real: its handler has started (python takes a moment to get there under load).
        let deadline = Date().addingTimeInterval(30)
        while repo.executions.isEmpty && Date() < deadline { usleep(20_000) }
        XCTAssertEqual(repo.executions.count, 1)

        try repo.run("r", params: "sleep: 0.1, v: 2")
        try repo.commit("r v2")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("r"))
        XCTAssertEqual(s.phase, .succeeded)
        XCTAssertEqual(s.attempt, 2)
        let superseded = try XCTUnwrap(s.event("Superseded"))
        XCTAssertTrue(superseded.message.contains(old.id), superseded.message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: done.path), "attempt 1 was killed")
        // The old job ended before the new one was launched.
        let oldDir = repo.url(".hone/jobs/\(old.id)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: oldDir.appendingPathComponent("exitcode").path))
        let oldEnd = try XCTUnwrap(Double(String(contentsOf: oldDir.appendingPathComponent("finished"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let newStart = try XCTUnwrap(Double(String(contentsOf: repo.url(".hone/jobs/\(s.id)/started"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertLessThanOrEqual(oldEnd, newStart)
        XCTAssertEqual(repo.executions.count, 2)
        try repo.assertHealthy()
    }

    func testOnChangeWaitLetsTheRunningAttemptFinishFirst() throws {
        let repo = try HoneRepo()
        try repo.run("r", params: "sleep: 1.5", extra: "onChange: wait")
        try repo.commit("r")
        try repo.reconcile([])
        let old = try XCTUnwrap(repo.status("r"))
        try repo.run("r", params: "sleep: 0.1, v: 2", extra: "onChange: wait")
        try repo.commit("r v2")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("r"))
        XCTAssertEqual(s.attempt, 2)
        XCTAssertEqual(s.phase, .succeeded)
        XCTAssertNil(s.event("Superseded"))
        // Attempt 1 ran to its end (its job wrote the model) and its outcome was committed before attempt 2.
        let history = try repo.git("log", "--format=%H", "--", "status/groups/g/runs/r.yaml").split(separator: "\n")
        let recordedOld = try history.map { try repo.git("show", "\($0):status/groups/g/runs/r.yaml") }.first { $0.contains("id: \(old.id)") && $0.contains("phase: Succeeded") }
        XCTAssertNotNil(recordedOld, "attempt 1's success is in history")
        XCTAssertEqual(repo.executions.count, 2)
        try repo.assertHealthy()
    }

    func testPublishWritesAManifestWithLineageOnce() throws {
        let repo = try HoneRepo()
        try repo.run("r1", extra: "publish: {model: m, as: new}")
        try repo.commit("r1 publishes m")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(s.phase, .succeeded)
        XCTAssertEqual(s.run?.publishedAs, "m@v1")
        let manifest = try XCTUnwrap(repo.read("models/m/v1.yaml"))
        XCTAssertTrue(manifest.contains("kind: ModelVersion"))
        XCTAssertTrue(manifest.contains("sha256: \"\(s.run?.model?.sha256 ?? "?")\"") || manifest.contains("sha256: \(s.run?.model?.sha256 ?? "?")"), manifest)
        XCTAssertTrue(manifest.contains("publishedFrom: g/r1"), manifest)
        XCTAssertTrue(manifest.contains("lineage:") && manifest.contains("baseModel: base@v1") && manifest.contains("jobId: \(s.id)"), manifest)
        XCTAssertTrue(try repo.git("ls-files", "models/m/v1.yaml").contains("models/m/v1.yaml"))
        try repo.assertHealthy()
        XCTAssertEqual(try repo.hone(["validate"]).status, 0, "the published manifest is a valid ModelVersion")

        let count = repo.commitCount
        try repo.reconcile()
        XCTAssertEqual(repo.commitCount, count, "published once")
        XCTAssertFalse(repo.exists("models/m/v2.yaml"))

        // An eval of the published model runs from it.
        try repo.eval("e", source: "model: m@v1")
        try repo.commit("eval m@v1")
        try repo.reconcile()
        XCTAssertEqual(repo.evalStatus("e")?.phase, .succeeded)
        try repo.assertHealthy()
    }

    /// On a branch other than `publishBranch` (a pull request's) the run trains but publishes nothing; its
    /// status, merged into main, publishes there without training again.
    func testPublishWaitsForTheMergeIntoThePublishBranch() throws {
        let repo = try HoneRepo()
        try repo.git("checkout", "-q", "-b", "feature")
        try repo.run("r1", extra: "publish: {model: m, as: new}")
        try repo.commit("r1 publishes m")
        let onBranch = try repo.reconcile()
        XCTAssertEqual(repo.status("r1")?.phase, .succeeded)
        XCTAssertNil(repo.status("r1")?.run?.publishedAs)
        XCTAssertFalse(repo.exists("models/m"), onBranch.output)
        let plan = try repo.hone(["plan", "--detailed-exitcode"])
        XCTAssertEqual(plan.status, 0, plan.output)
        XCTAssertTrue(plan.stdout.contains("1 to publish on merge"), plan.output)

        try repo.git("checkout", "-q", "main")
        try repo.git("merge", "-q", "--ff-only", "feature")
        let onMain = try repo.reconcile()
        XCTAssertTrue(onMain.stdout.hasPrefix("reconciled: 0 launched"), onMain.output)
        XCTAssertEqual(repo.status("r1")?.run?.publishedAs, "m@v1")
        XCTAssertTrue(repo.exists("models/m/v1.yaml"))
        XCTAssertEqual(repo.executions(of: "g/r1"), 1)
        try repo.assertHealthy()
    }

    /// A model that is not in this checkout's store (trained where `store:` is another folder) is not published:
    /// a clear error, no manifest, nothing recorded; once the artifact is there, the publish goes through.
    func testPublishRefusesAModelMissingFromTheStore() throws {
        let repo = try HoneRepo()
        try repo.run("r1", extra: "publish: {model: m, as: new}")
        try repo.commit("r1 publishes m")
        try repo.git("checkout", "-q", "-b", "feature")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("r1"))
        let uri = try XCTUnwrap(s.run?.model?.uri)
        let stored = repo.url(".hone/store/" + uri.dropFirst("store://".count))
        let aside = repo.url("aside.bin")
        try FileManager.default.moveItem(at: stored, to: aside)
        try repo.git("checkout", "-q", "main")
        try repo.git("merge", "-q", "--ff-only", "feature")
        let head = repo.head
        let refused = try repo.hone(["reconcile"])
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.stderr.contains("cannot publish g/r1 as m@v1: its model \(uri) (sha256 \(s.run!.model!.sha256!)) is not in the store"), refused.output)
        XCTAssertTrue(refused.stderr.contains("nothing is written under models/"), refused.output)
        XCTAssertEqual(repo.head, head, "nothing committed")
        XCTAssertFalse(repo.exists("models/m"))
        try FileManager.default.moveItem(at: aside, to: stored)
        try repo.reconcile()
        XCTAssertEqual(repo.status("r1")?.run?.publishedAs, "m@v1")
        XCTAssertEqual(repo.executions(of: "g/r1"), 1)
    }

    /// Run a creates model m (`as: new`, v1), run b adds v2 (`as: version`): a's spec stays valid (it
    /// created m), so validate, plan and get keep working and a's eval stays listed. A third run that
    /// says `as: new` is refused with a hint that, followed, publishes m@v3.
    func testPublishAsNewStaysValidAfterAnotherRunAddsAVersion() throws {
        let repo = try HoneRepo()
        try repo.run("a", extra: "publish: {model: m, as: new}")
        try repo.eval("ea", source: "fromRun: a")
        try repo.commit("a creates m")
        try repo.reconcile()
        XCTAssertEqual(repo.status("a")?.run?.publishedAs, "m@v1")
        try repo.run("b", params: "lr: 2", extra: "publish: {model: m, as: version}")
        try repo.commit("b adds a version of m")
        try repo.reconcile()
        XCTAssertEqual(repo.status("b")?.run?.publishedAs, "m@v2")
        XCTAssertTrue(repo.read("models/m/v2.yaml")?.contains("publishedFrom: g/b") == true)
        for command in [["validate"], ["plan"], ["get", "evals"]] {
            let r = try repo.hone(command)
            XCTAssertEqual(r.status, 0, "\(command): \(r.output)")
            XCTAssertFalse(r.output.contains("already exists"), "\(command): \(r.output)")
        }
        XCTAssertTrue(try repo.hone(["get", "evals"]).stdout.contains("ea"), "a's eval is still listed")

        try repo.run("c", params: "lr: 3", extra: "publish: {model: m, as: new}")
        try repo.commit("c says new")
        let refused = try repo.hone(["validate"])
        XCTAssertEqual(refused.status, 1, refused.output)
        XCTAssertTrue(refused.output.contains("groups/g/runs/c.yaml:6:"), refused.output)
        XCTAssertTrue(refused.output.contains("model \"m\" already exists (m@v1 published from g/a): write `as: version` to publish this run as m@v3"), refused.output)
        // Following the hint publishes.
        try repo.run("c", params: "lr: 3", extra: "publish: {model: m, as: version}")
        try repo.commit("c follows the hint")
        try repo.reconcile()
        XCTAssertEqual(repo.status("c")?.run?.publishedAs, "m@v3")
        XCTAssertEqual(try repo.hone(["validate"]).status, 0)
        try repo.assertHealthy()
    }
}

/// Alive and not a zombie (a killed orphan may linger as a zombie until init reaps it).
func processAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}
