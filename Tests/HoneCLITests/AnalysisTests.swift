import Foundation
import XCTest
import HoneTestSupport
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import HoneCLI
import HoneEngine
import HoneLoading
import HoneQueries
import HoneModel
import YAML

/// A small hone repository with recorded eval statuses and results, built file by file (statuses through
/// StatusCodec + YAMLEmitter, exactly as reconcile writes them) and committed with the git CLI.
final class AnalysisRepo {
    let root: URL
    var path: String { root.path }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hone-analysis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let sha = String(repeating: "ab", count: 32), sha2 = String(repeating: "cd", count: 32)
        write("hone.yaml", "kind: Project\nname: analysis\npools:\n  local:\n    executor: local\n")
        write("train.py", "print('train')\n")  // the scripts the handlers name
        write("eval.py", "print('eval')\n")
        write("models/base/v1.yaml", "kind: ModelVersion\nuri: data/base.bin\nsha256: \(sha)\n")
        write("models/bot/v1.yaml", "kind: ModelVersion\nuri: store://sha256/\(sha2)/model.npz\nsha256: \(sha2)\npublishedFrom: g/train-a\n")
        write("datasets/test/v1.yaml", "kind: DatasetVersion\nuri: data/test.jsonl\nsha256: \(sha)\n")
        write("datasets/train/v1.yaml", "kind: DatasetVersion\nuri: data/train.txt\nsha256: \(sha)\n")
        write("groups/g/group.yaml", "kind: Group\ndescription: analysis fixtures\n")
        for r in ["train-a", "train-b"] {
            write("groups/g/runs/\(r).yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: train@v1\nhandler: python3 train.py\n")
        }
        for e in ["a", "b", "c"] {
            write("groups/g/evals/\(e).yaml", "# eval \(e)\nkind: Eval\nmodel: base@v1\nhandler: python3 eval.py\ndataset: test@v1\nparams: {k: \(e == "b" ? 2 : 1)}\n")
        }
        write("groups/g/evals/pub.yaml", "kind: Eval\nfromRun: train-a      # the run's model\nhandler: python3 eval.py\ndataset: test@v1\nbaseline: a\ngates:\n  metrics.accuracy: \">= baseline - 0.1\"\n  metrics.loss: \"<= 2\"\n")
        write("groups/g/evals/draft.yaml", "kind: Eval\nfromRun: train-b\nhandler: python3 eval.py\ndataset: test@v1\n")
        runStatus("train-a", published: "bot@v1", sha: sha2, curve: [[("step", .int(0)), ("loss", .double(3.0)), ("val_loss", .double(3.2))],
                                                                  [("step", .int(10)), ("loss", .double(1.5)), ("val_loss", .double(1.9))],
                                                                  [("step", .int(20)), ("loss", .double(0.5)), ("val_loss", .double(0.9))]])
        runStatus("train-b", published: nil, sha: sha, curve: [])
        evalStatus("a", metrics: ["accuracy": .double(0.5), "loss": .double(2.0), "samples": .int(3)],
                   rows: [row("s1", correct: false, score: 0.2), row("s2", correct: true, score: 0.9), row("s3", correct: false, score: 0.4)])
        evalStatus("b", metrics: ["accuracy": .double(0.75), "loss": .double(1.0), "samples": .int(3)],
                   rows: [row("s1", correct: true, score: 0.8), row("s2", correct: true, score: 0.9), row("s4", correct: true, score: 0.7)])
        evalStatus("c", phase: .running, metrics: [:], rows: nil)
        evalStatus("pub", metrics: ["accuracy": .double(0.7), "loss": .double(1.2)], rows: [row("s1", correct: true, score: 0.7)],
                   inputs: ["runs/g/train-a": sha2])
        evalStatus("draft", metrics: ["accuracy": .double(0.6)], rows: [row("s1", correct: true, score: 0.6)])
        try git("init", "-q", "-b", "main")
        try commit("fixture")
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func write(_ rel: String, _ text: String) {
        let url = root.appendingPathComponent(rel)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: url)
    }

    func read(_ rel: String) -> String? { try? String(contentsOf: root.appendingPathComponent(rel), encoding: .utf8) }

    func row(_ id: String, correct: Bool, score: Double) -> [(String, JSONValue)] {
        [("id", .string(id)), ("text", .string("sample \(id)")), ("correct", .bool(correct)), ("score", .double(score))]
    }

    static func jsonLine(_ pairs: [(String, JSONValue)]) -> String {
        JSONValue.object(Dictionary(uniqueKeysWithValues: pairs)).canonicalJSON
    }

    func evalStatus(_ name: String, phase: Phase = .succeeded, attempt: Int = 1, metrics: [String: JSONValue],
                    rows: [[(String, JSONValue)]]?, inputs: [String: String] = [:]) {
        let key = ObjectKey(scope: .group("g"), kind: .eval, name: name)
        var s = ObjectStatus(key: key, id: "\(name)-\(attempt)-0123456789", phase: phase, pool: "local", handler: "python3 eval.py",
                             attempt: attempt, specDigest: String(repeating: "0", count: 64))
        s.createdAt = "2026-01-0\(attempt)T10:00:00Z"
        s.finishedAt = phase.isFinal ? "2026-01-0\(attempt)T10:05:00Z" : nil
        s.eval?.model = "base@v1"
        s.eval?.dataset = "test@v1"
        s.metrics = metrics
        s.inputs = inputs
        s.tasks = [TaskStatus(name: "evaluate", phase: phase, exitCode: phase.isFinal ? 0 : nil, log: key.statusFolder + "evaluate.log")]
        if let rows {
            s.eval?.resultsPath = key.statusFolder + "results.jsonl"
            s.eval?.resultsRows = rows.count
            write(key.statusFolder + "results.jsonl", rows.map { AnalysisRepo.jsonLine($0) + "\n" }.joined())
        }
        write(key.statusFolder + "evaluate.log", "evaluating \(name) attempt \(attempt)\n")
        write(key.statusPath, try! YAMLEmitter.emit(StatusCodec.encode(s)))
    }

    func runStatus(_ name: String, published: String?, sha: String, curve: [[(String, JSONValue)]]) {
        let key = ObjectKey(scope: .group("g"), kind: .run, name: name)
        var s = ObjectStatus(key: key, id: "\(name)-1-0123456789", phase: .succeeded, pool: "local", handler: "python3 train.py",
                             attempt: 1, specDigest: String(repeating: "0", count: 64))
        s.run?.model = ModelOutput(name: published.flatMap { VersionRef.parse($0)?.name } ?? name,
                              version: published.flatMap { VersionRef.parse($0)?.version } ?? "draft-1",
                              uri: "store://sha256/\(sha)/model.npz", sha256: sha, published: published != nil)
        s.run?.publishedAs = published
        s.metrics = ["train_loss": .double(0.5)]
        if !curve.isEmpty { write(key.statusFolder + "metrics.jsonl", curve.map { AnalysisRepo.jsonLine($0) + "\n" }.joined()) }
        write(key.statusPath, try! YAMLEmitter.emit(StatusCodec.encode(s)))
    }

    static let gitEnvironment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        env["GIT_AUTHOR_NAME"] = "Ana Lyst"
        env["GIT_AUTHOR_EMAIL"] = "ana@example.com"
        env["GIT_COMMITTER_NAME"] = "Ana Lyst"
        env["GIT_COMMITTER_EMAIL"] = "ana@example.com"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        return env
    }()

    @discardableResult
    func git(_ args: String...) throws -> String {
        let r = try Exec.run("/usr/bin/git", args, in: root, env: AnalysisRepo.gitEnvironment)
        XCTAssertEqual(r.status, 0, "git \(args.joined(separator: " ")): \(r.err)")
        return r.out
    }

    func commit(_ message: String) throws {
        try git("add", "-A")
        try git("commit", "-q", "--allow-empty", "-m", message)
    }
}

enum Exec {
    /// Runs a program, its output captured in files (no pipe can fill up and block it).
    static func run(_ exe: String, _ args: [String], in dir: URL, env: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("hone-exec-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: tmp.path + ".out", contents: nil)
        FileManager.default.createFile(atPath: tmp.path + ".err", contents: nil)
        defer { try? FileManager.default.removeItem(atPath: tmp.path + ".out"); try? FileManager.default.removeItem(atPath: tmp.path + ".err") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = dir
        if let env { p.environment = env }
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp.path + ".out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp.path + ".err"))
        try p.run()
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: tmp.path + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: tmp.path + ".err", encoding: .utf8)) ?? ""
        return (p.terminationStatus, out, err)
    }

    static var hone: String { HoneBinary.url.path }
}

final class AnalysisTests: XCTestCase {
    func hone(_ repo: AnalysisRepo, _ args: String...) throws -> (status: Int32, out: String, err: String) {
        XCTAssertTrue(FileManager.default.fileExists(atPath: Exec.hone), "build the hone binary first (swift build --build-tests)")
        return try Exec.run(Exec.hone, args + ["-C", repo.path], in: FileManager.default.temporaryDirectory)
    }

    /// Every `<svg>…</svg>` in `text` parses as XML; returns how many there are.
    func assertWellFormedSVGs(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Int {
        var count = 0
        var rest = Substring(text)
        while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            let svg = String(rest[start.lowerBound..<end.upperBound])
            let parser = XMLParser(data: Data(svg.utf8))
            XCTAssertTrue(parser.parse(), "SVG is not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?"): \(svg.prefix(200))", file: file, line: line)
            count += 1
            rest = rest[end.upperBound...]
        }
        return count
    }

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Data(text.utf8)) }

    // MARK: pure logic

    func testDirectionRuleFollowsTheMetricName() {
        for m in ["loss", "val_loss", "Perplexity", "ppl", "error_rate", "latency_ms", "cost_usd"] { XCTAssertEqual(MetricDirection.of(m), .lower, m) }
        for m in ["accuracy", "f1", "score", "correct_rate", "bleu"] { XCTAssertEqual(MetricDirection.of(m), .higher, m) }
    }

    func testSummaryDeltasBestMarksAndBaselineFirst() {
        let key = { (n: String) in ObjectKey(scope: .group("g"), kind: .eval, name: n) }
        func eval(_ n: String, _ m: [String: JSONValue]) -> RecordedEval {
            var s = ObjectStatus(key: key(n), id: n, phase: .succeeded, pool: "local", handler: "h", attempt: 1, specDigest: "d")
            s.metrics = m
            return RecordedEval(key: key(n), status: s)
        }
        let evals = [eval("x", ["accuracy": .double(0.5), "loss": .double(2.0), "n": .int(3)]),
                     eval("y", ["accuracy": .double(0.8), "loss": .double(1.0), "n": .int(3)]),
                     eval("z", ["accuracy": .double(0.4), "loss": .double(4.0), "n": .int(3), "label": .string("v2")])]
        let c = EvalComparison(evals: evals, baseline: 1)
        XCTAssertEqual(c.evals.map(\.key.name), ["y", "x", "z"], "the baseline is pinned first, the others keep their order")
        let acc = c.metrics.first { $0.name == "accuracy" }!
        XCTAssertNil(acc.cells[0].delta)
        XCTAssertEqual(acc.cells[1].delta, -0.3)
        XCTAssertEqual(acc.cells[1].deltaPercent!, -37.5, accuracy: 1e-9)
        XCTAssertEqual(acc.cells[2].delta, -0.4)
        XCTAssertEqual(c.best("accuracy"), ["g/y"])
        XCTAssertEqual(c.best("loss"), ["g/y"], "lower is better for loss")
        let loss = c.metrics.first { $0.name == "loss" }!
        XCTAssertEqual(loss.cells[2].deltaPercent!, 300, accuracy: 1e-9)
        XCTAssertEqual(c.best("n"), [], "no best when all values are equal")
        let label = c.metrics.first { $0.name == "label" }!
        XCTAssertEqual(label.cells.map(\.value), [nil, nil, .string("v2")])
        XCTAssertNil(label.cells[2].delta)
        XCTAssertEqual(EvalComparison.leader(of: evals), 1)
    }

    func testRowJoinFlagsDisagreementsAndMissingIDs() {
        let a: [[String: JSONValue]] = [["id": "1", "correct": true, "score": 0.5, "text": "t1"], ["id": "2", "correct": false, "score": 0.1, "text": "t2"],
                                        ["correct": true]]
        let b: [[String: JSONValue]] = [["id": "1", "correct": true, "score": 0.7, "text": "t1"], ["id": "2", "correct": true, "score": 0.9, "text": "t2"],
                                        ["id": "3", "correct": true, "score": 1, "text": "t3"]]
        let r = RowComparison.join([("a", a), ("b", b)])
        XCTAssertEqual(r.columns, ["correct", "score", "text"])
        XCTAssertEqual(r.compared, ["correct"], "`correct` decides by default")
        XCTAssertEqual(r.rows.map(\.id), ["1", "2", "3"])
        XCTAssertEqual(r.rows.map(\.differs), [false, true, true])
        XCTAssertEqual(r.rows[2].missingIn, ["a"])
        XCTAssertEqual(r.differing, 2)
        XCTAssertEqual(r.withoutID, ["a": 1])
        XCTAssertEqual(r.shared, ["text"], "text is the same in every eval: shown once")
        let chosen = RowComparison.join([("a", a), ("b", b)], columns: ["text", "score"], pinned: ["score"], onlyDiff: true)
        XCTAssertEqual(chosen.columns, ["score", "text"], "pinned columns first")
        XCTAssertEqual(chosen.compared, ["text", "score"])
        XCTAssertEqual(chosen.rows.map(\.id), ["1", "2", "3"], "score differs on every row")
        let ints = RowComparison.join([("a", [["id": 7, "v": 1]]), ("b", [["id": 7, "v": 1.0]])])
        XCTAssertEqual(ints.rows.first?.id, "7")
        XCTAssertFalse(ints.rows[0].differs, "1 and 1.0 are the same number")
    }

    func testSVGChartsAreWellFormedAndEscaped() {
        let bars = SVGChart.bars(title: "a<b & \"c\"", labels: ["x&y", "z"], values: [1.5, nil], highlight: [0], baseline: 0)
        XCTAssertEqual(assertWellFormedSVGs(bars), 1)
        XCTAssertTrue(bars.contains("a&lt;b &amp; &quot;c&quot;"))
        XCTAssertTrue(bars.contains("no value"))
        let lines = SVGChart.lines(title: "loss", series: [("r1", [(0, 3), (10, 1)]), ("r2", [(0, 2)])])
        XCTAssertEqual(assertWellFormedSVGs(lines), 1)
        XCTAssertTrue(lines.contains("<polyline"))
        XCTAssertEqual(assertWellFormedSVGs(SVGChart.lines(title: "empty", series: [])), 1)
        XCTAssertEqual(assertWellFormedSVGs(SVGChart.sparkline([1, 3, 2])), 1)
        XCTAssertEqual(SVGChart.textSparkline([0, 7, 3.5]), "▁█▅")
    }

    // MARK: compare

    func testCompareJSONHasDeltasBestMarksAndNotes() throws {
        let repo = try AnalysisRepo()
        let r = try hone(repo, "compare", "g/a", "g/b", "groups/g/evals/c.yaml", "--baseline", "g/b", "--format", "json")
        XCTAssertEqual(r.status, 0, r.err)
        let j = try AnalysisTests.json(r.out)
        func ref(_ n: String) -> JSONValue { .object(["group": "g", "name": .string(n), "path": .string("groups/g/evals/\(n).yaml")]) }
        XCTAssertEqual(j["apiVersion"], "hone/v1")
        XCTAssertEqual(j["kind"], "Comparison")
        XCTAssertEqual(j["baseline"], ref("b"))
        XCTAssertEqual(j["evals"]?.arrayValue?.compactMap { $0["object"] }, [ref("b"), ref("a"), ref("c")])
        XCTAssertEqual(j["evals"]?.arrayValue?[0]["model"], .object(["name": "base", "version": "v1", "draft": .bool(false),
                                                                    "digest": .string(String(repeating: "ab", count: 32)), "uri": "data/base.bin"]))
        XCTAssertEqual(j["evals"]?.arrayValue?[2]["note"]?.stringValue, "no results yet: attempt 1 is Running")
        XCTAssertNil(j["evals"]?.arrayValue?[2]["resultsRows"])
        let metrics = j["metrics"]?.arrayValue ?? []
        XCTAssertEqual(metrics.compactMap { $0["name"]?.stringValue }, ["accuracy", "loss", "samples"])
        let acc = metrics[0]
        XCTAssertEqual(acc["better"], "higher")
        XCTAssertEqual(acc["kind"], "metric")
        XCTAssertEqual(acc["best"], .array([ref("b")]))
        let values = acc["values"]?.arrayValue ?? []
        XCTAssertEqual(values.map { $0["eval"] }, [ref("b"), ref("a"), ref("c")], "values in the evals' order")
        XCTAssertEqual(values[1]["delta"]?.doubleValue, -0.25)
        XCTAssertEqual(values[1]["deltaPercent"]?.doubleValue ?? 0, -100.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(values[0]["best"], .bool(true))
        XCTAssertNil(values[2]["value"])
        XCTAssertEqual(metrics[1]["better"], "lower")
        XCTAssertEqual(metrics[1]["best"], .array([ref("b")]))
        XCTAssertEqual(metrics[2]["kind"], "count", "samples is a count: never ranked")
        XCTAssertEqual(metrics[2]["best"], .array([]))
        XCTAssertNil(j["rows"])

        let table = try hone(repo, "compare", "g/a", "g/b", "g/c")
        XCTAssertEqual(table.status, 0, table.err)
        XCTAssertTrue(table.out.contains("baseline: g/a (pinned)"))
        XCTAssertTrue(table.out.contains("0.75 * (+0.25, +50.0%)"), table.out)
        XCTAssertTrue(table.out.contains("g/c: no results yet: attempt 1 is Running"), table.out)
    }

    func testCompareRowsSplitStackedColumnsAndOnlyDiff() throws {
        let repo = try AnalysisRepo()
        let split = try hone(repo, "compare", "g/a", "g/b", "--rows", "--only-diff")
        XCTAssertEqual(split.status, 0, split.err)
        XCTAssertTrue(split.out.contains("4 ids, 3 differ (compared on: correct)"), split.out)
        let lines = split.out.components(separatedBy: "\n")
        let header = try XCTUnwrap(lines.first { $0.hasPrefix("ID ") })
        XCTAssertEqual(header.split(separator: " ").map(String.init), ["ID", "text", "a:correct", "a:score", "b:correct", "b:score", "DIFF"],
                       "text is equal in every eval: one column")
        XCTAssertTrue(lines.contains { $0.hasPrefix("s1 ") && $0.hasSuffix("≠ correct") })
        XCTAssertFalse(lines.contains { $0.hasPrefix("s2 ") }, "s2 agrees: --only-diff drops it")
        XCTAssertTrue(lines.contains { $0.hasPrefix("s3 ") && $0.contains("missing in b") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("s4 ") && $0.contains("missing in a") })

        let stacked = try hone(repo, "compare", "g/a", "g/b", "--rows", "--layout", "stacked", "--columns", "score,correct", "--pin", "correct")
        XCTAssertEqual(stacked.status, 0, stacked.err)
        let sl = stacked.out.components(separatedBy: "\n")
        XCTAssertEqual(sl.first { $0.hasPrefix("ID ") }?.split(separator: " ").map(String.init), ["ID", "EVAL", "correct", "score", "DIFF"])
        let s1 = try XCTUnwrap(sl.firstIndex { $0.hasPrefix("s1 ") })
        XCTAssertTrue(sl[s1].contains("g/a") && sl[s1].hasSuffix("≠ score; correct"), sl[s1])
        XCTAssertTrue(sl[s1 + 1].trimmingCharacters(in: .whitespaces).hasPrefix("g/b"))
        let s2 = try XCTUnwrap(sl.first { $0.hasPrefix("s2 ") })
        XCTAssertFalse(s2.contains("≠"), "s2 has the same score and correct in both")

        let j = try AnalysisTests.json(try hone(repo, "compare", "g/a", "g/b", "--rows", "--only-diff", "--format", "json").out)
        let rows = try XCTUnwrap(j["rows"])
        XCTAssertEqual(rows["total"], .int(4))
        XCTAssertEqual(rows["differing"], .int(3))
        XCTAssertEqual(rows["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue }, ["s1", "s3", "s4"])
        XCTAssertEqual(rows["items"]?.arrayValue?[0]["values"]?.arrayValue?[1]["row"]?["correct"], .bool(true))
        XCTAssertEqual(rows["items"]?.arrayValue?[1]["values"]?.arrayValue?[1]["eval"]?["name"], "b")
        XCTAssertNil(rows["items"]?.arrayValue?[1]["values"]?.arrayValue?[1]["row"], "s3 is missing in b")

        let withRunning = try hone(repo, "compare", "g/a", "g/c", "--rows")
        XCTAssertTrue(withRunning.out.contains("left out: g/c: no results yet: attempt 1 is Running"), withRunning.out)
        XCTAssertTrue(withRunning.out.contains("fewer than two evals have per-sample results"), withRunning.out)
    }

    func testCompareMarkdownAndHTML() throws {
        let repo = try AnalysisRepo()
        let md = try hone(repo, "compare", "g/a", "g/b", "--rows", "--format", "markdown")
        XCTAssertEqual(md.status, 0, md.err)
        XCTAssertTrue(md.out.contains("| accuracy | ↑ higher | 0.5 | **0.75** 🏆 (+0.25, +50.0%) |"), md.out)
        XCTAssertTrue(md.out.contains("```mermaid\nxychart-beta\n    title \"accuracy (higher is better)\"\n    x-axis [\"a\", \"b\"]\n    bar [0.5, 0.75]\n```"), md.out)
        XCTAssertTrue(md.out.contains("<details><summary>Per-sample results: 3 of 4 ids differ</summary>"))

        let html = try hone(repo, "compare", "g/a", "g/b", "g/c", "--rows", "--layout", "stacked", "--format", "html")
        XCTAssertEqual(html.status, 0, html.err)
        XCTAssertTrue(html.out.hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(assertWellFormedSVGs(html.out), 2, "one bar chart per quality metric: samples is a count, shown but not charted")
        XCTAssertTrue(html.out.contains("<td class=\"name\">samples</td><td><span class=\"muted\">count</span></td>"), html.out)
        XCTAssertTrue(html.out.contains("class=\"num best\""))
        XCTAssertTrue(html.out.contains("no results yet: attempt 1 is Running"))
        XCTAssertFalse(html.out.contains("<script"))
        XCTAssertFalse(html.out.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"), "nothing fetched from the network")
    }

    func testCompareErrors() throws {
        let repo = try AnalysisRepo()
        let unknown = try hone(repo, "compare", "g/a", "g/bb")
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.err.contains("no eval \"bb\" in groups/g (did you mean g/b?)"), unknown.err)
        let one = try hone(repo, "compare", "g/a")
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.err.contains("at least two evals"), one.err)
        let noRows = try hone(repo, "compare", "g/a", "g/b", "--only-diff")
        XCTAssertNotEqual(noRows.status, 0)
        XCTAssertTrue(noRows.err.contains("add --rows"), noRows.err)
        let badColumn = try hone(repo, "compare", "g/a", "g/b", "--rows", "--columns", "corect")
        XCTAssertEqual(badColumn.status, 1)
        XCTAssertTrue(badColumn.err.contains("no result column \"corect\""), badColumn.err)
        let run = try hone(repo, "compare", "g/a", "g/train-a")
        XCTAssertEqual(run.status, 1, "a run is not an eval")
    }

    // MARK: history

    func testHistoryReadsEachCommitThatChangedTheStatus() throws {
        let repo = try AnalysisRepo()
        repo.evalStatus("a", phase: .running, attempt: 2, metrics: [:], rows: nil)
        try repo.commit("attempt 2 running")
        repo.write("groups/g/evals/b.yaml", "kind: Eval\nmodel: base@v1\nhandler: python3 eval.py\ndataset: test@v1\n")
        try repo.commit("unrelated change")
        repo.evalStatus("a", attempt: 2, metrics: ["accuracy": .double(0.625), "loss": .double(1.5)], rows: [repo.row("s1", correct: true, score: 1)])
        try repo.commit("attempt 2 done")
        let oracle = try repo.git("log", "--format=%h %an", "--", "status/groups/g/evals/a.yaml").components(separatedBy: "\n").filter { !$0.isEmpty }

        // By default hone's intermediate commit (attempt 2 Running) is left out, and the document says so.
        let shown = try hone(repo, "history", "g/a", "-o", "json")
        XCTAssertEqual(shown.status, 0, shown.err)
        let doc = try AnalysisTests.json(shown.out)
        XCTAssertEqual(doc["apiVersion"], "hone/v1")
        XCTAssertEqual(doc["object"], .object(["group": "g", "name": "a", "path": "groups/g/evals/a.yaml"]))
        XCTAssertEqual(doc["hidden"], .int(1))
        XCTAssertEqual(doc["entries"]?.arrayValue?.map { $0["phase"] }, ["Succeeded", "Succeeded"])

        let r = try hone(repo, "history", "g/a", "--format", "json", "--all")
        XCTAssertEqual(r.status, 0, r.err)
        let entries = try XCTUnwrap(AnalysisTests.json(r.out)["entries"]?.arrayValue)
        XCTAssertEqual(entries.count, 3)
        XCTAssertEqual(entries.map { "\($0["commit"]!.stringValue!.prefix(oracle[0].split(separator: " ")[0].count)) \($0["author"]!.stringValue!)" }, oracle)
        XCTAssertEqual(entries.map { $0["attempt"] }, [.int(2), .int(2), .int(1)])
        XCTAssertEqual(entries.map { $0["phase"] }, ["Succeeded", "Running", "Succeeded"])
        XCTAssertEqual(entries[0]["metrics"]?["accuracy"], .double(0.625))
        XCTAssertEqual(entries[2]["metrics"]?["accuracy"], .double(0.5))

        let table = try hone(repo, "history", "g/a")
        let tl = table.out.components(separatedBy: "\n")
        XCTAssertEqual(tl[0].split(separator: " ").map(String.init), ["COMMIT", "DATE", "AUTHOR", "ATTEMPT", "PHASE", "accuracy", "loss", "samples", "CHANGED"])
        XCTAssertTrue(tl[1].contains("Succeeded") && tl[1].contains("0.625"), tl[1])
        XCTAssertEqual(tl.count, 5, table.out)
        XCTAssertEqual(tl[3], "(1 intermediate commit (Pending, Running) not shown: --all shows them)")

        let md = try hone(repo, "history", "g/a", "--format", "markdown")
        XCTAssertTrue(md.out.contains("| accuracy | ▁█ | 0.5 | 0.625 |"), md.out)
        XCTAssertTrue(md.out.contains("xychart-beta"))

        let older = try hone(repo, "history", "g/a", "--ref", "HEAD~1", "--format", "json")
        XCTAssertEqual(try AnalysisTests.json(older.out)["entries"]?.arrayValue?.count, 2)
        let unknown = try hone(repo, "history", "g/nope")
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.err.contains("no run or eval \"nope\" in groups/g"), unknown.err)
    }

    func testHistoryInAShallowCloneShowsWhatIsThereAndSaysItIsShallow() throws {
        let repo = try AnalysisRepo()
        for attempt in 2...4 {
            repo.evalStatus("a", attempt: attempt, metrics: ["accuracy": .double(0.5 + Double(attempt) / 10)], rows: nil)
            try repo.commit("attempt \(attempt)")
        }
        let shallow = repo.root.appendingPathComponent("shallow")
        _ = try repo.git("clone", "-q", "--depth", "2", "file://\(repo.path)", shallow.path)
        let oracle = try Exec.run("/usr/bin/git", ["log", "--format=%H", "--", "status/groups/g/evals/a.yaml"], in: shallow)
        let expected = oracle.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(expected.count, 2, "git sees the two commits of the shallow clone")

        let r = try Exec.run(Exec.hone, ["history", "g/a", "--format", "json", "-C", shallow.path], in: FileManager.default.temporaryDirectory)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertFalse(r.err.contains("object not found") || r.err.contains("libgit2"), r.err)
        XCTAssertTrue(r.err.contains("shallow clone"), "says the history is cut: \(r.err)")
        let entries = try XCTUnwrap(AnalysisTests.json(r.out)["entries"]?.arrayValue)
        XCTAssertEqual(entries.map { $0["commit"]?.stringValue ?? "" }, expected)
        XCTAssertEqual(entries.map { $0["attempt"] }, [.int(4), .int(3)])
        let table = try Exec.run(Exec.hone, ["history", "g/a", "-C", shallow.path], in: FileManager.default.temporaryDirectory)
        XCTAssertEqual(table.status, 0, table.err)
        XCTAssertTrue(table.out.contains("Succeeded"), table.out)
        XCTAssertTrue(table.err.contains("shallow clone") && table.err.contains("git fetch --unshallow"), table.err)
        // A full clone says nothing of the kind.
        let full = try hone(repo, "history", "g/a")
        XCTAssertFalse(full.err.contains("shallow"), full.err)
    }

    // MARK: report

    func testReportWritesLinkedSelfContainedPages() throws {
        let repo = try AnalysisRepo()
        let out = repo.root.appendingPathComponent("site")
        let r = try hone(repo, "report", "--out", out.path)
        XCTAssertEqual(r.status, 0, r.err)
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(files, ["group-g.html", "index.html"])
        let index = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(index.contains("<a href=\"group-g.html\">Group g</a>"))
        XCTAssertTrue(index.contains("<a href=\"group-g.html#gates\">0 pass, <span class=\"\">0 FAIL</span>, 2 pending</a>"), index)
        XCTAssertTrue(index.contains("Read from the working tree at \(repo.root.path) (HEAD "), "says what it was read from")
        let page = try String(contentsOf: out.appendingPathComponent("group-g.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<a href=\"index.html\">Index</a>"))
        XCTAssertTrue(page.contains("aria-label=\"loss\"") && page.contains("aria-label=\"val_loss\""), "one curve per metrics.jsonl key")
        XCTAssertFalse(page.contains("aria-label=\"step\""), "step is the x axis, not a curve")
        // Each eval against the baseline it declares (pub: baseline a), not against "the best".
        XCTAssertTrue(page.contains("<h2 id=\"baseline-a\">Against the baseline a</h2>"), page)
        XCTAssertFalse(page.contains("best eval"))
        XCTAssertTrue(page.contains("Baseline (pinned): <code>g/a</code>"), page)
        // Params beside results, gate verdicts, links to the logs (relative to the report's folder).
        XCTAssertTrue(page.contains("<th>params.k</th>"), page)
        XCTAssertTrue(page.contains("<h2 id=\"gates\">Gates</h2>"))
        XCTAssertTrue(page.contains("<span class=\"verdict-pending\">pending</span>"), page)
        XCTAssertTrue(page.contains("<a href=\"../status/groups/g/evals/a/evaluate.log\">evaluate.log</a>"), page)
        XCTAssertTrue(page.contains("(from run <a href=\"#run-train-a\">train-a</a>)"))
        XCTAssertGreaterThanOrEqual(assertWellFormedSVGs(page), 4)
        for text in [index, page] {
            XCTAssertFalse(text.contains("<script") || text.contains("<link"), "no scripts or external styles")
            XCTAssertFalse(text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        }
    }

    // MARK: sync

    func testSyncCopiesSpecStatusAndResultsAndIsIdempotent() throws {
        let repo = try AnalysisRepo()
        let r = try hone(repo, "sync", "g/a", "--to-evaluations")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("synced g/a → evaluations/a (model base@v1)"), r.out)
        XCTAssertTrue(r.out.contains("git add -A evaluations/a.yaml status/evaluations/a.yaml status/evaluations/a"), r.out)
        let spec = try XCTUnwrap(repo.read("evaluations/a.yaml"))
        XCTAssertTrue(spec.hasPrefix("# eval a\nkind: Eval\n"), "comments kept")
        XCTAssertTrue(spec.hasSuffix("syncedFrom: g/a\n"), spec)
        XCTAssertEqual(repo.read("status/evaluations/a/results.jsonl"), repo.read("status/groups/g/evals/a/results.jsonl"))
        XCTAssertNotNil(repo.read("status/evaluations/a/evaluate.log"))
        let key = ObjectKey(scope: .evaluations, kind: .eval, name: "a")
        let (status, diags) = StatusCodec.decode(key, text: try XCTUnwrap(repo.read(key.statusPath)), path: key.statusPath)
        XCTAssertEqual(diags.count, 0)
        XCTAssertEqual(status?.phase, .succeeded)
        XCTAssertEqual(status?.metrics["accuracy"], .double(0.5))
        XCTAssertEqual(status?.eval?.resultsPath, "status/evaluations/a/results.jsonl")
        XCTAssertEqual(status?.tasks.first?.log, "status/evaluations/a/evaluate.log")

        let before = try repo.git("status", "--porcelain")
        let again = try hone(repo, "sync", "g/a", "--to-evaluations")
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("already in sync"), again.out)
        XCTAssertEqual(try repo.git("status", "--porcelain"), before)

        // Reconcile sees the copy as done: the plan for it is a noop, and the repository stays valid.
        try repo.commit("sync")
        let plan = try AnalysisTests.json(try hone(repo, "plan", "--format", "json").out)
        let action = plan["actions"]?.arrayValue?.first { $0["object"]?.stringValue == "evaluations/a" }
        XCTAssertEqual(action?["action"], "noop", "\(String(describing: action))")
        XCTAssertEqual(try hone(repo, "validate").status, 0)

        // And back into a group, under another name.
        let back = try hone(repo, "sync", "evaluations/a", "--to-group", "g", "--name", "a-copy")
        XCTAssertEqual(back.status, 0, back.err)
        XCTAssertTrue(try XCTUnwrap(repo.read("groups/g/evals/a-copy.yaml")).contains("syncedFrom: evaluations/a"))
    }

    func testSyncRewritesAPublishedRunsModelAndDropsAForeignBaseline() throws {
        let repo = try AnalysisRepo()
        let r = try hone(repo, "sync", "g/pub", "--to-evaluations")
        XCTAssertEqual(r.status, 0, r.err)
        let spec = try XCTUnwrap(repo.read("evaluations/pub.yaml"))
        XCTAssertTrue(spec.contains("model: bot@v1  # published from run g/train-a"), spec)
        XCTAssertFalse(spec.contains("fromRun"))
        XCTAssertFalse(spec.contains("baseline:"), "evaluations/ has no copy of g/a")
        let gates = try XCTUnwrap(YAMLParser.parse(spec).root?["gates"]?.pairs)
        XCTAssertEqual(gates.map { "\($0.key.scalar ?? "") \($0.value.scalar ?? "")" }, ["metrics.loss <= 2"], "the absolute gate stays")
        XCTAssertTrue(r.out.contains("dropped baseline: a and 1 gate relative to it"), r.out)
        XCTAssertEqual(try hone(repo, "validate").status, 0)

        // With the baseline synced first, the baseline and its gate stay.
        let repo2 = try AnalysisRepo()
        XCTAssertEqual(try hone(repo2, "sync", "g/a", "--to-evaluations").status, 0)
        XCTAssertEqual(try hone(repo2, "sync", "g/pub", "--to-evaluations").status, 0)
        let spec2 = try XCTUnwrap(repo2.read("evaluations/pub.yaml"))
        XCTAssertTrue(spec2.contains("baseline: a") && spec2.contains("metrics.accuracy"), spec2)
    }

    func testSyncRefusesDraftsUnfinishedEvalsAndNameClashes() throws {
        let repo = try AnalysisRepo()
        let draft = try hone(repo, "sync", "g/draft", "--to-evaluations")
        XCTAssertEqual(draft.status, 1)
        XCTAssertTrue(draft.err.contains("draft model of run g/train-b, which is not published"), draft.err)
        let running = try hone(repo, "sync", "g/c", "--to-evaluations")
        XCTAssertEqual(running.status, 1)
        XCTAssertTrue(running.err.contains("g/c is Running (attempt 1): only finished evals (Succeeded) are synced"), running.err)
        XCTAssertNotEqual(try hone(repo, "sync", "g/a").status, 0, "a destination is required")

        XCTAssertEqual(try hone(repo, "sync", "g/a", "--to-evaluations").status, 0)
        let clash = try hone(repo, "sync", "g/b", "--to-evaluations", "--name", "a")
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.err.contains("evaluations/a already exists and is a copy of g/a, not a copy of g/b: choose another name with --name"), clash.err)
        XCTAssertFalse(try XCTUnwrap(repo.read("evaluations/a.yaml")).contains("g/b"), "nothing written on error")
        let renamed = try hone(repo, "sync", "g/b", "--to-evaluations", "--name", "b-v2")
        XCTAssertEqual(renamed.status, 0, renamed.err)
        XCTAssertNotNil(repo.read("status/evaluations/b-v2.yaml"))
        let wrongWay = try hone(repo, "sync", "evaluations/a", "--to-evaluations")
        XCTAssertEqual(wrongWay.status, 1)
        XCTAssertTrue(wrongWay.err.contains("already in the evaluation module"), wrongWay.err)
    }
}

// Literals keep the expectations readable (test-only conformances).
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
                     ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
}
