import Foundation
import HoneModel
import XCTest

/// `hone reconcile` end to end on small repositories: what it records, how it commits, the pool limit,
/// the refusals, failures, and the lock.
final class ReconcileTests: XCTestCase {
    func testRunThenEvalOfItsModelRecordsEverythingAndLeavesGitClean() throws {
        let repo = try HoneRepo()
        try repo.run("r1", params: "sleep: 0.3")
        try repo.eval("e1", source: "fromRun: r1")
        try repo.commit("add r1 and its eval", author: "bob")
        let before = repo.head

        let out = try repo.reconcile()
        XCTAssertTrue(out.stdout.contains("2 launched"), out.output)
        try repo.assertHealthy()
        XCTAssertEqual(repo.executions(of: "g/r1"), 1)
        XCTAssertEqual(repo.executions(of: "g/e1"), 1)

        let run = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(run.phase, .succeeded)
        XCTAssertEqual(run.attempt, 1)
        XCTAssertEqual(run.owner, "bob", "owner: the author of the last commit that changed the spec")
        XCTAssertEqual(run.pool, "local")
        XCTAssertEqual(run.run?.baseModel, "base@v1")
        XCTAssertEqual(run.run?.trainDataset, "d@v1")
        XCTAssertEqual(run.params["sleep"], .double(0.3))
        XCTAssertNotNil(run.startedAt); XCTAssertNotNil(run.finishedAt); XCTAssertNotNil(run.createdAt)
        let duration = try XCTUnwrap(run.durationSeconds)
        XCTAssertEqual(try XCTUnwrap(run.cost), duration * 3.6 / 3600, accuracy: 1e-9, "cost = duration × pool rate")
        XCTAssertFalse(run.specDigest.isEmpty)
        XCTAssertNotNil(run.specCommit)
        XCTAssertEqual(run.metrics["loss"], .double(1.5))
        XCTAssertEqual(run.tasks.first?.exitCode, 0)
        XCTAssertEqual(run.tasks.first?.phase, .succeeded)
        XCTAssertEqual(run.eventReasons, ["Scheduled", "Launched", "Started", "Succeeded"].filter { run.eventReasons.contains($0) })
        XCTAssertTrue(run.eventReasons.contains("Scheduled") && run.eventReasons.contains("Succeeded"), "\(run.eventReasons)")

        // The model is stored content-addressed: the uri resolves to a file with that sha256.
        let model = try XCTUnwrap(run.run?.model)
        let uri = try XCTUnwrap(model.uri)
        XCTAssertTrue(uri.hasPrefix("store://sha256/\(model.sha256 ?? "?")/"), uri)
        let stored = repo.url(".hone/store/" + uri.dropFirst("store://".count))
        XCTAssertEqual(try ContentHash.hex(fileAt: stored), model.sha256)
        XCTAssertEqual(try String(contentsOf: stored, encoding: .utf8), "weights of \(run.id)")

        // Logs, curve and results beside the statuses, committed.
        XCTAssertTrue(repo.read("status/groups/g/runs/r1/train.log")?.contains("start g/r1 attempt 1") == true)
        XCTAssertEqual(repo.read("status/groups/g/runs/r1/metrics.jsonl")?.split(separator: "\n").count, 2)
        let eval = try XCTUnwrap(repo.evalStatus("e1"))
        XCTAssertEqual(eval.phase, .succeeded)
        XCTAssertEqual(eval.eval?.resultsRows, 2)
        XCTAssertEqual(eval.eval?.resultsPath, "status/groups/g/evals/e1/results.jsonl")
        XCTAssertEqual(eval.metrics["accuracy"], .double(0.5))
        XCTAssertNotNil(eval.releaseAt)
        XCTAssertTrue(try repo.git("ls-files", "status").contains("status/groups/g/evals/e1/results.jsonl"))

        // Intent is committed before launch: the first hone commit holds a Pending status with the same id.
        let hashes = try repo.git("rev-list", "--reverse", "\(before)..HEAD").split(separator: "\n").map(String.init)
        let first = try repo.git("show", "\(hashes[0]):status/groups/g/runs/r1.yaml")
        XCTAssertTrue(first.contains("phase: Pending"), first)
        XCTAssertTrue(first.contains("id: \(run.id)"), first)
        XCTAssertTrue(try repo.git("log", "-1", "--format=%B", hashes[0]).contains("Hone-Action: create g/r1 id=\(run.id)"))

        // One trailer per action; every trailer names an object and its id.
        for message in try repo.messages(since: before) {
            let trailers = message.split(separator: "\n").filter { $0.hasPrefix("Hone-Action: ") }
            XCTAssertFalse(trailers.isEmpty, "a hone commit without trailers: \(message)")
            XCTAssertEqual(Set(trailers).count, trailers.count, message)
            for t in trailers { XCTAssertTrue(t.contains(" g/") && t.contains(" id="), String(t)) }
        }

        // Nothing changed: no commit, nothing launched.
        let count = repo.commitCount
        let again = try repo.reconcile()
        XCTAssertEqual(repo.commitCount, count, again.output)
        XCTAssertTrue(again.stdout.contains("0 launched"), again.output)
        XCTAssertEqual(repo.executions.count, 2)
        try repo.assertHealthy()
    }

    func testWithoutWaitItLaunchesAndTheNextReconcileCollects() throws {
        let repo = try HoneRepo()
        try repo.run("r1", params: "sleep: 2")
        try repo.commit("r1")
        try repo.reconcile([])
        XCTAssertTrue(repo.status("r1")?.phase.isActive == true)
        try repo.assertHealthy()
        // The next reconcile collects once the job has ended (python may take a while to start under load).
        let deadline = Date().addingTimeInterval(60)
        repeat {
            Thread.sleep(forTimeInterval: 0.5)
            try repo.reconcile([])
        } while repo.status("r1")?.phase.isActive == true && Date() < deadline
        XCTAssertEqual(repo.status("r1")?.phase, .succeeded)
        XCTAssertEqual(repo.executions.count, 1)
        try repo.assertHealthy()
    }

    func testRefusesUncommittedSpecEditsAndSaysHowToProceed() throws {
        let repo = try HoneRepo()
        try repo.run("r1")
        try repo.commit("r1")
        try repo.run("r1", params: "epochs: 2")
        let r = try repo.hone(["reconcile"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("groups/g/runs/r1.yaml"), r.stderr)
        XCTAssertTrue(r.stderr.contains("commit"), r.stderr)
        XCTAssertTrue(repo.executions.isEmpty)
        XCTAssertFalse(repo.exists("status"))
    }

    func testNoCommitWritesFilesOnly() throws {
        let repo = try HoneRepo()
        try repo.run("r1")
        try repo.commit("r1")
        let count = repo.commitCount
        try repo.reconcile(["--wait", "--no-commit"])
        XCTAssertEqual(repo.commitCount, count)
        XCTAssertEqual(repo.status("r1")?.phase, .succeeded)
        XCTAssertTrue(try repo.porcelain().contains("status/"))
    }

    func testMaxParallelKeepsExtraJobsPendingWithAReason() throws {
        let repo = try HoneRepo(maxParallel: 1)
        for n in ["a", "b", "c"] { try repo.run(n, params: "sleep: 0.3") }
        try repo.commit("three runs")
        try repo.reconcile([])
        let statuses = ["a", "b", "c"].compactMap { repo.status($0) }
        XCTAssertEqual(statuses.count, 3)
        XCTAssertEqual(statuses.filter { $0.tasks.first?.executorId != nil }.count, 1, "one job at a time on a pool of 1")
        let queued = statuses.filter { $0.tasks.first?.executorId == nil }
        XCTAssertEqual(queued.count, 2)
        for s in queued {
            XCTAssertEqual(s.phase, .pending)
            XCTAssertTrue(s.event("Queued")?.message.contains("at most 1") == true, "\(s.events)")
        }
        try repo.reconcile()
        XCTAssertEqual(["a", "b", "c"].map { repo.status($0)?.phase }, [.succeeded, .succeeded, .succeeded])
        XCTAssertEqual(repo.executions.count, 3)
        try repo.assertHealthy()
    }

    func testAFailingHandlerRecordsExitCodeAndLogTail() throws {
        let repo = try HoneRepo()
        try repo.run("bad", params: "fail: 3")
        try repo.commit("bad")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("bad"))
        XCTAssertEqual(s.phase, .failed)
        XCTAssertEqual(s.tasks.first?.exitCode, 3)
        let warning = try XCTUnwrap(s.events.last { $0.type == .warning })
        XCTAssertTrue(warning.message.contains("status 3"), warning.message)
        XCTAssertTrue(warning.message.contains("about to fail: disk on fire"), warning.message)
        XCTAssertNil(s.run?.model?.uri)
        XCTAssertTrue(repo.read("status/groups/g/runs/bad/train.log")?.contains("disk on fire") == true)
        try repo.assertHealthy()
        // A failed attempt is not retried by itself.
        let count = repo.commitCount
        try repo.reconcile()
        XCTAssertEqual(repo.commitCount, count)
        XCTAssertEqual(repo.executions.count, 1)
    }

    func testLongLogsAreCommittedCappedWithTheFullLogInTheStore() throws {
        let repo = try HoneRepo()
        try repo.run("chatty", params: "logBytes: 400000")
        try repo.run("quiet")
        try repo.commit("chatty")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("chatty"))
        XCTAssertEqual(s.phase, .succeeded)
        let log = try XCTUnwrap(FileManager.default.contents(atPath: repo.url("status/groups/g/runs/chatty/train.log").path))
        XCTAssertLessThan(log.count, 256 * 1024 + 300)
        XCTAssertGreaterThan(log.count, 256 * 1024 - 1)
        let text = String(decoding: log, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("[hone: "), String(text.prefix(200)))
        XCTAssertTrue(text.contains("store://logs/\(s.id)/train.log"))
        XCTAssertTrue(text.hasSuffix("done\n"))
        let full = try XCTUnwrap(FileManager.default.contents(atPath: repo.url(".hone/store/logs/\(s.id)/train.log").path))
        XCTAssertGreaterThan(full.count, 400_000)
        // A log committed whole is not copied to the store as well.
        let quiet = try XCTUnwrap(repo.status("quiet"))
        XCTAssertEqual(quiet.phase, .succeeded)
        XCTAssertTrue(try XCTUnwrap(FileManager.default.contents(atPath: repo.url("status/groups/g/runs/quiet/train.log").path)).count > 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: repo.url(".hone/store/logs/\(quiet.id)").path))
        try repo.assertHealthy()
    }

    func testRuntimeCreationFailureFailsTheJobNotTheReconciler() throws {
        let repo = try HoneRepo()
        try repo.write("runtimes/broken/v1.yaml", "kind: RuntimeVersion\npython: /nonexistent/python3\n")
        try repo.run("r1", extra: "runtime: broken@v1")
        try repo.run("r2")
        try repo.commit("broken runtime")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(s.phase, .failed)
        XCTAssertTrue(s.events.contains { $0.type == .warning && $0.message.contains("runtime") }, "\(s.events)")
        XCTAssertEqual(repo.status("r2")?.phase, .succeeded)
        XCTAssertEqual(repo.executions(of: "g/r1"), 0)
        try repo.assertHealthy()
    }

    func testInputWhoseBytesDoNotMatchItsDigestFailsBeforeStarting() throws {
        let repo = try HoneRepo()
        try repo.write("data/d.txt", "someone edited the data in place\n")  // the version file still says the old sha256
        try repo.run("r1")
        try repo.commit("r1 on edited data")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(s.phase, .failed)
        let e = try XCTUnwrap(s.event("InputDigestMismatch"))
        XCTAssertTrue(e.message.contains(ContentHash.hex("some training text\n")), e.message)
        XCTAssertTrue(e.message.contains(ContentHash.hex("someone edited the data in place\n")), e.message)
        XCTAssertEqual(repo.executions.count, 0, "the handler never started")
        try repo.assertHealthy()
    }

    func testASecondReconcilerWaitsForTheLockThenFailsNamingTheHolder() throws {
        let repo = try HoneRepo()
        try repo.run("slow", params: "sleep: 3")
        try repo.commit("slow")
        let first = try repo.start(["reconcile", "--wait"])
        // Wait until the first one holds the lock (it names itself in the lock file).
        let lock = repo.url(".hone/reconcile.lock")
        let deadline = Date().addingTimeInterval(30)
        while ((try? String(contentsOf: lock, encoding: .utf8)) ?? "").isEmpty && Date() < deadline { usleep(20_000) }
        let second = try repo.hone(["reconcile", "--lock-timeout", "0.5"])
        XCTAssertEqual(second.status, 1)
        XCTAssertTrue(second.stderr.contains("pid \(first.process.processIdentifier)"), second.stderr)
        XCTAssertTrue(second.stderr.contains("--lock-timeout"), second.stderr)
        first.process.waitUntilExit()
        XCTAssertEqual(first.process.terminationStatus, 0)
        XCTAssertEqual(repo.executions.count, 1)
        XCTAssertEqual(repo.status("slow")?.phase, .succeeded)
        try repo.assertHealthy()
    }
}
