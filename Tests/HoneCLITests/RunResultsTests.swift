import Foundation
import XCTest
import HoneLoading
import HoneModel
import YAML

/// Params next to results (dvc exp show / params diff / metrics diff): `get runs` columns and run views,
/// `hone diff`, and what `hone history` says changed. Every check runs the built `hone`.
final class RunResultsTests: XCTestCase {
    func hone(_ repo: AnalysisRepo, _ args: String...) throws -> (status: Int32, out: String, err: String) {
        XCTAssertTrue(FileManager.default.fileExists(atPath: Exec.hone), "build the hone binary first (swift build --build-tests)")
        return try Exec.run(Exec.hone, args + ["-C", repo.path], in: FileManager.default.temporaryDirectory)
    }

    /// AnalysisRepo's runs given params (nested too) and summary metrics.
    func fixture() throws -> AnalysisRepo {
        let repo = try AnalysisRepo()
        runSpec(repo, "train-a", lr: "0.1", r: 8)
        runSpec(repo, "train-b", lr: "0.01", r: 16)
        runStatus(repo, "train-a", attempt: 1, phase: .succeeded, params: ["lr": .double(0.1), "lora": .object(["r": .int(8)])],
                  metrics: ["val_loss": .double(0.9), "train_loss": .double(0.5)])
        runStatus(repo, "train-b", attempt: 1, phase: .succeeded, params: ["lr": .double(0.01), "lora": .object(["r": .int(16)])],
                  metrics: ["val_loss": .double(1.2), "train_loss": .double(0.4)])
        try repo.commit("runs with params")
        return repo
    }

    func runSpec(_ repo: AnalysisRepo, _ name: String, lr: String, r: Int) {
        repo.write("groups/g/runs/\(name).yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: train@v1\nhandler: python3 train.py\nparams:\n  lr: \(lr)\n  lora: {r: \(r)}\n")
    }

    func runStatus(_ repo: AnalysisRepo, _ name: String, attempt: Int, phase: Phase, params: [String: JSONValue], metrics: [String: JSONValue]) {
        let key = ObjectKey(scope: .group("g"), kind: .run, name: name)
        var s = ObjectStatus(key: key, id: "\(name)-\(attempt)-0123456789", phase: phase, pool: "local", handler: "python3 train.py",
                             attempt: attempt, specDigest: String(repeating: "\(attempt)", count: 64))
        s.createdAt = "2026-01-0\(attempt)T1\(name.last == "a" ? 1 : 2):00:00Z"
        s.finishedAt = phase.isFinal ? "2026-01-0\(attempt)T13:00:00Z" : nil
        s.run?.baseModel = "base@v1"; s.run?.trainDataset = "train@v1"
        s.params = params
        s.metrics = metrics
        repo.write(key.statusPath, try! YAMLEmitter.emit(StatusCodec.encode(s)))
    }

    func testGetRunsShowsParamsAndMetricsAsColumnsAndRunViews() throws {
        let repo = try fixture()
        let t = try hone(repo, "get", "runs", "--group", "g")
        XCTAssertEqual(t.status, 0, t.err)
        let lines = t.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0].split(separator: " ").map(String.init),
                       ["NAME", "GROUP", "PHASE", "AGE", "DURATION", "PARAMS.LORA.R", "PARAMS.LR", "METRICS.TRAIN_LOSS", "METRICS.VAL_LOSS"])
        XCTAssertEqual(lines[1].split(separator: " ").first, "train-b", "newest first")
        XCTAssertTrue(lines[1].hasSuffix("16             0.01       0.4                 1.2"), lines[1])

        // A view of the group's runs: filter and sort on params and metrics.
        repo.write("groups/g/views/good-runs.yaml", """
        kind: View
        for: runs
        columns: [name, params.lr, metrics.val_loss]
        filter: {metrics.val_loss: "<1.0"}
        sort: {by: params.lr, order: asc}

        """)
        let v = try hone(repo, "get", "runs", "--group", "g", "--view", "good-runs")
        XCTAssertEqual(v.status, 0, v.err)
        XCTAssertEqual(v.out, "NAME     PARAMS.LR  METRICS.VAL_LOSS\ntrain-a  0.1        0.9\n")
        XCTAssertTrue(v.err.contains("(view g/good-runs)"), v.err)
        // The view picks rows and columns of the table; the JSON items keep their whole shape.
        let j = try hone(repo, "get", "runs", "--group", "g", "--view", "good-runs", "-o", "json")
        let doc = try AnalysisTests.json(j.out)
        XCTAssertEqual(doc["apiVersion"], "hone/v1")
        XCTAssertEqual(doc["kind"], "RunList")
        let items = try XCTUnwrap(doc["items"]?.arrayValue)
        XCTAssertEqual(items.count, 1)
        XCTAssertEqual(items[0]["object"], JSONValue.object(["group": "g", "name": "train-a", "path": "groups/g/runs/train-a.yaml"]))
        XCTAssertEqual(items[0]["params"], JSONValue.object(["lr": .double(0.1), "lora": .object(["r": .int(8)])]))
        XCTAssertEqual(items[0]["metrics"]?["val_loss"], JSONValue.double(0.9))
        XCTAssertEqual(items[0]["baseModel"]?["name"], "base")
        XCTAssertEqual(items[0]["baseModel"]?["draft"], JSONValue.bool(false))
        XCTAssertNotNil(items[0]["phase"])

        // A default run view applies to `get runs`, not to `get evals`; an eval view is refused for runs.
        repo.write("groups/g/views/good-runs.yaml", try XCTUnwrap(repo.read("groups/g/views/good-runs.yaml")) + "default: true\n")
        XCTAssertEqual(try hone(repo, "get", "runs", "--group", "g").out, v.out)
        XCTAssertTrue(try hone(repo, "get", "evals", "--group", "g").out.hasPrefix("NAME"), "evals keep their own listing")
        repo.write("groups/g/views/acc.yaml", "kind: View\ncolumns: [name, metrics.accuracy]\n")
        let wrong = try hone(repo, "get", "runs", "--group", "g", "--view", "acc")
        XCTAssertEqual(wrong.status, 1)
        XCTAssertTrue(wrong.err.contains("view g/acc lists evals (for: evals): use `hone get evals --view acc`"), wrong.err)

        // A run column in an eval view, and `for: runs` in the evaluation module, are errors with their place.
        repo.write("groups/g/views/bad.yaml", "kind: View\ncolumns: [name, params.lr]\n")
        repo.write("evaluations/views/runs.yaml", "kind: View\nfor: runs\n")
        let bad = try hone(repo, "validate")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.out.contains("groups/g/views/bad.yaml:2:17: error: unknown column \"params.lr\""), bad.out)
        XCTAssertTrue(bad.out.contains("evaluations/views/runs.yaml:2:6: error: the evaluation module has no runs"), bad.out)
    }

    func testDiffShowsParamsAndMetricsSideBySideWithDeltas() throws {
        let repo = try fixture()
        let d = try hone(repo, "diff", "g/train-a", "g/train-b")
        XCTAssertEqual(d.status, 0, d.err)
        XCTAssertEqual(d.out, """
                            g/train-a  g/train-b  delta
        params.lora.r       8          16         +8 (+100%)
        params.lr           0.1        0.01       -0.09 (-90.0%)
        metrics.train_loss  0.5        0.4        -0.1 (-20.0%)
        metrics.val_loss    0.9        1.2        +0.3 (+33.3%)
        (3 inputs and params equal in both: --all shows them)

        """)
        let all = try hone(repo, "diff", "g/train-a", "g/train-b", "--all")
        XCTAssertTrue(all.out.contains("baseModel           base@v1           base@v1\n"), all.out)

        let j = try hone(repo, "diff", "g/train-a", "g/train-b", "-o", "json")
        let doc = try AnalysisTests.json(j.out)
        XCTAssertEqual(doc["apiVersion"], "hone/v1")
        XCTAssertEqual(doc["kind"], "Diff")
        XCTAssertEqual(doc["a"], JSONValue.object(["group": "g", "name": "train-a", "path": "groups/g/runs/train-a.yaml"]))
        let metrics = try XCTUnwrap(doc["metrics"]?.arrayValue)
        XCTAssertEqual(metrics.map { $0["name"] }, ["train_loss", "val_loss"])
        XCTAssertEqual(metrics[1]["delta"], JSONValue.double(0.3))
        XCTAssertEqual(doc["params"]?.arrayValue?.map { $0["name"] }, ["lora.r", "lr"])
        XCTAssertEqual(doc["inputs"]?.arrayValue?.count, 0, "equal inputs are left out without --all")

        let md = try hone(repo, "diff", "g/train-a", "g/train-b", "-o", "markdown")
        XCTAssertTrue(md.out.contains("| metrics.val_loss | 0.9 | 1.2 | +0.3 (+33.3%) |"), md.out)

        let mixed = try hone(repo, "diff", "g/train-a", "g/a")
        XCTAssertEqual(mixed.status, 1)
        XCTAssertTrue(mixed.err.contains("no run \"a\" in groups/g"), mixed.err)
        let twice = try hone(repo, "diff", "g/train-a", "g/train-a")
        XCTAssertEqual(twice.status, 1)
        XCTAssertTrue(twice.err.contains("g/train-a is named twice"), twice.err)
    }

    func testHistorySaysWhatChangedAndHidesIntermediateCommits() throws {
        let repo = try fixture()
        runSpec(repo, "train-a", lr: "0.05", r: 8)
        runStatus(repo, "train-a", attempt: 2, phase: .running, params: ["lr": .double(0.05), "lora": .object(["r": .int(8)])], metrics: [:])
        try repo.commit("attempt 2 running")
        runStatus(repo, "train-a", attempt: 2, phase: .succeeded, params: ["lr": .double(0.05), "lora": .object(["r": .int(8)])],
                  metrics: ["val_loss": .double(0.7), "train_loss": .double(0.45)])
        try repo.commit("attempt 2 done")

        let h = try hone(repo, "history", "g/train-a")
        XCTAssertEqual(h.status, 0, h.err)
        let lines = h.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, h.out)  // header, attempt 2, attempt 1 (the fixture's), the first commit, the note
        XCTAssertTrue(lines[0].hasSuffix("CHANGED"), lines[0])
        XCTAssertTrue(lines[1].contains("Succeeded") && lines[1].hasSuffix("params.lr 0.1→0.05"), lines[1])
        XCTAssertEqual(lines.last, "(1 intermediate commit (Pending, Running) not shown: --all shows them)")

        let all = try AnalysisTests.json(try hone(repo, "history", "g/train-a", "--all", "-o", "json").out)
        let entries = try XCTUnwrap(all["entries"]?.arrayValue)
        XCTAssertEqual(entries.map { $0["phase"] }, ["Succeeded", "Running", "Succeeded", "Succeeded"])
        XCTAssertEqual(entries[1]["changes"], JSONValue.array([.object(["field": "params.lr", "from": .double(0.1), "to": .double(0.05)])]))
        XCTAssertEqual(entries[0]["changes"], JSONValue.array([]), "nothing it was given changed since the Running row")
    }
}
