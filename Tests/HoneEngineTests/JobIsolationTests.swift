import Foundation
import XCTest

/// One job cannot reach past its end or into another job: what it started ends with it, it does not hold
/// its lock, and what it changes in its own `src/` (code, a dataset of the repository) no later job sees.
final class JobIsolationTests: XCTestCase {
    func writeEval(_ name: String, handler: String, extra: String = "", in repo: HoneRepo) throws {
        try repo.write("groups/g/evals/\(name).yaml", """
            kind: Eval
            model: base@v1
            dataset: d@v1
            handler: '\(handler)'
            params: {counter: "\(repo.counter.path)"}
            \(extra)
            """)
    }

    func pid(_ url: URL) -> Int32? {
        (try? String(contentsOf: url, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func assertGone(_ url: URL, file: StaticString = #filePath, line: UInt = #line) {
        guard let pid = pid(url) else { return XCTFail("the handler wrote no \(url.lastPathComponent)", file: file, line: line) }
        let deadline = Date().addingTimeInterval(10)
        while processAlive(pid) && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(processAlive(pid), "\(url.lastPathComponent) (\(pid)) outlived its job", file: file, line: line)
        if processAlive(pid) { kill(pid, SIGKILL) }
    }

    func testWhatASucceededJobStartedEndsWithItAndNoneHoldsItsLock() throws {
        let repo = try HoneRepo()
        let child = repo.base.appendingPathComponent("child.pid"), daemon = repo.base.appendingPathComponent("daemon.pid")
        let fds = repo.base.appendingPathComponent("fds.txt")
        try writeEval("e", handler: """
            sleep 120 & echo $! > "\(child.path)"; setsid sleep 120 & echo $! > "\(daemon.path)"; \
            ls -l /proc/self/fd > "\(fds.path)"; python3 handlers/job.py
            """, in: repo)
        try repo.commit("an eval that leaves children behind")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.evalStatus("e"))
        XCTAssertEqual(s.phase, .succeeded, "\(s.events.map(\.message))")
        assertGone(child)
        assertGone(daemon)
        let open = try String(contentsOf: fds, encoding: .utf8)
        XCTAssertFalse(open.contains("/lock"), "the handler holds the job's lock:\n\(open)")
        try repo.assertHealthy()
    }

    func testAnAutoReleasedEvalLeavesNoDaemonBehind() throws {
        let repo = try HoneRepo()
        let daemon = repo.base.appendingPathComponent("daemon.pid")
        try writeEval("e", handler: #"setsid sleep 120 & echo $! > "\#(daemon.path)"; sleep 60"#, extra: "autoRelease: 2s", in: repo)
        try repo.commit("an eval whose daemon left the session")
        try repo.reconcile(["--wait", "--timeout", "30s"])
        let s = try XCTUnwrap(repo.evalStatus("e"))
        XCTAssertEqual(s.phase, .cancelled)
        XCTAssertNotNil(s.event("AutoReleased"), "\(s.events)")
        assertGone(daemon)
        try repo.assertHealthy()
    }

    /// Checks the dataset and itself are as committed, then rewrites both in place (as `open(..., "w")` does):
    /// the dataset with as many bytes and its times put back, so that only its content differs.
    static let tamper = #"""
    import json, os, sys
    job = json.load(open(os.environ["HONE_JOB"]))
    data = job["dataset"]["path"]
    if open(data).read() != "some training text\n": sys.exit("the dataset is not as committed")
    before = os.stat(data)
    open(data, "w").write("SOME TRAINING TEXT\n")
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    open("handlers/tamper.py", "w").write("import sys; sys.exit('ran a handler an earlier job rewrote')\n")
    out = job["outputDir"]
    json.dump({"accuracy": 1.0}, open(os.path.join(out, "summary.json"), "w"))
    open(os.path.join(out, "results.jsonl"), "w").write('{"id": "a", "correct": true}\n')
    """#

    func testAJobThatRewritesItsHandlerAndADatasetChangesNeitherForTheNextJobs() throws {
        let repo = try HoneRepo(maxParallel: 1)
        try repo.write("handlers/tamper.py", Self.tamper)
        for name in ["e1", "e2", "e3"] { try writeEval(name, handler: "python3 handlers/tamper.py", in: repo) }
        try repo.commit("evals of one commit that each rewrite their handler and dataset")
        try repo.reconcile()
        for name in ["e1", "e2", "e3"] {
            let s = try XCTUnwrap(repo.evalStatus(name))
            XCTAssertEqual(s.phase, .succeeded, "\(name) saw what an earlier job wrote: \(s.events.map(\.message))")
        }
        XCTAssertEqual(repo.read("data/d.txt"), "some training text\n")
        try repo.assertHealthy()
    }

    func testAnUntouchedSrcIsTakenOverByTheNextJob() throws {
        // The other side of the check above: a src/ no job changed is recycled, not copied again (the same
        // file: inode and birth time, which a new copy cannot share even if it got a freed inode number).
        let repo = try HoneRepo(maxParallel: 1)
        let inodes = repo.base.appendingPathComponent("inodes.txt")
        for name in ["f1", "f2", "f3"] {
            try writeEval(name, handler: #"stat -c "%i %w" hone.yaml >> "\#(inodes.path)" && python3 handlers/job.py"#, in: repo)
        }
        try repo.commit("evals that only read")
        try repo.reconcile()
        for name in ["f1", "f2", "f3"] {
            XCTAssertEqual(try XCTUnwrap(repo.evalStatus(name)).phase, .succeeded, name)
        }
        let seen = try String(contentsOf: inodes, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(seen.count, 3)
        XCTAssertLessThan(Set(seen).count, 3, "no src/ was recycled: \(seen)")
    }
}
