import Foundation
import HoneModel
import XCTest

/// Debug mode on evals: HONE_DEBUG=1, a password from the environment that never lands anywhere on disk
/// or in git, and a failed job's folder kept until its release time.
final class DebugModeTests: XCTestCase {
    let password = "pw-Zq8vK2-never-in-git"

    func testPasswordNeverLeaksAndAFailedDebugJobKeepsItsFolderUntilRelease() throws {
        let repo = try HoneRepo()
        let debug = "debug: {enabled: true, passwordEnv: TEST_DEBUG_PASSWORD}"
        try repo.eval("dbg", params: "printEnv: TEST_DEBUG_PASSWORD, fail: 2", extra: "autoRelease: 3s\n\(debug)")
        try repo.eval("ok", params: "printEnv: TEST_DEBUG_PASSWORD", extra: debug)
        try repo.eval("nopw", extra: "debug: {enabled: true, passwordEnv: TEST_UNSET_PASSWORD}")
        try repo.commit("debug evals")
        try repo.reconcile(env: ["TEST_DEBUG_PASSWORD": password, "TEST_UNSET_PASSWORD": ""])

        let ok = try XCTUnwrap(repo.evalStatus("ok"))
        XCTAssertEqual(ok.phase, .succeeded)
        XCTAssertEqual(ok.eval?.debugEnabled, true)
        let okLog = try XCTUnwrap(repo.read("status/groups/g/evals/ok/evaluate.log"))
        XCTAssertTrue(okLog.contains("secret is *** debug 1"), okLog)

        let missing = try XCTUnwrap(repo.evalStatus("nopw"))
        XCTAssertEqual(missing.phase, .failed)
        XCTAssertTrue(missing.events.contains { $0.type == .warning && $0.message.contains("TEST_UNSET_PASSWORD") }, "\(missing.events)")
        XCTAssertEqual(repo.executions(of: "g/nopw"), 0)

        let failed = try XCTUnwrap(repo.evalStatus("dbg"))
        XCTAssertEqual(failed.phase, .failed)
        let kept = try XCTUnwrap(failed.eval?.debugWorkdir, "the status says where the folder is kept")
        let releaseAt = try XCTUnwrap(failed.releaseAt, "… and until when")
        XCTAssertTrue(failed.event("DebugKept")?.message.contains(kept) == true)
        XCTAssertTrue(failed.event("DebugKept")?.message.contains(releaseAt) == true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: kept + "/src/handlers/job.py"), "the working dir is kept")
        XCTAssertTrue(repo.read("status/groups/g/evals/dbg/evaluate.log")?.contains("secret is ***") == true)

        // The password is nowhere: no git object (reachable or not), no file under the repository folder.
        XCTAssertFalse(try repo.allGitObjects().contains(password))
        XCTAssertFalse(repo.allFilesText().contains(password))
        try repo.assertHealthy()

        // After the release time, the next reconcile removes the kept folder and says so.
        let release = try XCTUnwrap(Timestamp.date(releaseAt))
        Thread.sleep(forTimeInterval: max(0, release.timeIntervalSinceNow) + 1.1)
        try repo.reconcile(env: ["TEST_DEBUG_PASSWORD": password])
        XCTAssertFalse(FileManager.default.fileExists(atPath: kept))
        let after = try XCTUnwrap(repo.evalStatus("dbg"))
        XCTAssertNil(after.eval?.debugWorkdir)
        XCTAssertNotNil(after.event("DebugReleased"))
        XCTAssertEqual(repo.executions(of: "g/dbg"), 1)
        XCTAssertFalse(try repo.allGitObjects().contains(password))
        try repo.assertHealthy()
    }
}
