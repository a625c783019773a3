import Foundation
import HoneLoading
import HoneModel
import XCTest
import HoneTestSupport

/// A throwaway hone repository in a temp folder, driven through the real `hone` binary and checked
/// with the git CLI as an oracle. Handlers are one tiny python script (`handlers/job.py`) whose
/// behaviour comes from `params`; every execution appends a line to a counter file OUTSIDE the repo,
/// so "exactly once" is checked against what really ran, not against what hone recorded.
final class HoneRepo {
    let base: URL
    let root: URL
    let counter: URL

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    static let gitEnv = ["GIT_AUTHOR_NAME": "alice", "GIT_AUTHOR_EMAIL": "alice@example.com",
                         "GIT_COMMITTER_NAME": "alice", "GIT_COMMITTER_EMAIL": "alice@example.com"]

    static let honeBinary: URL = HoneBinary.url

    /// A repository with project `t` (pool `local`, maxParallel, 3.6 per hour), model base@v1, dataset d@v1,
    /// group `g` and the handler, committed once. Add runs and evals with `run(...)` / `eval(...)`.
    init(name: String = "repo", maxParallel: Int = 2, extraProject: String = "", initialCommit: Bool = true) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("hone-engine-\(UUID().uuidString.prefix(8))")
        root = base.appendingPathComponent(name)
        counter = base.appendingPathComponent("executions.txt")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try write("hone.yaml", """
            kind: Project
            name: t
            owner: platform
            pools:
              local:
                executor: local
                maxParallel: \(maxParallel)
                costPerHour: 3.6
            \(extraProject)
            """)
        try write("data/base.txt", "base weights\n")
        try write("data/d.txt", "some training text\n")
        try write("models/base/v1.yaml", "kind: ModelVersion\nuri: data/base.txt\nsha256: \(ContentHash.hex("base weights\n"))\n")
        try write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: data/d.txt\nsha256: \(ContentHash.hex("some training text\n"))\n")
        try write("groups/g/group.yaml", "kind: Group\ndescription: tests\n")
        try write("handlers/job.py", HoneRepo.handler)
        try git("init", "-q", "-b", "main")
        if initialCommit { try commit("init") }
    }

    deinit {
        // Stop whatever a test left running (jobs are detached process groups), then remove the files.
        let jobs = root.appendingPathComponent(".hone/jobs")
        for id in (try? FileManager.default.contentsOfDirectory(atPath: jobs.path)) ?? [] {
            let dir = jobs.appendingPathComponent(id)
            if let text = try? String(contentsOf: dir.appendingPathComponent("pid"), encoding: .utf8),
               let pgid = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).last.flatMap({ Int32($0) }), pgid > 1,
               !FileManager.default.fileExists(atPath: dir.appendingPathComponent("exitcode").path) {
                kill(-pgid, SIGKILL)
            }
        }
        try? FileManager.default.removeItem(at: base)
    }

    static let handler = #"""
    # Test handler: behaviour from params. Appends "object id attempt" to params.counter first.
    import json, os, subprocess, sys, time
    job = json.load(open(os.environ["HONE_JOB"]))
    p = job["params"]
    with open(p["counter"], "a") as f:
        f.write("%s %s %d\n" % (job["object"], job["id"], job["attempt"]))
    print("start", job["object"], "attempt", job["attempt"], flush=True)
    if p.get("printEnv"):
        print("secret is", os.environ.get(p["printEnv"], "<unset>"), "debug", os.environ.get("HONE_DEBUG"), flush=True)
    if p.get("logBytes"):
        line = "x" * 99 + "\n"
        for i in range(p["logBytes"] // 100):
            sys.stdout.write(line)
        sys.stdout.flush()
    if p.get("childPidFile"):
        child = subprocess.Popen(["sleep", "60"])
        # Written whole, then renamed: a test polling for the file never reads it empty.
        open(p["childPidFile"] + ".tmp", "w").write(str(child.pid))
        os.replace(p["childPidFile"] + ".tmp", p["childPidFile"])
    time.sleep(p.get("sleep", 0))
    while p.get("waitFor") and not os.path.exists(p["waitFor"]):
        time.sleep(0.02)
    if p.get("fail"):
        print("about to fail: disk on fire", flush=True)
        sys.exit(p["fail"])
    out = job["outputDir"]
    if job["kind"] == "run":
        open(os.path.join(out, "model.bin"), "w").write("weights of " + job["id"])
        open(os.path.join(out, "metrics.jsonl"), "w").write('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.5}\n')
        json.dump({"loss": 1.5, "seen": job["trainDataset"]["name"]}, open(os.path.join(out, "summary.json"), "w"))
    else:
        open(os.path.join(out, "results.jsonl"), "w").write('{"id": "a", "correct": true}\n{"id": "b", "correct": false}\n')
        json.dump({"accuracy": 0.5}, open(os.path.join(out, "summary.json"), "w"))
    if p.get("donePath"):
        open(p["donePath"], "w").write("done")
    print("done", flush=True)
    """#

    // MARK: Files

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    func write(_ path: String, _ text: String) throws {
        let u = url(path)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: u)
    }

    func read(_ path: String) -> String? { try? String(contentsOf: url(path), encoding: .utf8) }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: url(path).path) }

    func remove(_ path: String) throws { try FileManager.default.removeItem(at: url(path)) }

    /// `groups/g/runs/NAME.yaml` with the test handler. `params`: extra entries of the params flow mapping.
    func run(_ name: String, params: String = "", extra: String = "") throws {
        try write("groups/g/runs/\(name).yaml", """
            kind: Run
            baseModel: base@v1
            trainDataset: d@v1
            handler: python3 handlers/job.py
            params: {counter: "\(counter.path)"\(params.isEmpty ? "" : ", " + params)}
            \(extra)
            """)
    }

    func eval(_ name: String, params: String = "", extra: String = "", source: String = "model: base@v1") throws {
        try write("groups/g/evals/\(name).yaml", """
            kind: Eval
            \(source)
            dataset: d@v1
            handler: python3 handlers/job.py
            params: {counter: "\(counter.path)"\(params.isEmpty ? "" : ", " + params)}
            \(extra)
            """)
    }

    // MARK: Processes

    @discardableResult
    func git(_ args: String..., allowFailure: Bool = false, in dir: URL? = nil) throws -> String {
        let r = try HoneRepo.exec("/usr/bin/git", args, in: dir ?? root, env: HoneRepo.gitEnv)
        if r.status != 0 && !allowFailure { throw FixtureError("git \(args.joined(separator: " ")) failed: \(r.output)") }
        return r.stdout
    }

    func commit(_ message: String, author: String = "alice") throws {
        try git("add", "-A")
        let r = try HoneRepo.exec("/usr/bin/git", ["commit", "-q", "-m", message], in: root,
                                  env: ["GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": "\(author)@example.com",
                                        "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": "\(author)@example.com"])
        if r.status != 0 { throw FixtureError("git commit failed: \(r.output)") }
    }

    /// Runs `hone ARGS` in the repository (fast polling for reconcile unless the test says otherwise).
    @discardableResult
    func hone(_ args: [String], env: [String: String] = [:], in dir: URL? = nil) throws -> Result {
        try HoneRepo.exec(HoneRepo.honeBinary.path, HoneRepo.fastPolling(args), in: dir ?? root, env: HoneRepo.gitEnv.merging(env) { $1 })
    }

    static func fastPolling(_ args: [String]) -> [String] {
        args.first == "reconcile" && !args.contains("--poll-interval") ? args + ["--poll-interval", "0.1"] : args
    }

    /// `hone reconcile EXTRA` that must succeed.
    @discardableResult
    func reconcile(_ extra: [String] = ["--wait"], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let r = try hone(["reconcile"] + extra, env: env)
        XCTAssertEqual(r.status, 0, "hone reconcile \(extra.joined(separator: " ")) failed:\n\(r.output)", file: file, line: line)
        return r
    }

    /// Starts `hone ARGS` without waiting; its output goes to the returned log file.
    func start(_ args: [String], env: [String: String] = [:], in dir: URL? = nil) throws -> (process: Process, log: URL) {
        let p = Process()
        p.executableURL = HoneRepo.honeBinary
        p.arguments = HoneRepo.fastPolling(args)
        p.currentDirectoryURL = dir ?? root
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in HoneRepo.gitEnv.merging(env, uniquingKeysWith: { $1 }) { environment[k] = v }
        p.environment = environment
        let log = base.appendingPathComponent("bg-\(UUID().uuidString.prefix(6)).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let h = try FileHandle(forWritingTo: log)
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, log)
    }

    static func exec(_ tool: String, _ args: [String], in dir: URL, env: [String: String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.currentDirectoryURL = dir
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("hone-exec-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: tmp + ".out", contents: nil)
        FileManager.default.createFile(atPath: tmp + ".err", contents: nil)
        defer { unlink(tmp + ".out"); unlink(tmp + ".err") }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp + ".err"))
        defer { try? out.close(); try? err.close() }
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: (try? String(contentsOfFile: tmp + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: tmp + ".err", encoding: .utf8)) ?? "")
    }

    // MARK: Oracles

    /// The recorded status of `g/NAME` in the working tree (which must match HEAD when the tree is clean).
    func status(_ name: String, kind: ObjectKey.Kind = .run, file: StaticString = #filePath, line: UInt = #line) -> ObjectStatus? {
        let key = ObjectKey(scope: .group("g"), kind: kind, name: name)
        guard let text = read(key.statusPath) else { return nil }
        let (s, diags) = StatusCodec.decode(key, text: text, path: key.statusPath)
        XCTAssertTrue(diags.filter(\.isError).isEmpty, "\(key.statusPath): \(diags)", file: file, line: line)
        return s
    }

    func evalStatus(_ name: String, file: StaticString = #filePath, line: UInt = #line) -> ObjectStatus? {
        status(name, kind: .eval, file: file, line: line)
    }

    /// Lines of the counter file: one per execution of a handler.
    var executions: [String] {
        ((try? String(contentsOf: counter, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func executions(of object: String) -> Int { executions.filter { $0.hasPrefix(object + " ") }.count }

    var commitCount: Int { Int((try? git("rev-list", "--count", "HEAD"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1 }

    var head: String { ((try? git("rev-parse", "HEAD")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }

    func porcelain() throws -> String { try git("status", "--porcelain", "--untracked-files=all") }

    /// `git status` clean (untracked files included) and `git fsck` passing.
    func assertHealthy(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try porcelain(), "", "git status is not clean", file: file, line: line)
        let fsck = try HoneRepo.exec("/usr/bin/git", ["fsck", "--strict"], in: root, env: HoneRepo.gitEnv)
        XCTAssertEqual(fsck.status, 0, "git fsck: \(fsck.output)", file: file, line: line)
    }

    /// Commit messages (full) in `since..HEAD`, newest first.
    func messages(since: String? = nil) throws -> [String] {
        let range = since.map { "\($0)..HEAD" } ?? "HEAD"
        return try git("log", "--format=%B%x00", range).components(separatedBy: "\0")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Every object git holds, reachable or not, printed.
    func allGitObjects() throws -> String {
        let list = try git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
        var all = ""
        for id in list.split(separator: "\n") { all += ((try? git("cat-file", "-p", String(id))) ?? "") + "\n" }
        return all
    }

    /// Every regular file under the repository folder (.git and .hone included), as text.
    func allFilesText() -> String {
        var out = ""
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return "" }
        for case let u as URL in e where (try? u.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            if let d = FileManager.default.contents(atPath: u.path) { out += String(decoding: d, as: UTF8.self) + "\n" }
        }
        return out
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension ObjectStatus {
    func event(_ reason: String) -> StatusEvent? { events.last { $0.reason == reason } }
    var eventReasons: [String] { events.map(\.reason) }
}
