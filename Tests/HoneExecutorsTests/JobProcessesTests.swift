import Foundation
import XCTest
@testable import HoneExecutors
#if canImport(Glibc)
import Glibc
#endif

/// Nothing a job started outlives it: background children, setsid daemons, on every way a job ends.
/// Each handler writes its children's pids to `$OUT`; every check polls for the process to be gone.
final class JobProcessesTests: XCTestCase {
    var root: URL!
    var out: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("hone-procs-\(UUID().uuidString.prefix(8))", isDirectory: true)
        out = root.appendingPathComponent("out", isDirectory: true)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? [] where name.hasSuffix(".pid") {
            if let pid = pidIn(name) { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: root)
    }

    func executor(cgroups: Bool, grace: TimeInterval = 3) -> LocalExecutor {
        LocalExecutor(jobsRoot: root.appendingPathComponent("jobs"), runtimeCache: root.appendingPathComponent("runtimes"),
                      terminationGrace: grace, cgroups: cgroups)
    }

    func launch(_ id: String, _ command: String, on executor: LocalExecutor) throws {
        let dir = executor.jobDirectory(for: id)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("src"), withIntermediateDirectories: true)
        // HONE_JOB as the engine sets it: without a cgroup, a setsid daemon is found by it.
        let env = ["OUT": out.path, "HONE_JOB": dir.appendingPathComponent("job.json").path]
        _ = try executor.launch(JobSpec(id: id, object: "g/\(id)", task: "evaluate", command: command, environment: env))
    }

    func pidIn(_ name: String) -> Int32? {
        (try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func waitUntil(_ timeout: TimeInterval = 15, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    func finished(_ id: String, on executor: LocalExecutor) throws -> JobState {
        var state = try executor.poll(id: id)
        _ = try waitUntil(30) {
            state = try executor.poll(id: id)
            if case .finished = state { return true }
            return false
        }
        return state
    }

    /// A handler that starts a background child and a setsid daemon, records their pids, and exits 0.
    static let leavesChildren = #"sleep 120 & echo $! > "$OUT/child.pid"; setsid sleep 120 & echo $! > "$OUT/daemon.pid"; true"#

    func assertGone(_ names: [String], file: StaticString = #filePath, line: UInt = #line) {
        for name in names {
            guard let pid = pidIn(name) else { XCTFail("no \(name)", file: file, line: line); continue }
            XCTAssertTrue(waitUntil(10) { !LocalExecutor.processAlive(pid) }, "\(name) (\(pid)) outlived its job", file: file, line: line)
        }
    }

    func checkChildrenEndWithTheJob(cgroups: Bool) throws {
        let ex = executor(cgroups: cgroups)
        try launch("leaves", Self.leavesChildren, on: ex)
        let state = try finished("leaves", on: ex)
        guard case .finished(let end) = state, end.exitCode == 0, end.outcome == .succeeded else { return XCTFail("\(state)") }
        // Ended before the exit code was written: gone as soon as the job is seen finished.
        for name in ["child.pid", "daemon.pid"] {
            let pid = try XCTUnwrap(pidIn(name))
            XCTAssertTrue(waitUntil(2) { !LocalExecutor.processAlive(pid) }, "\(name) (\(pid)) outlived its job")
        }
        let dir = ex.jobDirectory(for: "leaves")
        if cgroups, let path = try? String(contentsOf: dir.appendingPathComponent("cgroup"), encoding: .utf8) {
            XCTAssertFalse(FileManager.default.fileExists(atPath: path.trimmingCharacters(in: .newlines)), "the job's cgroup is left")
        }
    }

    func testBackgroundChildAndSetsidDaemonEndWithTheJob() throws {
        try checkChildrenEndWithTheJob(cgroups: true)
    }

    func testWithoutACgroupTheSessionAndTheJobsEnvironmentFindThem() throws {
        try checkChildrenEndWithTheJob(cgroups: false)
    }

    func testTheJobGetsACgroupWhereOneCanBeMade() throws {
        // This machine has a writable cgroup v2 (the CI machine too): the cgroup path is what is exercised.
        guard FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/unified/cgroup.procs")
                || FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/cgroup.procs") else {
            throw XCTSkip("no writable cgroup v2 here")
        }
        let ex = executor(cgroups: true)
        try launch("cg", #"cat /proc/self/cgroup > "$OUT/cgroup"; sleep 30"#, on: ex)
        XCTAssertTrue(waitUntil { (try? String(contentsOf: out.appendingPathComponent("cgroup"), encoding: .utf8))?.contains("0::") == true })
        let mine = try String(contentsOf: out.appendingPathComponent("cgroup"), encoding: .utf8)
        let recorded = try String(contentsOf: ex.jobDirectory(for: "cg").appendingPathComponent("cgroup"), encoding: .utf8)
        XCTAssertTrue(mine.contains("/" + JobProcesses.cgroupName(jobDirectory: ex.jobDirectory(for: "cg")) + "\n"), mine)
        XCTAssertTrue(recorded.hasPrefix("/sys/fs/cgroup"), recorded)
        try ex.cancel(id: "cg")
    }

    func checkCancelEndsADaemon(cgroups: Bool) throws {
        // Released (auto-release cancels) while running: the daemon ignores SIGTERM and left the session.
        let ex = executor(cgroups: cgroups, grace: 1)
        let command = #"setsid bash -c 'trap "" TERM; exec sleep 120' & echo $! > "$OUT/daemon.pid"; sleep 120"#
        try launch("released", command, on: ex)
        XCTAssertTrue(waitUntil { pidIn("daemon.pid") != nil })
        let pid = try XCTUnwrap(pidIn("daemon.pid"))
        XCTAssertTrue(waitUntil { LocalExecutor.procStat(pid)?.session == pid }, "the daemon did not leave the session")
        try ex.cancel(id: "released")
        assertGone(["daemon.pid"])
    }

    func testCancelEndsASetsidDaemon() throws {
        try checkCancelEndsADaemon(cgroups: true)
    }

    func testCancelEndsASetsidDaemonWithoutACgroup() throws {
        try checkCancelEndsADaemon(cgroups: false)
    }

    func testRunShKilledAloneLeavesNothingRunningOnceSeenLost() throws {
        // run.sh killed on its own (not its group): the handler no longer holds the lock, so the job is
        // lost, and what it left running ends when the executor sees that.
        let ex = executor(cgroups: true)
        try launch("alone", #"setsid sleep 120 & echo $! > "$OUT/daemon.pid"; sleep 120"#, on: ex)
        XCTAssertTrue(waitUntil { pidIn("daemon.pid") != nil })
        let dir = ex.jobDirectory(for: "alone")
        let record = JobRecord.read(dir)
        let runSh = try XCTUnwrap(record.pid)
        kill(runSh, SIGKILL)
        let state = try finished("alone", on: ex)
        guard case .finished(let end) = state, end.exitCode == nil, end.outcome == .lost else { return XCTFail("\(state)") }
        assertGone(["daemon.pid"])
    }
}
