import Foundation
import XCTest

/// `reconcile --wait` shows what runs: a line per job every interval without a terminal, a live block on
/// one; Ctrl-C stops waiting (exit 130) and leaves the jobs running.
final class WaitProgressTests: XCTestCase {
    static let env = HoneRepoFixture.gitIdentity

    /// `hone ARGS` running in the background, its stderr read as it comes.
    final class Running: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var err = Data()
        init(_ args: [String], in dir: URL, environment: [String: String]) throws {
            process.executableURL = honeExecutableURL
            process.arguments = args
            process.currentDirectoryURL = dir
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b }
            let pipe = Pipe()
            process.standardError = pipe
            process.standardOutput = FileHandle.nullDevice
            pipe.fileHandleForReading.readabilityHandler = { [weak self] h in
                let d = h.availableData
                guard let self, !d.isEmpty else { return }
                self.lock.withLock { self.err.append(d) }
            }
            try process.run()
        }
        var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
        /// Waits until stderr holds `text` (true) or the deadline passes (false).
        func waitFor(_ text: String, seconds: TimeInterval = 60) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline { if stderr.contains(text) { return true }; usleep(50_000) }
            return false
        }
        /// The exit status, once the process ended before the deadline.
        func exitStatus(seconds: TimeInterval = 60) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            return process.isRunning ? nil : process.terminationStatus
        }
    }

    /// A run whose handler logs step 1 of 4 and waits for `go` in its job folder.
    func fixture() throws -> HoneRepoFixture {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("handlers/train.py", """
        import json, os, time
        j = json.load(open(os.environ["HONE_JOB"]))
        job = os.path.dirname(os.environ["HONE_JOB"])
        open(os.path.join(job, "handler-pid"), "w").write(str(os.getpid()))
        with open(os.path.join(j["outputDir"], "metrics.jsonl"), "a") as f:
            f.write(json.dumps({"step": 1, "total": 4, "loss": 2.5}) + "\\n")
        while not os.path.exists(os.path.join(job, "go")):
            time.sleep(0.05)
        open(os.path.join(j["outputDir"], "model.bin"), "w").write("m")

        """)
        try f.write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: python3 handlers/train.py\n")
        try f.commitAll()
        return f
    }

    func release(_ f: HoneRepoFixture) throws {
        let jobs = f.root.appendingPathComponent(".hone/jobs")
        for job in try FileManager.default.contentsOfDirectory(atPath: jobs.path) {
            FileManager.default.createFile(atPath: jobs.appendingPathComponent(job).appendingPathComponent("go").path, contents: nil)
        }
    }

    func testWithoutATerminalALinePerJobEveryInterval() throws {
        let f = try fixture()
        let r = try Running(["reconcile", "--wait", "--poll-interval", "0.1"], in: f.root,
                            environment: Self.env.merging(["HONE_PROGRESS_INTERVAL": "0.2"]) { _, b in b })
        XCTAssertTrue(r.waitFor("hone: progress: g/a  Running  "), r.stderr)
        XCTAssertTrue(r.waitFor("  step 1/4  loss 2.5  ETA "), r.stderr)
        func lines() -> Int { r.stderr.split(separator: "\n").filter { $0.hasPrefix("hone: progress: g/a  Running") }.count }
        let deadline = Date().addingTimeInterval(60)
        while lines() < 3 && Date() < deadline { usleep(50_000) }
        XCTAssertGreaterThanOrEqual(lines(), 3, "a line every 0.2 s while it runs: \(r.stderr)")
        XCTAssertFalse(r.stderr.contains("\u{1B}["), "no terminal, no redraw: \(r.stderr)")
        try release(f)
        XCTAssertEqual(r.exitStatus(), 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("g/a: Succeeded"), r.stderr)

        // The option wins over the variable, and is checked.
        let bad = try runHone(["reconcile", "--wait", "--progress-interval", "0"], in: f.root)
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--progress-interval 0.0: expected a number of seconds above 0"), bad.stderr)
        XCTAssertEqual(try runHone(["reconcile", "--progress-interval", "5"], in: f.root).status, 1)
    }

    func testOnATerminalALiveLinePerJob() throws {
        let f = try fixture()
        // util-linux `script` gives hone a terminal; its output is the terminal's.
        let transcript = f.root.appendingPathComponent("tty.out")
        let command = "\(honeExecutableURL.path) reconcile --wait --poll-interval 0.1"
        let r = try ScriptRun(command: command, in: f.root, transcript: transcript, environment: Self.env)
        let deadline = Date().addingTimeInterval(60)
        var seen = ""
        while Date() < deadline {
            seen = (try? String(contentsOf: transcript, encoding: .utf8)) ?? ""
            if seen.contains("step 1/4  loss 2.5  ETA ") && seen.contains("\u{1B}[1A\r\u{1B}[J") { break }
            usleep(50_000)
        }
        XCTAssertTrue(seen.contains("  g/a  Running  ") && seen.contains("step 1/4  loss 2.5  ETA "), seen)
        XCTAssertTrue(seen.contains("\u{1B}[1A\r\u{1B}[J"), "the line is redrawn in place: \(seen.debugDescription)")
        XCTAssertFalse(seen.contains("hone: progress:"), seen)
        try release(f)
        XCTAssertEqual(r.exitStatus(), 0)
        seen = (try? String(contentsOf: transcript, encoding: .utf8)) ?? ""
        XCTAssertTrue(seen.contains("reconciled: 1 launched, 1 finished (1 Succeeded: g/a)"), seen)
    }

    func testCtrlCSaysTheJobsKeepRunningAndExits130() throws {
        let f = try fixture()
        let r = try Running(["reconcile", "--wait", "--poll-interval", "0.1"], in: f.root, environment: Self.env)
        XCTAssertTrue(r.waitFor("launched g/a"), r.stderr)
        let jobs = f.root.appendingPathComponent(".hone/jobs")
        var pid: Int32? = nil
        let deadline = Date().addingTimeInterval(60)
        while pid == nil && Date() < deadline {
            for job in (try? FileManager.default.contentsOfDirectory(atPath: jobs.path)) ?? [] {
                pid = (try? String(contentsOf: jobs.appendingPathComponent(job).appendingPathComponent("handler-pid"), encoding: .utf8)).flatMap { Int32($0) }
            }
            usleep(50_000)
        }
        guard let pid else { return XCTFail("the handler never started: \(r.stderr)") }
        r.process.interrupt()  // SIGINT, as Ctrl-C
        XCTAssertEqual(r.exitStatus(), 130, r.stderr)
        XCTAssertTrue(r.stderr.contains("hone: interrupted: the jobs keep running (they do not depend on this reconciler); collect them with `hone reconcile --wait` again"), r.stderr)
        XCTAssertEqual(kill(pid, 0), 0, "the job still runs after the reconciler stopped")
        try release(f)
        let collect = try runHone(["reconcile", "--wait", "--timeout", "60s"], in: f.root, environment: Self.env)
        XCTAssertEqual(collect.status, 0, collect.stderr)
        XCTAssertTrue(collect.stdout.contains("1 finished (1 Succeeded: g/a)"), collect.stdout)
    }
}

/// A command run under util-linux `script`, so that it has a terminal; what it writes goes to `transcript`.
final class ScriptRun {
    let process = Process()
    init(command: String, in dir: URL, transcript: URL, environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["script", "-qfec", command, transcript.path]
        process.currentDirectoryURL = dir
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }
    func exitStatus(seconds: TimeInterval = 60) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }
}
