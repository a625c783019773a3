import Foundation
import HoneExecutors
import HoneLoading
import HoneModel
import XCTest
import HoneTestSupport

/// `hone reconcile` (the built binary, as a user runs it) against the REAL single-node cluster of
/// scripts/slurm-cluster.sh: repositories with a Slurm pool, reconciled; the outcome checked in git and in
/// Slurm's own records (`squeue -t all`, `sacct -c`, the jobcomp file).
///
/// Shares the cluster of `SlurmExecutorTests` ($HONE_SLURM_TEST_DIR, default /tmp/hone-slurm-tests): started when
/// `sinfo` does not answer; with $CI set a cluster that cannot be started FAILS the tests, elsewhere they are skipped
/// loudly. `testSlow_MaxHoursBecomesSlurmTimeLimit` waits for Slurm's own time limit (60–90 s);
/// HONE_SLURM_SKIP_SLOW=1 skips it. The binary is $HONE_BIN, else `hone` beside the test bundle.
final class ReconcileOnSlurmTests: XCTestCase {
    typealias Cluster = SlurmExecutorTests.Cluster

    static let repoRoot = SlurmExecutorTests.repoRoot

    static let honeBinary: URL? = HoneBinary.missing == nil ? HoneBinary.url : nil

    var cluster: Cluster!
    var hone: URL!
    var scratch: URL!
    /// Makes every spec (and so every job id and Slurm job name) unique: the cluster and its jobcomp file
    /// outlive a test run, and hone's ids depend only on the object and its spec.
    let nonce = "n" + String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36) + String(Int.random(in: 0..<46656), radix: 36)
    var started = Date()

    override func setUpWithError() throws {
        switch SlurmExecutorTests.cluster {
        case .success(let c): cluster = c
        case .failure(let error):
            let message = "SLURM CLUSTER UNAVAILABLE — `hone reconcile` on Slurm cannot be tested: \(error.message)"
            if ProcessInfo.processInfo.environment["CI"] != nil {
                XCTFail(message)
                throw error
            }
            print("\n*** \(message) ***\n")
            throw XCTSkip(message)
        }
        guard let bin = Self.honeBinary else {
            XCTFail("no `hone` binary beside the test bundle: run `swift build --build-tests` (or set HONE_BIN)")
            throw XCTSkip("no hone binary")
        }
        hone = bin
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hone-slurm-reconcile-\(nonce)", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        started = Date()
    }

    override func tearDown() {
        print("[\(name)] took \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        // Nothing of ours may keep running on the shared cluster.
        if let c = cluster { _ = try? run("/bin/sh", ["-c", "squeue -h -o '%i %Z' | grep -- '\(nonce)' | cut -d' ' -f1 | xargs -r scancel"], env: c.environment) }
        if let s = scratch { try? FileManager.default.removeItem(at: s) }
    }

    // MARK: Processes

    struct Output { var status: Int32; var stdout: String; var stderr: String; var signalled: Bool }

    var environment: [String: String] {
        var env = cluster.environment
        env["GIT_AUTHOR_NAME"] = "hone tests"; env["GIT_AUTHOR_EMAIL"] = "tests@localhost"
        env["GIT_COMMITTER_NAME"] = "hone tests"; env["GIT_COMMITTER_EMAIL"] = "tests@localhost"
        env["HONE_CRASH_AT"] = nil
        return env
    }

    /// Runs a program to its end (outputs through files: no pipe can fill up).
    @discardableResult
    func run(_ program: String, _ args: [String], cwd: URL? = nil, env: [String: String]? = nil, timeout: TimeInterval = 120) throws -> Output {
        let p = try start(program, args, cwd: cwd, env: env)
        let deadline = Date().addingTimeInterval(timeout)
        while p.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if p.process.isRunning {
            kill(p.process.processIdentifier, SIGKILL)
            p.process.waitUntilExit()
            throw ExecutorTestError("`\(program) \(args.joined(separator: " "))` did not end within \(Int(timeout)) s:\n\(p.output().stderr)")
        }
        p.process.waitUntilExit()
        return p.output()
    }

    struct Started {
        var process: Process
        var out: URL
        var err: URL
        func output() -> Output {
            Output(status: process.isRunning ? -1 : process.terminationStatus,
                   stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "",
                   signalled: !process.isRunning && process.terminationReason == .uncaughtSignal)
        }
    }

    func start(_ program: String, _ args: [String], cwd: URL? = nil, env: [String: String]? = nil) throws -> Started {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/env")
        p.arguments = program.hasPrefix("/") ? args : [program] + args
        p.environment = env ?? environment
        if let cwd { p.currentDirectoryURL = cwd }
        let tag = UUID().uuidString.prefix(8)
        let out = scratch.appendingPathComponent("out-\(tag)"), err = scratch.appendingPathComponent("err-\(tag)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        return Started(process: p, out: out, err: err)
    }

    /// `hone reconcile …` in the repository, as a user types it.
    @discardableResult
    func reconcile(_ repo: Repo, _ args: [String] = [], extraEnv: [String: String] = [:], timeout: TimeInterval = 180) throws -> Output {
        var env = environment
        for (k, v) in extraEnv { env[k] = v }
        let out = try run(hone.path, ["reconcile", "-C", repo.root.path] + args, env: env, timeout: timeout)
        print("$ hone reconcile \(args.joined(separator: " ")) → exit \(out.status)\n\(out.stderr)\(out.stdout)")
        return out
    }

    func git(_ repo: Repo, _ args: [String]) throws -> String {
        let out = try run("git", ["-C", repo.root.path] + args)
        guard out.status == 0 else { throw ExecutorTestError("git \(args.joined(separator: " ")) failed: \(out.stderr)") }
        return out.stdout
    }

    // MARK: Repositories

    struct Repo {
        var root: URL
        /// The Slurm pool's workdir.
        var workdir: URL
    }

    /// A hone repository made from examples/quickstart, with Slurm pools `slurm` (workdir under the cluster's
    /// directory) and `short` (maxHours 0.0167: `--time=1`). `quickstart` keeps the example's run lr-small and its
    /// evals (pointed at the `slurm` pool); `specs` adds files (path → text). Every spec's params get the nonce.
    func makeRepo(_ name: String, quickstart: Bool = false, specs: [String: String] = [:]) throws -> Repo {
        let fm = FileManager.default
        let root = scratch.appendingPathComponent(name, isDirectory: true)
        let workdir = cluster.dir.appendingPathComponent("work/reconcile-\(nonce)-\(name)", isDirectory: true)
        let example = Self.repoRoot.appendingPathComponent("examples/quickstart")
        try run("/bin/cp", ["-R", example.path + "/.", root.path]).checkSucceeded("cp")
        for junk in ["tests", "tools", ".hone", "handlers/__pycache__"] { try? fm.removeItem(at: root.appendingPathComponent(junk)) }
        let group = root.appendingPathComponent("groups/support")
        try fm.removeItem(at: group.appendingPathComponent("runs/lr-large.yaml"))
        try? fm.removeItem(at: group.appendingPathComponent("playgrounds"))  // served on the local pool: not what these tests are about
        try fm.removeItem(at: group.appendingPathComponent("evals/lr-large-test.yaml"))
        if !quickstart {
            for f in ["runs/lr-small.yaml", "evals/lr-small-test.yaml", "evals/base-test.yaml"] { try fm.removeItem(at: group.appendingPathComponent(f)) }
        }
        try """
        kind: Project
        name: slurm-tests
        owner: slurm-tests
        store: .hone/store
        pools:
          local:
            executor: local
          slurm:
            executor: slurm
            workdir: \(workdir.path)
            costPerHour: 2.5
            maxHours: 1
          short:
            executor: slurm
            workdir: \(workdir.path)
            maxHours: 0.0167          # 60 s: sbatch --time=1
        defaults:
          pool: slurm

        """.write(to: root.appendingPathComponent("hone.yaml"), atomically: true, encoding: .utf8)
        for (path, text) in specs {
            let url = root.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        // Point the example's specs at Slurm and make every job id unique to this test run.
        for dir in ["runs", "evals"] {
            let folder = group.appendingPathComponent(dir)
            for f in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where f.hasSuffix(".yaml") {
                let url = folder.appendingPathComponent(f)
                var text = try String(contentsOf: url, encoding: .utf8)
                text = text.replacingOccurrences(of: "\npool: local", with: "\npool: slurm")
                text = text.replacingOccurrences(of: "\nparams: {", with: "\nparams: {nonce: \(nonce), ")
                if !text.contains("\nparams:") { text += "params: {nonce: \(nonce)}\n" }
                try text.write(to: url, atomically: true, encoding: .utf8)
            }
        }
        let repo = Repo(root: root, workdir: workdir)
        try run("git", ["init", "-q", "-b", "main", root.path]).checkSucceeded("git init")
        _ = try git(repo, ["add", "-A"])
        _ = try git(repo, ["commit", "-q", "-m", "specs"])
        return repo
    }

    /// A run spec whose handler is a shell command (no runtime: nothing to install).
    func runSpec(_ handler: String, pool: String = "slurm") -> String {
        """
        kind: Run
        pool: \(pool)
        baseModel: tiny-char@v1
        trainDataset: tickets@v1
        handler: \(yamlQuoted(handler))

        """
    }

    func yamlQuoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A handler that works for `delay` seconds and then writes a model file (what a run must leave in outputDir).
    func modelWriter(delay: Int = 0, marker: String = "training") -> String {
        #"out=$(python3 -c 'import json,os; print(json.load(open(os.environ["HONE_JOB"]))["outputDir"])'); echo "\#(marker) in $PWD"; sleep \#(delay); echo weights > "$out/model.bin"; echo '{"loss": 0.5}' > "$out/summary.json"; echo done"#
    }

    // MARK: Recorded state (as committed on the branch)

    func status(_ repo: Repo, _ key: ObjectKey, file: StaticString = #filePath, line: UInt = #line) throws -> ObjectStatus {
        let text = try git(repo, ["show", "HEAD:\(key.statusPath)"])
        let (s, diagnostics) = StatusCodec.decode(key, text: text, path: key.statusPath)
        guard let s else { XCTFail("cannot decode \(key.statusPath): \(diagnostics)", file: file, line: line); throw ExecutorTestError("decode") }
        return s
    }

    func runKey(_ name: String) -> ObjectKey { ObjectKey(scope: .group("support"), kind: .run, name: name) }
    func evalKey(_ name: String) -> ObjectKey { ObjectKey(scope: .group("support"), kind: .eval, name: name) }

    func assertCleanWorkTree(_ repo: Repo, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try git(repo, ["status", "--porcelain"]), "", "hone left uncommitted changes", file: file, line: line)
    }

    // MARK: Slurm's own records

    /// Slurm job ids named `name` in squeue (-t all), in `sacct -c` and in the jobcomp file.
    struct SlurmRecords { var squeue: [String]; var sacct: [String]; var jobcomp: [String] }

    func slurmRecords(_ name: String) throws -> SlurmRecords {
        let q = try run("squeue", ["-h", "-t", "all", "--name", name, "-o", "%i"], env: cluster.environment)
        XCTAssertEqual(q.status, 0, q.stderr)
        // `sacct -c` (jobcomp/filetxt) ignores --name in Slurm 22.05: filter on the JobName column.
        let a = try run("sacct", ["-c", "-S", "1970-01-01T00:00:00", "-o", "JobID,JobName", "-P", "-n", "-X"], env: cluster.environment)
        let sacct = a.stdout.split(whereSeparator: \.isNewline).compactMap { l -> String? in
            let f = l.split(separator: "|", omittingEmptySubsequences: false)
            return f.count >= 2 && f[1] == name ? String(f[0]) : nil
        }
        let comp = (try? String(contentsOf: cluster.dir.appendingPathComponent("jobcomp.txt"), encoding: .utf8)) ?? ""
        let jobcomp = comp.split(whereSeparator: \.isNewline).compactMap { l -> String? in
            guard l.contains(" Name=\(name) "), let r = l.range(of: "JobId=") else { return nil }
            return String(l[r.upperBound...].prefix { $0.isNumber })
        }
        return SlurmRecords(squeue: q.stdout.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) },
                            sacct: sacct, jobcomp: jobcomp)
    }

    /// Slurm's state of a job (`squeue -t all -j ID -o %T`).
    func slurmState(_ slurmId: String) throws -> String {
        try run("squeue", ["-h", "-t", "all", "-j", slurmId, "-o", "%T"], env: cluster.environment).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func scontrolField(_ slurmId: String, _ key: String) throws -> String? {
        let out = try run("scontrol", ["show", "job", "-o", slurmId], env: cluster.environment).stdout
        return out.split(separator: " ").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    /// Exactly one Slurm job was ever submitted for `status.id`: the one the status names; once finished, it is in
    /// `sacct -c` and the jobcomp file exactly once too.
    @discardableResult
    func assertExactlyOneSlurmJob(_ s: ObjectStatus, finalState: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let slurmId = s.tasks.first?.executorId else {
            XCTFail("\(s.key.display): the status names no Slurm job", file: file, line: line); return ""
        }
        var r = try slurmRecords(s.id)
        if let finalState {
            // slurmctld writes the jobcomp record as the job ends; give it a moment.
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, (try slurmState(slurmId)) != finalState || r.jobcomp.isEmpty {
                Thread.sleep(forTimeInterval: 0.5)
                r = try slurmRecords(s.id)
            }
            XCTAssertEqual(try slurmState(slurmId), finalState, "Slurm's state of \(s.key.display) (\(slurmId))", file: file, line: line)
            XCTAssertEqual(r.sacct, [slurmId], "sacct -c: jobs named \(s.id)", file: file, line: line)
            XCTAssertEqual(r.jobcomp, [slurmId], "jobcomp file: jobs named \(s.id)", file: file, line: line)
        }
        XCTAssertEqual(r.squeue, [slurmId], "squeue -t all: jobs named \(s.id)", file: file, line: line)
        return slurmId
    }

    func waitUntil(_ what: String, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
        let q = try? run("squeue", ["-h", "-t", "all", "-o", "%i %j %T %r"], env: cluster.environment).stdout
        XCTFail("timed out after \(Int(timeout)) s waiting for \(what)\nsqueue:\n\(q ?? "")", file: file, line: line)
        throw ExecutorTestError("timeout: \(what)")
    }

    /// The job id hone recorded for an object (its committed status).
    func recordedId(_ repo: Repo, _ key: ObjectKey) throws -> String {
        try status(repo, key).id
    }

    // MARK: Cases

    /// The bundled example's run and evals on Slurm: one `reconcile --wait`, everything Succeeded and committed,
    /// one Slurm job per id; a second reconcile changes nothing.
    func testQuickstartRunAndEvalsSucceedOnSlurm() throws {
        let repo = try makeRepo("quickstart", quickstart: true)
        let out = try reconcile(repo, ["--wait", "--timeout", "3m"])
        XCTAssertEqual(out.status, 0)
        XCTAssertTrue(out.stdout.contains("3 launched, 3 finished"), out.stdout)

        let runStatus = try status(repo, runKey("lr-small"))
        XCTAssertEqual(runStatus.phase, .succeeded, "\(runStatus.events)")
        XCTAssertEqual(runStatus.pool, "slurm")
        XCTAssertEqual(runStatus.tasks.first?.exitCode, 0)
        XCTAssertNotNil(runStatus.run?.model?.uri, "the run's draft model is stored")
        XCTAssertNotNil(runStatus.metrics["val_loss"], "metrics: \(runStatus.metrics)")
        XCTAssertGreaterThan(runStatus.cost ?? 0, 0, "costPerHour 2.5 gives a cost")
        let trainLog = try git(repo, ["show", "HEAD:\(runKey("lr-small").statusFolder)train.log"])
        XCTAssertFalse(trainLog.isEmpty, "train.log is committed")

        for name in ["lr-small-test", "base-test"] {
            let s = try status(repo, evalKey(name))
            XCTAssertEqual(s.phase, .succeeded, "\(name): \(s.events)")
            XCTAssertEqual(s.pool, "slurm")
            XCTAssertEqual(s.eval?.resultsRows, 100, name)
            XCTAssertNotNil(s.metrics["accuracy"], "\(name) metrics: \(s.metrics)")
            let results = try git(repo, ["show", "HEAD:\(evalKey(name).statusFolder)results.jsonl"])
            XCTAssertEqual(results.split(separator: "\n").count, 100, "\(name): results.jsonl committed")
        }
        XCTAssertTrue(try status(repo, evalKey("lr-small-test")).eval?.model?.contains("lr-small") ?? false)
        try assertCleanWorkTree(repo)
        // Every hone commit says what it did — including submissions Slurm left PENDING (three jobs, two CPUs).
        let honeCommits = try git(repo, ["log", "--format=%H", "--grep=^hone:"]).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(honeCommits.count, 3, "intent, launch and collect commits")
        for commit in honeCommits {
            let message = try git(repo, ["log", "-1", "--format=%B", String(commit)])
            XCTAssertTrue(message.contains("Hone-Action: "), "a hone commit without a Hone-Action trailer:\n\(message)")
        }

        // Slurm ran each of them exactly once, under the id hone recorded; the Slurm id is in the job folder.
        for key in [runKey("lr-small"), evalKey("lr-small-test"), evalKey("base-test")] {
            let s = try status(repo, key)
            let slurmId = try assertExactlyOneSlurmJob(s, finalState: "COMPLETED")
            XCTAssertEqual(try? String(contentsOf: repo.workdir.appendingPathComponent("jobs/\(s.id)/slurm-id"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), slurmId)
            XCTAssertEqual(try scontrolField(slurmId, "WorkDir"), repo.workdir.appendingPathComponent("jobs/\(s.id)").path)
        }

        // Nothing left to do: no commit, no new Slurm job.
        let head = try git(repo, ["rev-parse", "HEAD"])
        let again = try reconcile(repo, ["--wait"])
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(try git(repo, ["rev-parse", "HEAD"]), head, "a second reconcile commits nothing")
        for key in [runKey("lr-small"), evalKey("lr-small-test"), evalKey("base-test")] {
            try assertExactlyOneSlurmJob(try status(repo, key))
        }
    }

    /// A handler exiting 3: Failed, exit code 3 recorded, a Warning event carrying the log's last lines.
    func testFailingJobIsFailedWithExitCodeAndLogTail() throws {
        let repo = try makeRepo("failing", specs: [
            "groups/support/runs/broken.yaml": runSpec(#"echo "loading the model"; echo "fatal: CUDA device not found (marker-\#(nonce))"; exit 3"#),
        ])
        let out = try reconcile(repo, ["--wait", "--timeout", "90s"])
        XCTAssertTrue(out.stdout.contains("1 finished"), out.stdout)
        let s = try status(repo, runKey("broken"))
        XCTAssertEqual(s.phase, .failed)
        XCTAssertEqual(s.tasks.first?.exitCode, 3)
        XCTAssertEqual(s.tasks.first?.phase, .failed)
        XCTAssertNotNil(s.finishedAt)
        let failed = s.events.first { $0.reason == "Failed" }
        XCTAssertEqual(failed?.type, .warning, "events: \(s.events)")
        XCTAssertTrue(failed?.message.contains("exited with status 3") ?? false, failed?.message ?? "")
        XCTAssertTrue(failed?.message.contains("CUDA device not found (marker-\(nonce))") ?? false, "the event carries the log's tail: \(failed?.message ?? "")")
        let log = try git(repo, ["show", "HEAD:\(runKey("broken").statusFolder)train.log"])
        XCTAssertTrue(log.contains("loading the model"), log)
        try assertCleanWorkTree(repo)
        try assertExactlyOneSlurmJob(s, finalState: "FAILED")
        XCTAssertEqual(try scontrolField(s.tasks[0].executorId!, "ExitCode"), "3:0")
    }

    /// Deleting a running job's spec and reconciling: scancel, Cancelled with a Warning `Deleted` event.
    func testDeletingTheSpecCancelsTheSlurmJob() throws {
        let repo = try makeRepo("delete", specs: [
            "groups/support/runs/sleeper.yaml": runSpec(#"echo "started $HONE_JOB_ID"; sleep 300"#),
        ])
        let first = try reconcile(repo)
        XCTAssertEqual(first.status, 0)
        let id = try recordedId(repo, runKey("sleeper"))
        let slurmId = try XCTUnwrap(try slurmRecords(id).squeue.first, "submitted without --wait")
        try waitUntil("\(id) RUNNING") { try slurmState(slurmId) == "RUNNING" }

        _ = try git(repo, ["rm", "-q", "groups/support/runs/sleeper.yaml"])
        _ = try git(repo, ["commit", "-q", "-m", "drop sleeper"])
        let second = try reconcile(repo)
        XCTAssertEqual(second.status, 0)
        let s = try status(repo, runKey("sleeper"))
        XCTAssertEqual(s.phase, .cancelled, "\(s.events)")
        let deleted = s.events.first { $0.reason == "Deleted" }
        XCTAssertEqual(deleted?.type, .warning, "events: \(s.events)")
        try assertCleanWorkTree(repo)
        XCTAssertEqual(try assertExactlyOneSlurmJob(s, finalState: "CANCELLED"), slurmId)
    }

    /// Two clones (two CI runners, one shared pool workdir as docs/ci.md recommends) run
    /// `reconcile --wait --push origin` at the same instant, three times in a row: every job is submitted to
    /// Slurm once (Slurm's own records) and executed once (counted by the handler outside every repository).
    func testTwoClonesReconcilingAtOnceSubmitEachJobOnce() throws {
        let origin = try makeRepo("origin")
        let bare = scratch.appendingPathComponent("remote.git")
        try run("git", ["init", "-q", "--bare", "-b", "main", bare.path]).checkSucceeded("git init --bare")
        _ = try git(origin, ["remote", "add", "origin", bare.path])
        _ = try git(origin, ["push", "-q", "-u", "origin", "main"])
        let clones = try ["a", "b"].map { name -> Repo in
            let root = scratch.appendingPathComponent(name)
            try run("git", ["clone", "-q", bare.path, root.path]).checkSucceeded("git clone")
            return Repo(root: root, workdir: origin.workdir)
        }
        let counter = scratch.appendingPathComponent("executions.txt")
        var ids: [String] = []
        for i in 1...3 {
            _ = try git(origin, ["pull", "-q", "--rebase", "origin", "main"])
            for name in ["p\(i)", "q\(i)"] {
                let spec = runSpec(#"echo "$HONE_JOB_ID" >> \#(counter.path); "# + modelWriter(delay: 1)) + "params: {nonce: \(nonce), i: \(i)}\n"
                try spec.write(to: origin.root.appendingPathComponent("groups/support/runs/\(name).yaml"), atomically: true, encoding: .utf8)
            }
            _ = try git(origin, ["add", "-A"])
            _ = try git(origin, ["commit", "-q", "-m", "iteration \(i)"])
            _ = try git(origin, ["push", "-q", "origin", "main"])
            for c in clones { _ = try git(c, ["pull", "-q", "--ff-only", "origin", "main"]) }
            let started = try clones.map { c in
                try start(hone.path, ["reconcile", "-C", c.root.path, "--wait", "--push", "origin", "--timeout", "3m", "--poll-interval", "0.5"])
            }
            let deadline = Date().addingTimeInterval(240)
            while started.contains(where: { $0.process.isRunning }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            let outputs = started.map { $0.output() }
            for o in outputs { XCTAssertEqual(o.status, 0, o.stderr + o.stdout) }
            print("iteration \(i):\n" + outputs.map { $0.stderr + $0.stdout }.joined(separator: "---\n"))
            for c in clones { _ = try git(c, ["pull", "-q", "--ff-only", "origin", "main"]) }
            ids += try ["p\(i)", "q\(i)"].map { try recordedId(clones[0], runKey($0)) }
            let executed = ((try? String(contentsOf: counter, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            for id in ids {
                XCTAssertEqual(executed.filter { $0 == id }.count, 1, "iteration \(i): \(id) executed \(executed.filter { $0 == id }.count) times\n"
                               + outputs.map { $0.stderr + $0.stdout }.joined(separator: "\n---\n"))
                XCTAssertEqual(try slurmRecords(id).squeue.count, 1, "Slurm jobs named \(id)")
            }
        }
        for name in ["p1", "q1", "p2", "q2", "p3", "q3"] {
            let s = try status(clones[0], runKey(name))
            XCTAssertEqual(s.phase, .succeeded, "\(name): \(s.events)")
        }
    }

    /// A cancel Slurm does not confirm is not recorded: with the controller unreachable (a client configuration
    /// naming a port nobody listens on), scancel fails, the status stays Running with a `CancelFailed` event and
    /// the job keeps running; the next reconcile that reaches the controller cancels it and records it.
    func testAFailedScancelIsNotRecordedAsCancelled() throws {
        let repo = try makeRepo("cancel-fails", specs: [
            "groups/support/runs/sleeper.yaml": runSpec(#"echo "started $HONE_JOB_ID"; sleep 300"#),
        ])
        XCTAssertEqual(try reconcile(repo).status, 0)
        let id = try recordedId(repo, runKey("sleeper"))
        let slurmId = try XCTUnwrap(try slurmRecords(id).squeue.first, "submitted without --wait")
        try waitUntil("\(id) RUNNING") { try slurmState(slurmId) == "RUNNING" }
        XCTAssertEqual(try reconcile(repo).status, 0)
        XCTAssertEqual(try status(repo, runKey("sleeper")).phase, .running)

        let conf = try String(contentsOfFile: try XCTUnwrap(cluster.environment["SLURM_CONF"]), encoding: .utf8)
        let unreachable = conf.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("SlurmctldPort=") && !$0.hasPrefix("MessageTimeout=") && !$0.hasPrefix("TCPTimeout=") }
            .joined(separator: "\n") + "\nSlurmctldPort=1\nMessageTimeout=1\nTCPTimeout=1\n"
        let badConf = scratch.appendingPathComponent("unreachable.conf")
        try unreachable.write(to: badConf, atomically: true, encoding: .utf8)

        _ = try git(repo, ["rm", "-q", "groups/support/runs/sleeper.yaml"])
        _ = try git(repo, ["commit", "-q", "-m", "drop sleeper"])
        _ = try reconcile(repo, extraEnv: ["SLURM_CONF": badConf.path])
        let kept = try status(repo, runKey("sleeper"))
        XCTAssertEqual(kept.phase, .running, "recorded as \(kept.phase) though scancel failed: \(kept.events)")
        let failed = try XCTUnwrap(kept.events.last { $0.reason == "CancelFailed" }, "no event says the cancel failed: \(kept.events.map(\.reason))")
        XCTAssertEqual(failed.type, .warning)
        XCTAssertTrue(failed.message.contains(id), failed.message)
        XCTAssertFalse(kept.events.contains { $0.reason == "Deleted" })
        XCTAssertEqual(try slurmState(slurmId), "RUNNING", "the job was cancelled after all")
        // Retrying with the same failure adds no commit.
        let head = try git(repo, ["rev-parse", "HEAD"])
        _ = try reconcile(repo, extraEnv: ["SLURM_CONF": badConf.path])
        XCTAssertEqual(try git(repo, ["rev-parse", "HEAD"]), head)

        XCTAssertEqual(try reconcile(repo).status, 0)
        let s = try status(repo, runKey("sleeper"))
        XCTAssertEqual(s.phase, .cancelled, "\(s.events)")
        XCTAssertEqual(s.events.last { $0.reason == "Deleted" }?.type, .warning, "events: \(s.events)")
        try assertCleanWorkTree(repo)
        XCTAssertEqual(try assertExactlyOneSlurmJob(s, finalState: "CANCELLED"), slurmId)
    }

    /// An eval with autoRelease 5s: hone's own timer scancels it long before Slurm's --time (1 minute) would.
    func testAutoReleaseCancelsAnEvalOnSlurm() throws {
        let repo = try makeRepo("release", specs: [
            "groups/support/evals/hold.yaml": """
            kind: Eval
            pool: slurm
            model: tiny-char@v1
            dataset: tickets-test@v1
            handler: "echo holding the model; sleep 300"
            autoRelease: 5s

            """,
        ])
        let out = try reconcile(repo, ["--wait", "--timeout", "90s", "--poll-interval", "0.5"])
        XCTAssertEqual(out.status, 0)
        let s = try status(repo, evalKey("hold"))
        XCTAssertEqual(s.phase, .cancelled, "\(s.events)")
        XCTAssertEqual(s.events.first { $0.reason == "AutoReleased" }?.type, .warning, "events: \(s.events)")
        XCTAssertNotNil(s.releaseAt)
        if let d = s.durationSeconds { XCTAssertLessThan(d, 50, "released by hone, not by Slurm's time limit") }
        try assertCleanWorkTree(repo)
        let slurmId = try assertExactlyOneSlurmJob(s, finalState: "CANCELLED")
        XCTAssertEqual(try scontrolField(slurmId, "TimeLimit"), "00:01:00", "autoRelease 5s is submitted as --time=1")
    }

    /// Links in a Slurm job's folder are not followed either: results.jsonl and summary.json pointing at
    /// /proc/self/environ are skipped (OutputSkipped), and the reconciler's environment is committed nowhere.
    func testLinksInASlurmJobsOutputAreNotFollowed() throws {
        let canary = "canary-\(nonce)"
        let handler = #"out=$(python3 -c 'import json,os; print(json.load(open(os.environ["HONE_JOB"]))["outputDir"])'); ln -s /proc/self/environ "$out/results.jsonl"; ln -s /proc/self/environ "$out/summary.json"; echo linked"#
        let repo = try makeRepo("links", specs: [
            "groups/support/evals/links.yaml": """
            kind: Eval
            pool: slurm
            model: tiny-char@v1
            dataset: tickets-test@v1
            handler: \(yamlQuoted(handler))

            """,
        ])
        let out = try reconcile(repo, ["--wait", "--timeout", "90s"], extraEnv: ["HONE_TEST_CANARY": canary])
        XCTAssertEqual(out.status, 0, out.stderr)
        let s = try status(repo, evalKey("links"))
        XCTAssertEqual(s.phase, .succeeded, "\(s.events)")
        XCTAssertNil(s.eval?.resultsPath)
        XCTAssertEqual(s.metrics, [:])
        let skipped = try XCTUnwrap(s.events.first { $0.reason == "OutputSkipped" }, "\(s.events)")
        XCTAssertEqual(skipped.type, .warning)
        XCTAssertTrue(skipped.message.contains("out/results.jsonl is a symbolic link"), skipped.message)
        XCTAssertTrue(skipped.message.contains("out/summary.json is a symbolic link"), skipped.message)
        XCTAssertFalse(try git(repo, ["log", "-p", "--all"]).contains(canary), "the reconciler's environment was committed")
        try assertCleanWorkTree(repo)
    }

    /// A pool's maxHours becomes sbatch --time; Slurm kills the job at its limit: Failed, `TimeLimit` event.
    func testSlow_MaxHoursBecomesSlurmTimeLimit() throws {
        if ProcessInfo.processInfo.environment["HONE_SLURM_SKIP_SLOW"] == "1" { throw XCTSkip("HONE_SLURM_SKIP_SLOW=1") }
        let repo = try makeRepo("timelimit", specs: [
            "groups/support/runs/overtime.yaml": runSpec(#"echo "working past the limit"; sleep 600"#, pool: "short"),
        ])
        let t0 = Date()
        let out = try reconcile(repo, ["--wait", "--timeout", "150s", "--poll-interval", "2"], timeout: 200)
        print("Slurm's time limit (1 min) ended the job after \(Int(Date().timeIntervalSince(t0))) s")
        XCTAssertEqual(out.status, 0)
        let s = try status(repo, runKey("overtime"))
        XCTAssertEqual(s.phase, .failed, "\(s.events)")
        let limit = s.events.first { $0.reason == "TimeLimit" }
        XCTAssertEqual(limit?.type, .warning, "events: \(s.events)")
        XCTAssertTrue(limit?.message.contains("working past the limit") ?? false, limit?.message ?? "")
        try assertCleanWorkTree(repo)
        let slurmId = try assertExactlyOneSlurmJob(s, finalState: "TIMEOUT")
        XCTAssertEqual(try scontrolField(slurmId, "TimeLimit"), "00:01:00", "maxHours 0.0167 is submitted as --time=1")
    }

    /// A reconciler killed right after sbatch, before it recorded anything — and even before the Slurm id reached
    /// `slurm-id` (the file is deleted) — then restarted: it adopts the job by name; Slurm ran exactly one.
    func testReconcilerCrashAfterSubmitThenRestartSubmitsOnce() throws {
        let repo = try makeRepo("crash", specs: [
            "groups/support/runs/once.yaml": runSpec(modelWriter(delay: 2)),
        ])
        let crashed = try reconcile(repo, extraEnv: ["HONE_CRASH_AT": "after-launch"])
        XCTAssertTrue(crashed.signalled && crashed.status == SIGKILL, "HONE_CRASH_AT=after-launch kills hone (status \(crashed.status))")
        let id = try recordedId(repo, runKey("once"))
        XCTAssertEqual(try status(repo, runKey("once")).tasks.first?.executorId, nil, "killed before recording the Slurm id")
        let submitted = try slurmRecords(id).squeue
        XCTAssertEqual(submitted.count, 1, "sbatch ran before the crash")
        try FileManager.default.removeItem(at: repo.workdir.appendingPathComponent("jobs/\(id)/slurm-id"))

        let restarted = try reconcile(repo, ["--wait", "--timeout", "90s"])
        XCTAssertEqual(restarted.status, 0)
        let s = try status(repo, runKey("once"))
        XCTAssertEqual(s.phase, .succeeded, "\(s.events)")
        XCTAssertEqual(s.id, id)
        try assertCleanWorkTree(repo)
        XCTAssertEqual(try assertExactlyOneSlurmJob(s, finalState: "COMPLETED"), submitted.first)
    }

    /// `kill -9` of `hone reconcile --wait` while its job runs on Slurm, then a new reconcile: exactly one Slurm job.
    func testReconcilerKilledWhileJobRunsThenRestarted() throws {
        let repo = try makeRepo("killed", specs: [
            "groups/support/runs/survivor.yaml": runSpec(modelWriter(delay: 4)),
        ])
        let p = try start(hone.path, ["reconcile", "-C", repo.root.path, "--wait", "--poll-interval", "0.5"])
        var slurmId: String?
        try waitUntil("the job RUNNING under a reconciler that waits") {
            guard let id = try? self.git(repo, ["show", "HEAD:\(runKey("survivor").statusPath)"]).split(separator: "\n")
                .first(where: { $0.hasPrefix("id: ") })?.dropFirst(4) else { return false }
            slurmId = try slurmRecords(String(id)).squeue.first
            return try slurmId.map { try slurmState($0) == "RUNNING" } ?? false
        }
        kill(p.process.processIdentifier, SIGKILL)
        p.process.waitUntilExit()
        XCTAssertEqual(p.process.terminationReason, .uncaughtSignal)

        let restarted = try reconcile(repo, ["--wait", "--timeout", "90s"])
        XCTAssertEqual(restarted.status, 0)
        let s = try status(repo, runKey("survivor"))
        XCTAssertEqual(s.phase, .succeeded, "\(s.events)")
        XCTAssertEqual(s.events.filter { $0.reason == "Launched" }.count, 1, "launched once: \(s.events)")
        try assertCleanWorkTree(repo)
        XCTAssertEqual(try assertExactlyOneSlurmJob(s, finalState: "COMPLETED"), slurmId)
    }

    /// Two runs submitted by one reconcile run at the same time on the two-CPU node.
    func testTwoJobsRunInParallel() throws {
        let repo = try makeRepo("parallel", specs: [
            "groups/support/runs/par-a.yaml": runSpec(modelWriter(delay: 8, marker: "a")),
            "groups/support/runs/par-b.yaml": runSpec(modelWriter(delay: 8, marker: "b")),
        ])
        let first = try reconcile(repo)
        XCTAssertEqual(first.status, 0)
        XCTAssertTrue(first.stdout.contains("2 launched"), first.stdout)
        let a = try XCTUnwrap(try slurmRecords(try recordedId(repo, runKey("par-a"))).squeue.first)
        let b = try XCTUnwrap(try slurmRecords(try recordedId(repo, runKey("par-b"))).squeue.first)
        try waitUntil("par-a and par-b RUNNING at once (squeue)", timeout: 30) {
            let q = try run("squeue", ["-h", "-t", "RUNNING", "-o", "%i"], env: cluster.environment).stdout
            let ids = Set(q.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) })
            return ids.contains(a) && ids.contains(b)
        }
        let second = try reconcile(repo, ["--wait", "--timeout", "90s"])
        XCTAssertEqual(second.status, 0)
        for (name, slurmId) in [("par-a", a), ("par-b", b)] {
            let s = try status(repo, runKey(name))
            XCTAssertEqual(s.phase, .succeeded, "\(name): \(s.events)")
            XCTAssertEqual(try assertExactlyOneSlurmJob(s, finalState: "COMPLETED"), slurmId)
        }
        try assertCleanWorkTree(repo)
    }
}

struct ExecutorTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension ReconcileOnSlurmTests.Output {
    func checkSucceeded(_ what: String) throws {
        guard status == 0 else { throw ExecutorTestError("\(what) failed (\(status)): \(stderr)") }
    }
}
