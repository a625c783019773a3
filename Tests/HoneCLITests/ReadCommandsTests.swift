import Foundation
import XCTest
import HoneTestSupport
import HoneLoading
import HoneModel
import YAML

var honeExecutableURL: URL { HoneBinary.url }

struct HoneRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] {
        // Split on the byte: String.split sees CSV's "\r\n" as one Character.
        var l = stdout.utf8.split(separator: 10, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if stdout.utf8.last == 10 { l.removeLast() }
        return l
    }
    var json: Any? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) }
    /// The items of a list document (`get -o json`), after checking its apiVersion.
    var items: [[String: Any]]? {
        guard let doc = json as? [String: Any], doc["apiVersion"] as? String == "hone/v1" else { return nil }
        return doc["items"] as? [[String: Any]]
    }
}

/// Runs `hone ARGS` in `dir`.
@discardableResult
func runHone(_ args: [String], in dir: URL, environment: [String: String] = [:]) throws -> HoneRun {
    let p = Process()
    p.executableURL = honeExecutableURL
    p.arguments = args
    p.currentDirectoryURL = dir
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b } }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently so neither fills up and blocks the child.
    nonisolated(unsafe) var errData = Data()
    let errDone = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); errDone.signal() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    p.waitUntilExit()
    return HoneRun(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// A small hone repository on disk (no git unless asked): a project, a base model and dataset, groups.
struct HoneRepoFixture {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hone-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try write("hone.yaml", """
        kind: Project
        name: fixture
        owner: team
        pools:
          local:
            executor: local
            maxParallel: 2

        """)
        try write("artifacts/base.bin", "base model\n")
        try write("data/d.txt", "some data\n")
        // The scripts the fixtures' handlers name (validate checks that they exist).
        try write("train.py", "print('train')\n")
        try write("eval.py", "print('eval')\n")
        try write("models/base/v1.yaml", "kind: ModelVersion\nuri: artifacts/base.bin\nsha256: \(HoneRepoFixture.sha("base model\n"))\n")
        try write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: data/d.txt\nsha256: \(HoneRepoFixture.sha("some data\n"))\n")
    }

    static func sha(_ s: String) -> String { var h = ContentHash(); h.update(s); return h.finalize() }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    func read(_ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) }

    /// A git identity for the `git` that commits fixtures and for `hone reconcile`, which commits as the user.
    static let gitIdentity = ["GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"]

    /// `git init` and one commit of everything (the git binary as the test's oracle tool).
    func commitAll() throws {
        for args in [["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git"] + args
            p.currentDirectoryURL = root
            p.environment = ProcessInfo.processInfo.environment.merging(Self.gitIdentity) { _, b in b }
            p.standardOutput = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "git \(args)")
        }
    }

    func group(_ name: String, _ description: String) throws {
        try write("groups/\(name)/group.yaml", "kind: Group\ndescription: \(description)\n")
    }
    func run(_ group: String, _ name: String) throws {
        try write("groups/\(group)/runs/\(name).yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nvalidationDataset: d@v1\nhandler: python3 train.py\nparams: {lr: 0.1}\n")
    }
    func eval(_ key: ObjectKey) throws {
        try write(key.specPath, "kind: Eval\nmodel: base@v1\ndataset: d@v1\nhandler: python3 eval.py\n")
    }

    /// Writes a status file the way hone does (StatusCodec + emitter).
    func status(_ key: ObjectKey, phase: Phase, createdAt: String, duration: Double? = nil, metrics: [String: JSONValue] = [:],
                owner: String = "alice", attempt: Int = 1) throws {
        var s = ObjectStatus(key: key, id: "\(key.name)-\(attempt)-abc", phase: phase, pool: "local",
                             handler: key.kind == .run ? "python3 train.py" : "python3 eval.py", attempt: attempt, specDigest: "d1")
        s.createdAt = createdAt
        s.startedAt = createdAt
        if phase.isFinal, let duration {
            s.durationSeconds = duration
            s.finishedAt = Timestamp.string(Timestamp.date(createdAt)!.addingTimeInterval(duration))
        }
        s.owner = owner
        s.metrics = metrics
        s.cost = 0
        s.params = key.kind == .run ? ["lr": .double(0.1)] : [:]
        let task = key.kind == .run ? "train" : "evaluate"
        s.tasks = [TaskStatus(name: task, phase: phase, executorId: "4242", startedAt: createdAt, finishedAt: s.finishedAt,
                              exitCode: phase == .succeeded ? 0 : phase == .failed ? 3 : nil, log: key.statusFolder + "\(task).log")]
        s.events = [StatusEvent(at: createdAt, reason: "Scheduled", message: "attempt 1 scheduled on pool local"),
                    StatusEvent(at: createdAt, reason: "Launched", message: "\(task) submitted to local as 4242", task: task)]
        if phase == .failed { s.events.append(StatusEvent(at: s.finishedAt ?? createdAt, type: .warning, reason: "Failed", message: "\(task) exited 3", task: task)) }
        if key.kind == .run {
            s.run?.baseModel = "base@v1"; s.run?.trainDataset = "d@v1"; s.run?.validationDataset = "d@v1"
            if phase == .succeeded { s.run?.model = ModelOutput(name: key.name, version: "draft-1", uri: "store://models/x", sha256: "ab", published: false) }
        } else {
            s.eval?.model = "base@v1"; s.eval?.dataset = "d@v1"; s.eval?.autoRelease = 3600
            if phase == .succeeded { s.eval?.resultsPath = key.statusFolder + "results.jsonl"; s.eval?.resultsRows = 10 }
        }
        try write(key.statusPath, try YAMLEmitter.emit(StatusCodec.encode(s)))
    }

    /// Group `g` with three runs (two recorded) and five evals (four recorded), group `empty`, one
    /// evaluation-module eval (Running), and views `acc`, `recent` and the hidden `names`.
    static func populated() throws -> HoneRepoFixture {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.group("empty", "Nothing yet")
        for r in ["r0", "r1", "r2"] { try f.run("g", r) }
        func e(_ n: String) -> ObjectKey { ObjectKey(scope: .group("g"), kind: .eval, name: n) }
        for n in ["e-old", "e-mid", "e-new", "e-top", "e-never"] { try f.eval(e(n)) }
        try f.eval(ObjectKey(scope: .evaluations, kind: .eval, name: "ev1"))
        try f.status(ObjectKey(scope: .group("g"), kind: .run, name: "r1"), phase: .succeeded, createdAt: "2026-01-02T10:00:00Z", duration: 90)
        try f.status(ObjectKey(scope: .group("g"), kind: .run, name: "r0"), phase: .failed, createdAt: "2026-01-01T10:00:00Z", duration: 5, owner: "bob")
        try f.status(e("e-old"), phase: .succeeded, createdAt: "2026-01-01T09:00:00Z", duration: 30, metrics: ["accuracy": .double(0.4), "loss": .double(2)])
        try f.status(e("e-top"), phase: .succeeded, createdAt: "2026-01-01T12:00:00Z", duration: 200, metrics: ["accuracy": .double(0.95)])
        try f.status(e("e-mid"), phase: .succeeded, createdAt: "2026-01-02T09:00:00Z", duration: 60, metrics: ["accuracy": .double(0.8), "loss": .double(1.5)])
        try f.status(e("e-new"), phase: .failed, createdAt: "2026-01-03T09:00:00Z", duration: 3, metrics: ["bleu": .double(0.3)])
        try f.status(ObjectKey(scope: .evaluations, kind: .eval, name: "ev1"), phase: .running, createdAt: "2026-01-04T09:00:00Z")
        try f.write("status/groups/g/runs/r1/train.log", "step 1 loss 2.0\nstep 2 loss 1.0\n")
        try f.write("groups/g/views/acc.yaml", """
        # accuracy of the good ones
        kind: View
        columns: [name, phase, metrics.accuracy, createdAt]
        pinned: [metrics.accuracy]
        filter: {phase: Succeeded, metrics.accuracy: ">=0.5"}
        sort: {by: metrics.accuracy, order: asc}

        """)
        try f.write("groups/g/views/recent.yaml", """
        kind: View
        columns: [name, phase, createdAt, duration]
        filter: {createdAt: ">=2026-01-02", name: "e-*", phase: "!=Running"}
        sort: {by: name, order: asc}

        """)
        try f.write("groups/g/views/names.yaml", "kind: View\ncolumns: [name]\nfilter: {name: \"e-?ld\"}\nvisible: false\n")
        return f
    }
}

final class ReadCommandsTests: XCTestCase {
    func testGetOnARepositoryThatNeverRan() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.run("g", "r1")
        try f.eval(ObjectKey(scope: .group("g"), kind: .eval, name: "e1"))
        let runs = try runHone(["get", "runs", "-o", "wide"], in: f.root)
        XCTAssertEqual(runs.status, 0, runs.stderr)
        XCTAssertEqual(runs.lines, [
            "NAME  GROUP  BASEMODEL  TRAINDATASET  VALIDATIONDATASET  PHASE      POOL   OWNER  CREATEDAT  FINISHEDAT  DURATION  ATTEMPT  PARAMS.LR",
            "r1    g      base@v1    d@v1          d@v1               never run  local  -      -          -           -         -        0.1",
        ])
        let evals = try runHone(["get", "evals", "--group", "g", "--format", "json"], in: f.root)
        XCTAssertEqual(evals.status, 0, evals.stderr)
        XCTAssertEqual((evals.json as? [String: Any])?["kind"] as? String, "EvalList")
        let rows = try XCTUnwrap(evals.items)
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["phase"] as? String, "never run")
        XCTAssertEqual(rows[0]["object"] as? [String: String], ["group": "g", "name": "e1", "path": "groups/g/evals/e1.yaml"])
        let model = try XCTUnwrap(rows[0]["model"] as? [String: Any])
        XCTAssertEqual(model["name"] as? String, "base")
        XCTAssertEqual(model["version"] as? String, "v1")
        XCTAssertEqual(model["draft"] as? Bool, false)
        XCTAssertNil(rows[0]["createdAt"], "times the status does not have are left out")
        let groups = try runHone(["get", "groups", "--format", "wide"], in: f.root)
        XCTAssertEqual(groups.lines, ["NAME  DESCRIPTION  RUNS  EVALS  PLAYGROUNDS  LASTACTIVITY", "g     Group G      1     1      0            -"])
    }

    func testGroupsAndRunsWithRecordedStatuses() throws {
        let f = try HoneRepoFixture.populated()
        let groups = try runHone(["get", "groups", "--format", "wide"], in: f.root)
        XCTAssertEqual(groups.status, 0, groups.stderr)
        XCTAssertEqual(groups.lines, [
            "NAME   DESCRIPTION  RUNS  EVALS  PLAYGROUNDS  LASTACTIVITY",
            "empty  Nothing yet  0     0      0            -",
            "g      Group G      3     5      0            2026-01-03T09:00:03Z",
        ])
        let runs = try runHone(["get", "runs", "--group", "g", "-o", "wide"], in: f.root)
        XCTAssertEqual(runs.status, 0, runs.stderr)
        // Newest first; never-run last.
        XCTAssertEqual(runs.lines, [
            "NAME  GROUP  BASEMODEL  TRAINDATASET  VALIDATIONDATASET  PHASE      POOL   OWNER  CREATEDAT             FINISHEDAT            DURATION  ATTEMPT  PARAMS.LR",
            "r1    g      base@v1    d@v1          d@v1               Succeeded  local  alice  2026-01-02T10:00:00Z  2026-01-02T10:01:30Z  1m30s     1        0.1",
            "r0    g      base@v1    d@v1          d@v1               Failed     local  bob    2026-01-01T10:00:00Z  2026-01-01T10:00:05Z  5s        1        0.1",
            "r2    g      base@v1    d@v1          d@v1               never run  local  -      -                     -                     -         -        0.1",
        ])
        let csv = try runHone(["get", "runs", "--format", "csv"], in: f.root)
        XCTAssertEqual(csv.lines[1], "r1,g,base@v1,d@v1,d@v1,Succeeded,local,alice,2026-01-02T10:00:00Z,2026-01-02T10:01:30Z,90.0,1,0.1\r")
        let md = try runHone(["get", "groups", "--format", "markdown"], in: f.root)
        XCTAssertEqual(md.lines[0], "| name | description | runs | evals | playgrounds | lastActivity |")
    }

    func testEvalsNewestFirstWithEveryColumnAndMetric() throws {
        let f = try HoneRepoFixture.populated()
        let r = try runHone(["get", "evals", "--group", "g", "--format", "csv"], in: f.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines[0], "name,group,model,dataset,runtime,handler,pool,phase,owner,createdAt,finishedAt,duration,attempt,cost,metrics.accuracy,metrics.bleu,metrics.loss\r")
        XCTAssertEqual(r.lines.dropFirst().map { String($0.split(separator: ",")[0]) }, ["e-new", "e-mid", "e-top", "e-old", "e-never"])
        XCTAssertEqual(r.lines[2], "e-mid,g,base@v1,d@v1,,python3 eval.py,local,Succeeded,alice,2026-01-02T09:00:00Z,2026-01-02T09:01:00Z,60.0,1,0.0,0.8,,1.5\r")
        // All evals: the evaluation module too.
        let all = try runHone(["get", "evals", "--format", "json"], in: f.root)
        let rows = try XCTUnwrap(all.items)
        XCTAssertEqual(rows.count, 6)
        XCTAssertEqual(rows.first.map { ($0["object"] as? [String: String])?["path"] }, "evaluations/ev1.yaml")
        let module = try runHone(["get", "evals", "--evaluations"], in: f.root)
        XCTAssertEqual(module.lines.count, 2)
        XCTAssertTrue(module.lines[1].hasPrefix("ev1   evaluations  base@v1"), module.stdout)
    }

    func testViewFilterSortAndPinnedColumns() throws {
        let f = try HoneRepoFixture.populated()
        let r = try runHone(["get", "evals", "--group", "g", "--view", "acc"], in: f.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines, [
            "METRICS.ACCURACY  NAME   PHASE      CREATEDAT",
            "0.8               e-mid  Succeeded  2026-01-02T09:00:00Z",
            "0.95              e-top  Succeeded  2026-01-01T12:00:00Z",
        ])
        // Date, glob and != conditions; sort by name ascending; duration shown as a span.
        let recent = try runHone(["get", "evals", "--group", "g", "--view", "recent"], in: f.root)
        XCTAssertEqual(recent.lines, [
            "NAME   PHASE      CREATEDAT             DURATION",
            "e-mid  Succeeded  2026-01-02T09:00:00Z  1m00s",
            "e-new  Failed     2026-01-03T09:00:00Z  3s",
        ])
        // A hidden view is still usable by name; `?` matches one character.
        let hidden = try runHone(["get", "evals", "--group", "g", "--view", "names", "--format", "json"], in: f.root)
        XCTAssertEqual(hidden.items?.map { ($0["object"] as? [String: String])?["name"] }, ["e-old"])
        // The view picks the rows, not the keys: every item has the whole shape.
        XCTAssertEqual(hidden.items.map { Set($0[0].keys) }, Set(["object", "phase", "model", "dataset", "handler", "pool", "owner", "cost",
                                                                 "createdAt", "finishedAt", "durationSeconds", "attempt", "params", "metrics"]))
        let missing = try runHone(["get", "evals", "--group", "g", "--view", "nope"], in: f.root)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no view \"nope\" in groups/g/views; views: acc, recent"), missing.stderr)
        let noGroup = try runHone(["get", "evals", "--view", "acc"], in: f.root)
        XCTAssertNotEqual(noGroup.status, 0)
        XCTAssertTrue(noGroup.stderr.contains("--view names a view of a group"), noGroup.stderr)
    }

    func testDefaultViewIsAppliedUnlessHiddenOrNoView() throws {
        let f = try HoneRepoFixture.populated()
        try f.write("groups/g/views/acc.yaml", try f.read("groups/g/views/acc.yaml") + "default: true\n")
        let r = try runHone(["get", "evals", "--group", "g"], in: f.root)
        XCTAssertEqual(r.lines.count, 3, r.stdout)
        XCTAssertTrue(r.lines[0].hasPrefix("METRICS.ACCURACY  NAME"))
        XCTAssertTrue(r.stderr.contains("(view g/acc, the default)"), r.stderr)
        XCTAssertEqual(try runHone(["get", "evals", "--group", "g", "--no-view"], in: f.root).lines.count, 6)
        try f.write("groups/g/views/acc.yaml", try f.read("groups/g/views/acc.yaml") + "visible: false\n")
        XCTAssertEqual(try runHone(["get", "evals", "--group", "g"], in: f.root).lines.count, 6)
    }

    func testDescribeRunOverviewTasksAndEvents() throws {
        let f = try HoneRepoFixture.populated()
        let r = try runHone(["describe", "run", "g/r1"], in: f.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        for expected in ["Run g/r1", "ID:                 r1-1-abc", "Phase:              Succeeded", "Created:            2026-01-02T10:00:00Z",
                         "Finished:           2026-01-02T10:01:30Z", "Duration:           1m30s", "Owner:              alice", "Pool:               local",
                         "Model name:         r1", "Model version:      draft-1 (draft)", "Base model:         base, version v1",
                         "Train dataset:      d, version v1", "Validation dataset: d, version v1", "Handler:            python3 train.py",
                         "Params:             {\"lr\":0.1}"] {
            XCTAssertTrue(r.lines.contains(expected), "missing \(expected) in\n\(r.stdout)")
        }
        XCTAssertTrue(r.lines.contains { $0.hasPrefix("train  Succeeded  4242") }, r.stdout)
        XCTAssertTrue(r.lines.contains("2026-01-02T10:00:00Z  Normal  Launched   train submitted to local as 4242"), r.stdout)

        let json = try runHone(["describe", "run", "g/r1", "--format", "json"], in: f.root)
        let d = try XCTUnwrap(json.json as? [String: Any])
        XCTAssertEqual(d["id"] as? String, "r1-1-abc")
        XCTAssertEqual(d["durationSeconds"] as? Double, 90)
        XCTAssertEqual(d["baseModel"] as? [String: String], ["name": "base", "version": "v1"])
        XCTAssertEqual(d["apiVersion"] as? String, "hone/v1")
        XCTAssertEqual(d["object"] as? [String: String], ["group": "g", "name": "r1", "path": "groups/g/runs/r1.yaml"])
        XCTAssertEqual((d["model"] as? [String: Any])?["published"] as? Bool, false)
        XCTAssertEqual((d["tasks"] as? [[String: Any]])?.first?["exitCode"] as? Int, 0)
        XCTAssertEqual((d["events"] as? [[String: Any]])?.count, 2)
    }

    func testDescribeNeverRunAndEval() throws {
        let f = try HoneRepoFixture.populated()
        let r = try runHone(["describe", "run", "g/r2", "--format", "json"], in: f.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        let d = try XCTUnwrap(r.json as? [String: Any])
        XCTAssertEqual(d["phase"] as? String, "never run")
        XCTAssertTrue(d["id"] is NSNull)
        XCTAssertEqual(d["trainDataset"] as? [String: String], ["name": "d", "version": "v1"])
        XCTAssertEqual(d["handler"] as? String, "python3 train.py")
        let text = try runHone(["describe", "run", "g/r2"], in: f.root)
        XCTAssertTrue(text.lines.contains("Phase:              never run"), text.stdout)
        XCTAssertTrue(text.stdout.contains("(none: g/r2 has never run; `hone reconcile` launches it)"))

        let e = try runHone(["describe", "eval", "g/e-mid", "--format", "json"], in: f.root)
        let ed = try XCTUnwrap(e.json as? [String: Any])
        XCTAssertEqual(ed["model"] as? [String: String], ["name": "base", "version": "v1"])
        XCTAssertEqual(ed["autoRelease"] as? Int, 3600)
        XCTAssertEqual((ed["results"] as? [String: Any])?["rows"] as? Int, 10)
        XCTAssertEqual((ed["metrics"] as? [String: Double])?["accuracy"], 0.8)
        XCTAssertEqual((ed["debug"] as? [String: Bool])?["enabled"], false)

        let wrongKind = try runHone(["describe", "eval", "g/r1"], in: f.root)
        XCTAssertEqual(wrongKind.status, 1)
        XCTAssertTrue(wrongKind.stderr.contains("no eval \"r1\" in groups/g"), wrongKind.stderr)
        let typo = try runHone(["describe", "run", "g/r11"], in: f.root)
        XCTAssertEqual(typo.status, 1)
        XCTAssertTrue(typo.stderr.contains("did you mean g/r1"), typo.stderr)
    }

    func testEventsAndCommittedLogs() throws {
        let f = try HoneRepoFixture.populated()
        let ev = try runHone(["events", "g/e-new"], in: f.root)
        XCTAssertEqual(ev.status, 0, ev.stderr)
        XCTAssertEqual(ev.lines, [
            "TIME                  TYPE     REASON     MESSAGE",
            "2026-01-03T09:00:00Z  Normal   Scheduled  attempt 1 scheduled on pool local",
            "2026-01-03T09:00:00Z  Normal   Launched   evaluate submitted to local as 4242",
            "2026-01-03T09:00:03Z  Warning  Failed     evaluate exited 3",
        ])
        let logs = try runHone(["logs", "g/r1"], in: f.root)
        XCTAssertEqual(logs.status, 0, logs.stderr)
        XCTAssertEqual(logs.stdout, "step 1 loss 2.0\nstep 2 loss 1.0\n")
        let task = try runHone(["logs", "g/r1", "--task", "eval"], in: f.root)
        XCTAssertEqual(task.status, 1)
        XCTAssertTrue(task.stderr.contains("g/r1 has no task \"eval\": its tasks are train"), task.stderr)
        let never = try runHone(["logs", "g/r2"], in: f.root)
        XCTAssertEqual(never.status, 1)
        XCTAssertTrue(never.stderr.contains("g/r2 has never run"), never.stderr)
        let notCommitted = try runHone(["logs", "evaluations/ev1"], in: f.root)
        XCTAssertEqual(notCommitted.status, 1)
        XCTAssertTrue(notCommitted.stderr.contains("evaluations/ev1 is Running and its job folder is not on this machine"), notCommitted.stderr)
    }

    func testAmbiguousNameNeedsKind() throws {
        let f = try HoneRepoFixture.populated()
        try f.eval(ObjectKey(scope: .group("g"), kind: .eval, name: "r1"))
        let r = try runHone(["events", "g/r1"], in: f.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("g/r1 is both a run and an eval: say which with g/runs/r1 or g/evals/r1"), r.stderr)
        XCTAssertEqual(try runHone(["events", "g/runs/r1"], in: f.root).lines.count, 3)
    }

    func testInvalidFileIsReportedAndExitsOne() throws {
        let f = try HoneRepoFixture.populated()
        try f.write("groups/g/runs/bad.yaml", "kind: Run\nbaseModel: nope@v1\n")
        let r = try runHone(["get", "runs"], in: f.root)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.lines.count, 4, "the valid runs are still listed")
        XCTAssertTrue(r.stderr.contains("invalid objects are not shown (run `hone validate`)"), r.stderr)
    }

    /// A real local job: `hone logs --follow` prints the live log until the job ends.
    func testFollowTailsTheLiveLogUntilTheJobEnds() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("slow.sh", "echo first line\nsleep 2\necho last line\nexit 3\n")
        try f.write("groups/g/runs/slow.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: bash slow.sh\n")
        let env = HoneRepoFixture.gitIdentity
        try f.commitAll()
        let rec = try runHone(["reconcile"], in: f.root, environment: env)
        XCTAssertEqual(rec.status, 0, rec.stderr)
        let follow = try runHone(["logs", "g/slow", "--follow"], in: f.root)
        XCTAssertEqual(follow.status, 0, follow.stderr)
        XCTAssertTrue(follow.lines.contains("first line") && follow.lines.contains("last line"), follow.stdout)
        XCTAssertTrue(follow.stderr.contains("ended with exit code 3"), follow.stderr)
    }

    /// `hone logs --follow` reads the live log as the reconciler does: a handler that replaced its log with
    /// a link to /proc/self/environ does not get `hone logs` to print its own environment.
    func testFollowDoesNotFollowALinkInPlaceOfTheLog() throws {
        let f = try HoneRepoFixture()
        try f.group("g", "Group G")
        try f.write("link.sh", "ln -sf /proc/self/environ ../task.log\ntouch ../linked\nsleep 2\nexit 0\n")
        try f.write("groups/g/runs/link.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: bash link.sh\n")
        let env = HoneRepoFixture.gitIdentity
        try f.commitAll()
        let rec = try runHone(["reconcile"], in: f.root, environment: env)
        XCTAssertEqual(rec.status, 0, rec.stderr)
        // Wait (with a deadline) until the handler has put its link in place.
        let jobs = f.root.appendingPathComponent(".hone/jobs")
        let deadline = Date().addingTimeInterval(30)
        func linked() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: jobs.path)) ?? []).contains {
                FileManager.default.fileExists(atPath: jobs.appendingPathComponent($0).appendingPathComponent("linked").path)
            }
        }
        while !linked() && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(linked(), "the handler never ran")
        let canary = "canary-\(UUID().uuidString)"
        let follow = try runHone(["logs", "g/link", "--follow"], in: f.root,
                                 environment: ["HONE_TEST_CANARY": canary])
        XCTAssertEqual(follow.status, 0, follow.stderr)
        XCTAssertFalse(follow.stdout.contains(canary), "hone logs --follow printed its own environment")
        XCTAssertTrue(follow.stderr.contains("ended with exit code 0"), follow.stderr)
    }
}
