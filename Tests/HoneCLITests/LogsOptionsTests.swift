import ArgumentParser
import Foundation
import XCTest
import HoneCLI
import HoneModel

/// `hone logs` on a running job, `--tail`, `--attempt`, and `hone events --since`.
final class LogsOptionsTests: XCTestCase {
    static let env = HoneRepoFixture.gitIdentity

    func git(_ args: [String], in dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git"] + args
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.merging(Self.env) { _, b in b }
        p.standardOutput = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "git \(args)")
    }

    /// A real local job that writes two lines and waits for a file: `hone logs` (no --follow) prints what it
    /// wrote so far, `--tail 1` the last line; once released, `--follow` sees it end.
    func testLogsOfARunningJobShowTheLiveLogSoFar() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("wait.sh", "echo first line\necho second line\nwhile [ ! -f ../go ]; do sleep 0.1; done\necho last line\n")
        try f.write("groups/g/runs/wait.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: bash wait.sh\n")
        try f.commitAll()
        let rec = try runHone(["reconcile"], in: f.root, environment: Self.env)
        XCTAssertEqual(rec.status, 0, rec.stderr)
        var logs = try runHone(["logs", "g/wait"], in: f.root)
        let deadline = Date().addingTimeInterval(60)
        while !logs.stdout.contains("second line") && Date() < deadline {
            usleep(100_000)
            logs = try runHone(["logs", "g/wait"], in: f.root)
        }
        XCTAssertEqual(logs.status, 0, logs.stderr)
        XCTAssertTrue(logs.lines.suffix(2) == ["first line", "second line"], logs.stdout)
        XCTAssertTrue(logs.stderr.contains("this is its live log so far (--follow to follow it)"), logs.stderr)
        let tail = try runHone(["logs", "g/wait", "--tail", "1"], in: f.root)
        XCTAssertEqual(tail.status, 0, tail.stderr)
        XCTAssertEqual(tail.stdout, "second line\n")
        let jobs = f.root.appendingPathComponent(".hone/jobs")
        for job in try FileManager.default.contentsOfDirectory(atPath: jobs.path) {
            FileManager.default.createFile(atPath: jobs.appendingPathComponent(job).appendingPathComponent("go").path, contents: nil)
        }
        let follow = try runHone(["logs", "g/wait", "--follow"], in: f.root)
        XCTAssertEqual(follow.status, 0, follow.stderr)
        XCTAssertTrue(follow.lines.contains("last line"), follow.stdout)
        XCTAssertTrue(follow.stderr.contains("ended with exit code 0"), follow.stderr)
    }

    /// Two recorded attempts, each committed with its log: `--attempt 1` reads the first from git history.
    func testAttemptReadsAnEarlierAttemptsLogFromHistory() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.run("g", "r")
        let key = ObjectKey(scope: .group("g"), kind: .run, name: "r")
        try f.status(key, phase: .failed, createdAt: "2026-01-01T10:00:00Z", duration: 5)
        try f.write("status/groups/g/runs/r/train.log", "attempt one: step 1\nattempt one: crashed\n")
        for args in [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "attempt 1"]] { try git(args, in: f.root) }
        try f.status(key, phase: .succeeded, createdAt: "2026-01-02T10:00:00Z", duration: 50, attempt: 2)
        try f.write("status/groups/g/runs/r/train.log", "attempt two: done\n")
        for args in [["add", "-A"], ["commit", "-qm", "attempt 2"]] { try git(args, in: f.root) }

        XCTAssertEqual(try runHone(["logs", "g/r"], in: f.root).stdout, "attempt two: done\n")
        let first = try runHone(["logs", "g/r", "--attempt", "1"], in: f.root)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout, "attempt one: step 1\nattempt one: crashed\n")
        XCTAssertEqual(try runHone(["logs", "g/r", "--attempt", "1", "--tail", "1"], in: f.root).stdout, "attempt one: crashed\n")
        XCTAssertEqual(try runHone(["logs", "g/r", "--attempt", "2"], in: f.root).stdout, "attempt two: done\n")
        let future = try runHone(["logs", "g/r", "--attempt", "3"], in: f.root)
        XCTAssertEqual(future.status, 1)
        XCTAssertTrue(future.stderr.contains("g/r is at attempt 2: there is no attempt 3 yet"), future.stderr)
    }

    func testAttemptMissingFromHistoryIsAnError() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.run("g", "r")
        let key = ObjectKey(scope: .group("g"), kind: .run, name: "r")
        try f.status(key, phase: .succeeded, createdAt: "2026-01-02T10:00:00Z", duration: 50, attempt: 3)
        for args in [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "attempt 3 only"]] { try git(args, in: f.root) }
        let r = try runHone(["logs", "g/r", "--attempt", "2"], in: f.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no commit records attempt 2 of g/r (attempts recorded: 3)"), r.stderr)
    }

    func testEventsSince() throws {
        let f = try HoneRepoFixture.populated()
        let r = try runHone(["events", "g/e-new", "--since", "2026-01-03T09:00:01Z"], in: f.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines, ["TIME                  TYPE     REASON  MESSAGE", "2026-01-03T09:00:03Z  Warning  Failed  evaluate exited 3"])
        // The fixture's events are from 2026-01-03: none in the last hour of 2026-12 or later.
        XCTAssertEqual(try runHone(["events", "g/e-new", "--since", "1h", "-o", "json"], in: f.root).stdout, "[]\n")
        let bad = try runHone(["events", "g/e-new", "--since", "yesterday"], in: f.root)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("--since yesterday is neither a duration"), bad.stderr)
    }

    func testLogsOptionRules() throws {
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["logs", "g/r", "--attempt", "0"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["logs", "g/r", "--tail", "-1"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["logs", "g/r", "--attempt", "1", "--follow"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["logs", "g/r", "--tail", "3", "-f"]))
        XCTAssertNoThrow(try HoneCommand.parseAsRoot(["logs", "g/r", "--tail", "3", "--attempt", "2"]))
        XCTAssertNoThrow(try HoneCommand.parseAsRoot(["events", "g/r", "--since", "15m"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["events", "g/r", "--since", "soon"]))
    }
}
