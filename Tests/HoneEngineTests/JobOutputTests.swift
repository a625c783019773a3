import Foundation
@testable import HoneEngine
import HoneExecutors
import HoneModel
import XCTest

/// What the reconciler reads from inputs and from a finished job's folder, with hostile or odd handlers:
/// endless inputs, links out of the job folder, huge logs and results, NaN metrics, no outputs at all.
final class JobOutputTests: XCTestCase {
    /// A handler script committed at `handlers/NAME.py` and a run or eval spec in group g that runs it.
    func job(_ repo: HoneRepo, _ kind: ObjectKey.Kind, _ name: String, script: String, dataset: String = "d@v1") throws {
        try repo.write("handlers/\(name).py", "import json, os, sys\njob = json.load(open(os.environ[\"HONE_JOB\"]))\nout = job[\"outputDir\"]\n" + script)
        let spec = kind == .run
            ? "kind: Run\nbaseModel: base@v1\ntrainDataset: \(dataset)\nhandler: python3 handlers/\(name).py\n"
            : "kind: Eval\nmodel: base@v1\ndataset: \(dataset)\nhandler: python3 handlers/\(name).py\n"
        try repo.write("groups/g/\(kind == .run ? "runs" : "evals")/\(name).yaml", spec)
    }

    /// `hone reconcile ARGS` in the background, waited for at most `deadline` seconds (killed after that):
    /// a reconciler that hangs fails the test instead of hanging it.
    func reconcileWithin(_ repo: HoneRepo, _ args: [String], deadline: TimeInterval, env: [String: String] = [:],
                         file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let (p, log) = try repo.start(["reconcile"] + args, env: env)
        let end = Date().addingTimeInterval(deadline)
        while p.isRunning && Date() < end { usleep(50_000) }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTFail("hone reconcile \(args.joined(separator: " ")) still running after \(Int(deadline)) s:\n\(output)", file: file, line: line)
        } else {
            XCTAssertEqual(p.terminationStatus, 0, output, file: file, line: line)
        }
        return output
    }

    // MARK: Item 3: inputs are regular files or folders of regular files

    func testAnInputThatIsADeviceAFIFOOrHoldsALinkFailsOnlyItsJobWithinTheTimeout() throws {
        let repo = try HoneRepo(maxParallel: 4)
        let fifo = repo.base.appendingPathComponent("data.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let folder = repo.base.appendingPathComponent("folder-data")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("rows\n".utf8).write(to: folder.appendingPathComponent("a.txt"))
        XCTAssertEqual(symlink("/proc/self/environ", folder.appendingPathComponent("b.txt").path), 0)
        let anySha = String(repeating: "0", count: 64)
        try repo.write("datasets/zero/v1.yaml", "kind: DatasetVersion\nuri: /dev/zero\nsha256: \(anySha)\n")
        try repo.write("datasets/pipe/v1.yaml", "kind: DatasetVersion\nuri: file://\(fifo)\nsha256: \(anySha)\n")
        try repo.write("datasets/linked/v1.yaml", "kind: DatasetVersion\nuri: \(folder.path)\nsha256: \(anySha)\n")
        // "a-first" sorts first: it is launched before the inputs that used to hang the pass.
        try repo.run("a-first", params: "sleep: 0.5")
        try repo.write("groups/g/runs/zero.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: zero@v1\nhandler: python3 handlers/job.py\nparams: {counter: \"\(repo.counter.path)\"}\n")
        try repo.write("groups/g/runs/pipe.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: pipe@v1\nhandler: python3 handlers/job.py\nparams: {counter: \"\(repo.counter.path)\"}\n")
        try repo.write("groups/g/evals/linked.yaml", "kind: Eval\nmodel: base@v1\ndataset: linked@v1\nhandler: python3 handlers/job.py\nparams: {counter: \"\(repo.counter.path)\"}\n")
        try repo.commit("endless inputs")

        let output = try reconcileWithin(repo, ["--wait", "--timeout", "10s"], deadline: 60)
        XCTAssertEqual(repo.status("a-first")?.phase, .succeeded, output)
        let zero = try XCTUnwrap(repo.status("zero")?.event("InputNotRegular"), output)
        XCTAssertTrue(zero.message.contains("/dev/zero is a device"), zero.message)
        let pipe = try XCTUnwrap(repo.status("pipe")?.event("InputNotRegular"), output)
        XCTAssertTrue(pipe.message.contains("\(fifo) is a FIFO"), pipe.message)
        let linked = try XCTUnwrap(repo.evalStatus("linked")?.event("InputNotRegular"), output)
        XCTAssertTrue(linked.message.contains("b.txt is a symbolic link"), linked.message)
        XCTAssertEqual(repo.status("zero")?.phase, .failed)
        XCTAssertEqual(repo.executions, repo.executions.filter { $0.hasPrefix("g/a-first ") }, "only a-first ran")
        XCTAssertEqual(repo.executions.count, 1)
        try repo.assertHealthy()
    }

    // MARK: Item 10: links in a job's folder are never followed

    func testLinksInAJobsFolderAreNotFollowedAndTheReconcilersEnvironmentIsNotCommitted() throws {
        let repo = try HoneRepo(maxParallel: 4)
        let canary = "canary-\(UUID().uuidString)"
        let links = """
            for name in ["summary.json", "results.jsonl", "metrics.jsonl"]:
                os.symlink("/proc/self/environ", os.path.join(out, name))
            os.makedirs(os.path.join(out, "sub"))
            os.symlink("/proc/self/environ", os.path.join(out, "sub", "weights.bin"))
            os.symlink("/proc/self", os.path.join(out, "proc"))
            """
        try job(repo, .eval, "e-links", script: links + "\nprint('wrote links')\n")
        // A run whose only model file is a link: no model (Failed), and the link is named.
        try job(repo, .run, "r-links", script: links + "\nos.symlink('/proc/self/environ', os.path.join(out, 'model.bin'))\n")
        // The task log itself replaced by a link, after the handler wrote to it.
        try job(repo, .eval, "e-log", script: """
            print("some output", flush=True)
            log = os.path.join(os.path.dirname(out), "task.log")
            os.unlink(log); os.symlink("/proc/self/environ", log)
            open(os.path.join(out, "summary.json"), "w").write('{"accuracy": 0.5}')
            """)
        // A FIFO where results belong: reading it would block the reconciler.
        try job(repo, .eval, "e-fifo", script: "os.mkfifo(os.path.join(out, 'results.jsonl'))\nopen(os.path.join(out, 'summary.json'), 'w').write('{\"accuracy\": 1}')\n")
        try repo.commit("hostile outputs")

        let output = try reconcileWithin(repo, ["--wait"], deadline: 90, env: ["HONE_TEST_CANARY": canary])
        let e = try XCTUnwrap(repo.evalStatus("e-links"), output)
        XCTAssertEqual(e.phase, .succeeded)
        XCTAssertEqual(e.metrics, [:])
        XCTAssertNil(e.eval?.resultsPath)
        let skipped = try XCTUnwrap(e.event("OutputSkipped"), "\(e.events)")
        XCTAssertEqual(skipped.type, .warning)
        for name in ["out/summary.json", "out/results.jsonl", "out/metrics.jsonl"] {
            XCTAssertTrue(skipped.message.contains("\(name) is a symbolic link"), skipped.message)
        }
        let r = try XCTUnwrap(repo.status("r-links"))
        XCTAssertEqual(r.phase, .failed)
        XCTAssertNotNil(r.event("NoModel"))
        let runSkipped = try XCTUnwrap(r.event("OutputSkipped")).message
        for name in ["out/model.bin", "out/sub/weights.bin", "out/proc"] { XCTAssertTrue(runSkipped.contains("\(name) is a symbolic link"), runSkipped) }
        let log = try XCTUnwrap(repo.evalStatus("e-log"))
        XCTAssertEqual(log.phase, .succeeded)
        XCTAssertTrue(try XCTUnwrap(log.event("OutputSkipped")).message.contains("task.log is a symbolic link"), "\(log.events)")
        XCTAssertEqual(log.metrics["accuracy"], .double(0.5))
        let fifo = try XCTUnwrap(repo.evalStatus("e-fifo"))
        XCTAssertEqual(fifo.phase, .succeeded)
        XCTAssertTrue(try XCTUnwrap(fifo.event("OutputSkipped")).message.contains("out/results.jsonl is a FIFO"), "\(fifo.events)")
        XCTAssertEqual(fifo.metrics["accuracy"], .int(1))

        // The reconciler's environment is nowhere: not in git (any object), not in the store.
        XCTAssertFalse(try repo.allGitObjects().contains(canary), "the reconciler's environment was committed")
        let store = repo.url(".hone/store")
        let files = try XCTUnwrap(FileManager.default.enumerator(at: store, includingPropertiesForKeys: nil))
        for case let u as URL in files {
            var st = stat()
            XCTAssertEqual(lstat(u.path, &st), 0)
            XCTAssertNotEqual(st.st_mode & S_IFMT, S_IFLNK, "a link in the store: \(u.path)")
            if st.st_mode & S_IFMT == S_IFREG { XCTAssertFalse((try? String(contentsOf: u, encoding: .utf8))?.contains(canary) == true, u.path) }
        }
        try repo.assertHealthy()
    }

    // MARK: Item 11: a big log is read from its end

    /// Peak RSS (kB) of `hone reconcile --wait`, run under python's resource module (its waited-for children).
    func reconcilePeakKB(_ repo: HoneRepo) throws -> (kb: Int, output: String) {
        let script = """
            import resource, subprocess, sys
            r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            sys.stdout.write(r.stdout.decode("utf-8", "replace"))
            print("exit=%d maxrss_kb=%d" % (r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
            """
        let r = try HoneRepo.exec("/usr/bin/env", ["python3", "-c", script, HoneRepo.honeBinary.path, "reconcile", "--wait", "--poll-interval", "0.1"],
                                  in: repo.root, env: HoneRepo.gitEnv)
        let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("exit=0 "), r.output)
        return (Int(last.split(separator: "=").last ?? "") ?? -1, r.stdout)
    }

    func testAnEightHundredMegabyteLogIsCollectedInBoundedMemory() throws {
        let repo = try HoneRepo(maxParallel: 2)
        // The handler's stdout is the log (opened for appending): extending it makes an 800 MB sparse log
        // in no time and no disk space; the last line is appended after the hole.
        let big = """
            print("first line", flush=True)
            os.ftruncate(1, 800 * 1000 * 1000)
            print("the last line", flush=True)
            """
        try job(repo, .run, "r-big", script: big + "\nopen(os.path.join(out, 'model.bin'), 'w').write('w')\n")
        try job(repo, .run, "r-big-fails", script: big + "\nsys.exit(3)\n")
        try repo.commit("big logs")

        let (kb, output) = try reconcilePeakKB(repo)
        XCTAssertGreaterThan(kb, 0, output)
        print("peak RSS of hone reconcile --wait collecting two 800 MB logs: \(kb) kB")
        XCTAssertLessThan(kb, 200 * 1024, "the reconciler's peak RSS was \(kb) kB collecting two 800 MB logs")
        let s = try XCTUnwrap(repo.status("r-big"), output)
        XCTAssertEqual(s.phase, .succeeded)
        let committed = try XCTUnwrap(FileManager.default.contents(atPath: repo.url("status/groups/g/runs/r-big/train.log").path))
        XCTAssertLessThan(committed.count, 256 * 1024 + 300)
        XCTAssertTrue(String(decoding: committed, as: UTF8.self).hasSuffix("the last line\n"))
        XCTAssertTrue(String(decoding: committed.prefix(300), as: UTF8.self).contains("store://logs/\(s.id)/train.log"))
        var st = stat()
        XCTAssertEqual(stat(repo.url(".hone/store/logs/\(s.id)/train.log").path, &st), 0)
        XCTAssertGreaterThan(Int(st.st_size), 800 * 1000 * 1000, "the full log is in the store")
        let failed = try XCTUnwrap(repo.status("r-big-fails"))
        XCTAssertEqual(failed.phase, .failed)
        XCTAssertTrue(try XCTUnwrap(failed.event("Failed")).message.contains("the last line"))
        try repo.assertHealthy()
    }

    /// Peak resident memory of this process since the last reset (Linux: VmHWM, reset by clear_refs 5).
    func resetPeak() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }
    func peakKB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    /// The store keeps the file that was opened and read: a link swapped in at its name afterwards is
    /// neither linked nor followed, and the copy streams (memory bounded whatever the size).
    func testTheStoreKeepsTheFileThatWasReadByStreamingWhenItsNameWasSwapped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hone-keep-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("task.log")
        let fd = open(log.path, O_WRONLY | O_CREAT, 0o644)
        XCTAssertEqual(ftruncate(fd, 300_000_000), 0)
        XCTAssertEqual(pwrite(fd, "last\n", 5, 300_000_000), 5)
        close(fd)
        let file = try XCTUnwrap(try OutputFile.open("task.log", under: dir.path))
        XCTAssertEqual(rename(log.path, dir.appendingPathComponent("moved.log").path), 0)
        XCTAssertEqual(symlink("/proc/self/environ", log.path), 0)
        let store = ArtifactStore(project: nil, repositoryRoot: dir)
        resetPeak()
        let before = peakKB()
        let uri = try store.keep(file, source: log, as: "logs/j/train.log")
        let grown = peakKB() - before
        XCTAssertEqual(uri, "store://logs/j/train.log")
        let kept = dir.appendingPathComponent(".hone/store/logs/j/train.log").path
        var st = stat()
        XCTAssertEqual(lstat(kept, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFREG)
        XCTAssertEqual(Int(st.st_size), 300_000_005)
        XCTAssertNotEqual(UInt64(st.st_ino), file.inode, "copied, not linked (the name no longer names the file read)")
        let h = try XCTUnwrap(FileHandle(forReadingAtPath: kept))
        try h.seek(toOffset: 300_000_000)
        XCTAssertEqual(h.readDataToEndOfFile(), Data("last\n".utf8))
        XCTAssertGreaterThan(before, 0)
        print("peak RSS growth streaming a 300 MB file into the store: \(grown) kB")
        XCTAssertLessThan(grown, 64 * 1024, "copying a 300 MB file raised the peak RSS by \(grown) kB")
    }

    // MARK: Item 13: results rows are checked, and capped for git

    func testResultsRowsAreCheckedAndWhatGoesIntoGitIsCapped() throws {
        let repo = try HoneRepo()
        try job(repo, .eval, "e-odd", script: """
            rows = ['{"id": "a", "ok": 1}', '[1, 2]', '{"ok": 0}', '{"id": "a", "ok": 0}', 'not json', '', '{"id": 7}']
            open(os.path.join(out, "results.jsonl"), "w").write("\\n".join(rows) + "\\n")
            """)
        // 60,000 rows of 100 bytes: 6 MB, more than the 4 MiB committed.
        try job(repo, .eval, "e-huge", script: """
            with open(os.path.join(out, "results.jsonl"), "w") as f:
                for i in range(60000):
                    f.write(('{"id": "%06d", "pad": "' % i).ljust(97, "x") + '"}\\n')
            """)
        try repo.commit("results")
        try repo.reconcile()

        let odd = try XCTUnwrap(repo.evalStatus("e-odd"))
        XCTAssertEqual(odd.phase, .succeeded)
        let bad = try XCTUnwrap(odd.event("BadResults"), "\(odd.events)")
        XCTAssertEqual(bad.type, .warning)
        XCTAssertTrue(bad.message.contains("of 6 rows"), bad.message)
        XCTAssertTrue(bad.message.contains("2 not a JSON object"), bad.message)
        XCTAssertTrue(bad.message.contains("1 without \"id\""), bad.message)
        XCTAssertTrue(bad.message.contains("1 with an id seen before (\"a\")"), bad.message)
        XCTAssertTrue(bad.message.contains("lines 2, 3, 5"), bad.message)
        XCTAssertNil(odd.event("OutputCut"))

        let huge = try XCTUnwrap(repo.evalStatus("e-huge"))
        XCTAssertNil(huge.event("BadResults"))
        let cut = try XCTUnwrap(huge.event("OutputCut"), "\(huge.events)")
        let committed = try XCTUnwrap(FileManager.default.contents(atPath: repo.url("status/groups/g/evals/e-huge/results.jsonl").path))
        XCTAssertLessThanOrEqual(committed.count, 4 << 20)
        XCTAssertEqual(committed.count % 100, 0, "whole rows only")
        XCTAssertEqual(huge.eval?.resultsRows, committed.count / 100)
        XCTAssertTrue(cut.message.contains("60000 rows"), cut.message)
        XCTAssertTrue(cut.message.contains("store://outputs/\(huge.id)/results.jsonl"), cut.message)
        var st = stat()
        XCTAssertEqual(stat(repo.url(".hone/store/outputs/\(huge.id)/results.jsonl").path, &st), 0)
        XCTAssertEqual(Int(st.st_size), 6_000_000, "the full file is in the store")
        try repo.assertHealthy()
    }

    // MARK: Item 14: NaN and Infinity in summary.json

    func testNaNInSummaryIsNamedAndTheFiniteMetricsAreKept() throws {
        let repo = try HoneRepo()
        try job(repo, .eval, "e-nan", script: """
            json.dump({"accuracy": 0.75, "loss": float("nan"), "ppl": float("inf"), "note": "NaN Infinity",
                       "per": {"low": float("-inf"), "high": 2}, "curve": [1, float("nan")]},
                      open(os.path.join(out, "summary.json"), "w"))
            """)
        try job(repo, .eval, "e-list", script: "open(os.path.join(out, 'summary.json'), 'w').write('[0.5, 1]')\n")
        try job(repo, .eval, "e-cut", script: "open(os.path.join(out, 'summary.json'), 'w').write('{\"accuracy\": 0.5')\n")
        try repo.commit("nan")
        try repo.reconcile()
        XCTAssertTrue(try XCTUnwrap(repo.evalStatus("e-list")?.event("BadSummary")).message.contains("summary.json is a list, not a JSON object"))
        XCTAssertTrue(try XCTUnwrap(repo.evalStatus("e-cut")?.event("BadSummary")).message.contains("summary.json is not valid JSON"))
        let s = try XCTUnwrap(repo.evalStatus("e-nan"))
        XCTAssertEqual(s.phase, .succeeded)
        XCTAssertEqual(s.metrics["accuracy"], .double(0.75))
        XCTAssertEqual(s.metrics["note"], .string("NaN Infinity"))
        XCTAssertEqual(s.metrics["per"], .object(["high": .int(2)]))
        XCTAssertEqual(s.metrics["curve"], .array([.int(1), .null]))
        XCTAssertNil(s.metrics["loss"]); XCTAssertNil(s.metrics["ppl"])
        XCTAssertNil(s.event("BadSummary"), "\(s.events)")
        let e = try XCTUnwrap(s.event("NonFiniteMetrics"), "\(s.events)")
        XCTAssertEqual(e.type, .warning)
        XCTAssertTrue(e.message.contains("curve[1], loss, per.low, ppl"), e.message)
        try repo.assertHealthy()
    }

    // MARK: Item 15: an eval that wrote nothing

    func testAnEvalWithoutOutputsSucceedsWithAWarning() throws {
        let repo = try HoneRepo()
        try job(repo, .eval, "e-empty", script: "print('wrote nothing')\n")
        try repo.eval("e-full")
        try repo.commit("empty eval")
        try repo.reconcile()
        let s = try XCTUnwrap(repo.evalStatus("e-empty"))
        XCTAssertEqual(s.phase, .succeeded)
        let e = try XCTUnwrap(s.event("NoOutputs"), "\(s.events)")
        XCTAssertEqual(e.type, .warning)
        XCTAssertTrue(e.message.contains("neither summary.json nor results.jsonl"), e.message)
        XCTAssertNil(repo.evalStatus("e-full")?.event("NoOutputs"))
        try repo.assertHealthy()
    }
}
