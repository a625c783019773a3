import Foundation
import HoneModel
import XCTest

/// `hone gc`: after many reconciles `.hone/` comes back to what live work needs, everything a status or a
/// published manifest references stays, a rerun after gc works, and a gc racing reconciles loses nothing.
final class GarbageCollectionTests: XCTestCase {
    /// Bytes of every file under `path` (`du -sb`, without following links).
    func diskBytes(_ repo: HoneRepo, _ path: String) throws -> Int {
        guard repo.exists(path) else { return 0 }
        let out = try HoneRepo.exec("/usr/bin/du", ["-sb", repo.url(path).path], in: repo.root, env: [:]).stdout
        return Int(out.split(separator: "\t").first ?? "") ?? -1
    }

    func entries(_ repo: HoneRepo, _ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: repo.url(path).path)) ?? []).sorted()
    }

    /// Every `store://` URI the working tree's statuses and manifests name resolves to a file of the
    /// store, and a model's file still has the digest its status records.
    func assertEveryReferenceResolves(_ repo: HoneRepo, file: StaticString = #filePath, line: UInt = #line) throws {
        let grep = try HoneRepo.exec("/usr/bin/grep", ["-rhoE", "store://[^ \"',]+", "status", "models"], in: repo.root, env: [:]).stdout
        // A URI inside an event's message may end a sentence: "…/model.bin)."
        let uris = Set(grep.split(separator: "\n").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ").;:")) })
        XCTAssertFalse(uris.isEmpty, "the statuses reference store objects", file: file, line: line)
        for uri in uris {
            let path = repo.url(".hone/store/" + uri.dropFirst("store://".count)).path
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), "\(uri) is gone after gc", file: file, line: line)
        }
        for name in ["r1", "r2"] {
            guard let model = repo.status(name)?.run?.model, let uri = model.uri, let sha = model.sha256 else { continue }
            let path = repo.url(".hone/store/" + uri.dropFirst("store://".count))
            XCTAssertEqual(try ContentHash.hex(Data(contentsOf: path)), sha, "\(name)'s model is intact", file: file, line: line)
        }
    }

    /// A store object nothing names, last changed `age` seconds ago.
    func strayObject(_ repo: HoneRepo, _ name: String, age: TimeInterval) throws {
        try repo.write(".hone/store/sha256/\(name)/model.bin", "orphan \(name)")
        let when = Date().addingTimeInterval(-age).timeIntervalSince1970
        for p in [".hone/store/sha256/\(name)/model.bin", ".hone/store/sha256/\(name)"] {
            var times = [timeval(tv_sec: Int(when), tv_usec: 0), timeval(tv_sec: Int(when), tv_usec: 0)]
            XCTAssertEqual(utimes(repo.url(p).path, &times), 0)
        }
    }

    func testAfterManyReconcilesGCKeepsWhatLiveWorkNeeds() throws {
        let repo = try HoneRepo()
        try repo.run("r1", extra: "publish: {model: m, as: new}")
        try repo.run("r2")
        try repo.eval("e1", source: "fromRun: r1")
        try repo.commit("work")
        try repo.reconcile()
        // Spec changes: new attempts, new snapshots, new models; older ones stay referenced by history.
        for lr in 1...3 {
            try repo.run("r2", params: "lr: \(lr)")
            try repo.commit("r2 lr \(lr)")
            try repo.reconcile()
        }
        XCTAssertEqual(repo.status("r2")?.phase, .succeeded)
        XCTAssertEqual(repo.status("r2")?.attempt, 4)
        XCTAssertTrue(repo.exists("models/m/v1.yaml"), "r1 published m@v1")
        try strayObject(repo, String(repeating: "a", count: 64), age: 8 * 86_400)
        try strayObject(repo, String(repeating: "b", count: 64), age: 60)
        let jobsBefore = entries(repo, ".hone/jobs")
        XCTAssertGreaterThanOrEqual(jobsBefore.count, 6, "every attempt left its folder")
        XCTAssertFalse(entries(repo, ".hone/snapshots").isEmpty)

        // --dry-run says what and how much, and removes nothing.
        let before = try diskBytes(repo, ".hone")
        let dry = try repo.hone(["gc", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.output)
        XCTAssertTrue(dry.stdout.contains("gc: would remove \(jobsBefore.count) job folders"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains(".hone/jobs/\(jobsBefore[0])"), "lists each item: \(dry.stdout)")
        XCTAssertTrue(dry.stdout.contains(".hone/store/sha256/" + String(repeating: "a", count: 64)), dry.stdout)
        XCTAssertFalse(dry.stdout.contains(String(repeating: "b", count: 64)), "a recent stray is within the 7d grace")
        XCTAssertEqual(try diskBytes(repo, ".hone"), before)
        XCTAssertEqual(entries(repo, ".hone/jobs"), jobsBefore)

        let gc = try repo.hone(["gc"])
        XCTAssertEqual(gc.status, 0, gc.output)
        XCTAssertTrue(gc.stdout.contains("gc: removed \(jobsBefore.count) job folders"), gc.stdout)
        XCTAssertEqual(entries(repo, ".hone/jobs"), [], "no job is active: no folder is needed")
        XCTAssertEqual(entries(repo, ".hone/snapshots"), [], "no active job is copied from a snapshot")
        XCTAssertFalse(repo.exists(".hone/store/sha256/" + String(repeating: "a", count: 64)))
        XCTAssertTrue(repo.exists(".hone/store/sha256/" + String(repeating: "b", count: 64)))
        try assertEveryReferenceResolves(repo)
        XCTAssertLessThan(try diskBytes(repo, ".hone"), before)
        XCTAssertEqual(try repo.git("status", "--porcelain"), "", "gc touches nothing git tracks")

        // With no grace, the recent stray goes too; what is referenced still stays.
        XCTAssertEqual(try repo.hone(["gc", "--keep-unreferenced", "0"]).status, 0)
        XCTAssertFalse(repo.exists(".hone/store/sha256/" + String(repeating: "b", count: 64)))
        try assertEveryReferenceResolves(repo)
        let again = try repo.hone(["gc"])
        XCTAssertTrue(again.stdout.contains("gc: removed nothing"), again.stdout)

        // A rerun after gc works: its snapshot is made again from git, its eval reads r1's kept model.
        try repo.run("r1", extra: "publish: {model: m, as: new}\nrerun: 1")
        try repo.commit("rerun r1")
        try repo.reconcile()
        XCTAssertEqual(repo.status("r1")?.phase, .succeeded)
        XCTAssertEqual(repo.status("r1")?.attempt, 2)
        XCTAssertEqual(repo.evalStatus("e1")?.phase, .succeeded)
        XCTAssertEqual(repo.executions(of: "g/r1"), 2)
        try assertEveryReferenceResolves(repo)
        try repo.assertHealthy()
    }

    func testGCNeverRemovesARunningJobOrADebugHeldFolder() throws {
        let repo = try HoneRepo()
        let release = repo.base.appendingPathComponent("release").path
        try repo.run("slow", params: "waitFor: \"\(release)\"")
        try repo.eval("dbg", params: "fail: 2", extra: "autoRelease: 1h\ndebug: {enabled: true, passwordEnv: TEST_DEBUG_PASSWORD}")
        try repo.commit("slow and debug")
        // Without --wait: slow keeps running; dbg fails at once and keeps its folder (collected by the next pass).
        let env = ["TEST_DEBUG_PASSWORD": "pw-for-gc-test"]
        try repo.reconcile([], env: env)
        let deadline = Date().addingTimeInterval(30)
        while repo.evalStatus("dbg")?.phase != .failed && Date() < deadline {
            try repo.reconcile([], env: env)
            Thread.sleep(forTimeInterval: 0.1)
        }
        let slow = try XCTUnwrap(repo.status("slow"))
        XCTAssertTrue(slow.phase.isActive, "\(slow.phase)")
        let kept = try XCTUnwrap(repo.evalStatus("dbg")?.eval?.debugWorkdir)

        let gc = try repo.hone(["gc", "--keep-unreferenced", "0"])
        XCTAssertEqual(gc.status, 0, gc.output)
        XCTAssertTrue(repo.exists(".hone/jobs/\(slow.id)/src/handlers/job.py"), "the running job's folder stays: \(gc.stdout)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: kept + "/src/handlers/job.py"), "the debug eval's folder stays")
        XCTAssertTrue(gc.stdout.contains("1 folders of active jobs") && gc.stdout.contains("1 held by debug evals"), gc.stdout)
        XCTAssertFalse(entries(repo, ".hone/snapshots").filter { !$0.contains(".") }.isEmpty, "the active job's snapshot stays")

        // The job ends and is collected: gc then removes its folder, the held one stays until its release.
        FileManager.default.createFile(atPath: release, contents: Data())
        try repo.reconcile(env: env)
        XCTAssertEqual(repo.status("slow")?.phase, .succeeded)
        XCTAssertEqual(try repo.hone(["gc"]).status, 0)
        XCTAssertFalse(repo.exists(".hone/jobs/\(slow.id)"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: kept))
        XCTAssertEqual(repo.executions(of: "g/slow"), 1)
    }

    func testGCRacingReconcilesLosesNothing() throws {
        let repo = try HoneRepo(maxParallel: 3)
        for i in 1...6 { try repo.run("r\(i)", params: "sleep: 0.\(i)") }
        for i in 1...3 { try repo.eval("e\(i)", source: "fromRun: r\(i)") }
        try repo.commit("work")
        // Reconciles without --wait, one after another, while gc runs in a loop beside them: each waits for
        // the other's lock, and whatever gc removes between two passes must not be needed by the next.
        let stop = repo.base.appendingPathComponent("stop").path, count = repo.base.appendingPathComponent("gcs").path
        let loop = Process()
        loop.executableURL = URL(fileURLWithPath: "/bin/bash")
        loop.arguments = ["-c", "while [ ! -e \"$1\" ]; do \"$2\" gc --keep-unreferenced 0 --lock-timeout 60 >/dev/null || exit 1; echo >> \"$3\"; done",
                          "gc-loop", stop, HoneRepo.honeBinary.path, count]
        loop.currentDirectoryURL = repo.root
        try loop.run()
        var rounds = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            try repo.reconcile(["--lock-timeout", "60"])
            rounds += 1
            let done = (1...6).allSatisfy { repo.status("r\($0)")?.phase == .succeeded }
                && (1...3).allSatisfy { repo.evalStatus("e\($0)")?.phase == .succeeded }
            if done { break }
        }
        FileManager.default.createFile(atPath: stop, contents: Data())
        loop.waitUntilExit()
        XCTAssertEqual(loop.terminationStatus, 0, "every gc succeeded")
        let gcs = ((try? String(contentsOfFile: count, encoding: .utf8)) ?? "").count
        XCTAssertGreaterThan(gcs, 1, "gc ran between the reconciles")
        for i in 1...6 {
            XCTAssertEqual(repo.status("r\(i)")?.phase, .succeeded, "r\(i) after \(rounds) reconciles and \(gcs) gcs")
            XCTAssertEqual(repo.executions(of: "g/r\(i)"), 1, "r\(i) ran once")
        }
        for i in 1...3 { XCTAssertEqual(repo.executions(of: "g/e\(i)"), 1, "e\(i) ran once") }
        XCTAssertEqual(try repo.hone(["gc", "--keep-unreferenced", "0"]).status, 0)
        try assertEveryReferenceResolves(repo)
        XCTAssertEqual(entries(repo, ".hone/jobs"), [])
        try repo.assertHealthy()
    }

    func testReconcileKeepsOnlyTheNewestFinishedJobFolders() throws {
        let repo = try HoneRepo(extraProject: "gc:\n  keepFinishedJobs: 2")
        for i in 1...5 { try repo.run("r\(i)") }
        try repo.commit("five runs")
        try repo.reconcile()
        XCTAssertTrue((1...5).allSatisfy { repo.status("r\($0)")?.phase == .succeeded })
        XCTAssertEqual(entries(repo, ".hone/jobs").count, 2, "the reconcile removed the older finished folders")
        try assertEveryReferenceResolves(repo)
        // hone.yaml is checked: a negative count is an error at its line.
        try repo.write("hone.yaml", repo.read("hone.yaml")!.replacingOccurrences(of: "keepFinishedJobs: 2", with: "keepFinishedJobs: -1"))
        let bad = try repo.hone(["validate"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("hone.yaml:") && bad.output.contains("keepFinishedJobs"), bad.output)
    }
}
