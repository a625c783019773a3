import ArgumentParser
import Foundation
import XCTest
import HoneCLI
import HoneEngine
import HoneQueries
import HoneModel

/// `hone get KIND` for every kind (singular or plural, "did you mean" on typos), `-o wide|yaml`, the
/// narrow table's AGE column, and `hone describe group|model`.
final class GetKindsTests: XCTestCase {
    /// The populated fixture plus a published model version, a runtime and a run created 3 hours ago.
    func fixture() throws -> HoneRepoFixture {
        let f = try HoneRepoFixture.populated()
        let digest = HoneRepoFixture.sha("bot weights\n")
        try f.write("artifacts/bot.bin", "bot weights\n")
        try f.write("models/support-bot/v1.yaml", """
        kind: ModelVersion
        description: Published by hone from run g/r1, attempt 1
        uri: artifacts/bot.bin
        sha256: \(digest)
        publishedFrom: g/r1
        publishedAt: "\(Timestamp.string(Date().addingTimeInterval(-2 * 86400 - 60)))"
        metrics: {accuracy: 0.81}

        """)
        try f.write("groups/g/evals/e-bot.yaml", "kind: Eval\nmodel: support-bot@v1\ndataset: d@v1\nhandler: python3 eval.py\n")
        try f.write("runtimes/np/v1.yaml", "kind: RuntimeVersion\npython: python3\nrequirements: [\"numpy>=1.26\", \"tqdm\"]\n")
        try f.status(ObjectKey(scope: .group("g"), kind: .run, name: "r2"), phase: .running,
                     createdAt: Timestamp.string(Date().addingTimeInterval(-3 * 3600 - 30)))
        return f
    }

    func testSingularAndPluralNamesAndDidYouMean() throws {
        let f = try fixture()
        for (one, many) in [("run", "runs"), ("eval", "evals"), ("group", "groups"), ("model", "models"),
                            ("dataset", "datasets"), ("runtime", "runtimes"), ("view", "views")] {
            let a = try runHone(["get", one, "-o", "json"], in: f.root), b = try runHone(["get", many, "-o", "json"], in: f.root)
            XCTAssertEqual(a.status, 0, a.stderr)
            XCTAssertEqual(a.stdout, b.stdout, one)
            XCTAssertFalse((a.items ?? []).isEmpty, "\(one) lists something")
        }
        let typo = try runHone(["get", "rnus"], in: f.root)
        XCTAssertEqual(typo.status, 1)
        XCTAssertTrue(typo.stderr.contains("no kind \"rnus\" (did you mean runs?)"), typo.stderr)
        let describeTypo = try runHone(["describe", "modle", "support-bot"], in: f.root)
        XCTAssertEqual(describeTypo.status, 1)
        XCTAssertTrue(describeTypo.stderr.contains("(did you mean model?)"), describeTypo.stderr)
        let modelTypo = try runHone(["describe", "model", "suport-bot"], in: f.root)
        XCTAssertEqual(modelTypo.status, 1)
        XCTAssertTrue(modelTypo.stderr.contains("no model \"suport-bot\" (models/suport-bot/ has no versions) (did you mean support-bot?)"), modelTypo.stderr)
    }

    func testNarrowTableHasAgeAndWideHasEveryColumn() throws {
        let f = try fixture()
        let narrow = try runHone(["get", "runs"], in: f.root)
        XCTAssertEqual(narrow.status, 0, narrow.stderr)
        // Params and summary metrics are columns of their own (dvc exp show).
        XCTAssertEqual(narrow.lines[0], "NAME  GROUP  PHASE      AGE   DURATION  PARAMS.LR")
        XCTAssertEqual(narrow.lines[1], "r2    g      Running    3h    -         0.1")
        let wide = try runHone(["get", "runs", "-o", "wide"], in: f.root)
        XCTAssertEqual(wide.lines[0], "NAME  GROUP  BASEMODEL  TRAINDATASET  VALIDATIONDATASET  PHASE      POOL   OWNER  CREATEDAT             FINISHEDAT            DURATION  ATTEMPT  PARAMS.LR")
        XCTAssertTrue(wide.lines[2].contains("2026-01-02T10:00:00Z"), wide.stdout)
        // JSON: ISO times, no age; params and metrics as objects, the base model structured.
        let json = try XCTUnwrap(try runHone(["get", "runs", "--format", "json"], in: f.root).items)
        XCTAssertEqual(Set(json[0].keys), ["object", "phase", "baseModel", "trainDataset", "validationDataset", "pool", "owner", "createdAt", "attempt", "params", "metrics"])
        XCTAssertEqual(json[0]["params"] as? [String: Double], ["lr": 0.1])
        XCTAssertEqual((json[0]["baseModel"] as? [String: Any])?["name"] as? String, "base")
        let evals = try runHone(["get", "evals", "--group", "g", "--no-view"], in: f.root)
        XCTAssertEqual(evals.lines[0], "NAME     GROUP  MODEL           PHASE      AGE   DURATION  METRICS.ACCURACY  METRICS.BLEU  METRICS.LOSS")
    }

    func testModelsDatasetsRuntimesAndViews() throws {
        let f = try fixture()
        let digest = HoneRepoFixture.sha("bot weights\n")
        let models = try runHone(["get", "models"], in: f.root)
        XCTAssertEqual(models.status, 0, models.stderr)
        XCTAssertEqual(models.lines, [
            "NAME         VERSION  PUBLISHEDFROM  DIGEST        AGE",
            "base         v1       -              \(HoneRepoFixture.sha("base model\n").prefix(12))  -",
            "support-bot  v1       g/r1           \(digest.prefix(12))  2d",
        ])
        let json = try XCTUnwrap(try runHone(["get", "models", "-o", "json"], in: f.root).items)
        XCTAssertEqual(json[1]["sha256"] as? String, digest)
        XCTAssertEqual(json[1]["path"] as? String, "models/support-bot/v1.yaml")
        XCTAssertEqual(try runHone(["get", "datasets"], in: f.root).lines,
                       ["NAME  VERSION  URI         DIGEST", "d     v1       data/d.txt  \(HoneRepoFixture.sha("some data\n").prefix(12))"])
        XCTAssertEqual(try runHone(["get", "runtimes"], in: f.root).lines,
                       ["NAME  VERSION  PYTHON   REQUIREMENTS", "np    v1       python3  numpy>=1.26 tqdm"])
        XCTAssertEqual(try runHone(["get", "views", "--group", "g"], in: f.root).lines, [
            "NAME    GROUP  DEFAULT  VISIBLE  COLUMNS",
            "acc     g      false    true     name,phase,metrics.accuracy,createdAt",
            "names   g      false    false    name",
            "recent  g      false    true     name,phase,createdAt,duration",
        ])
    }

    func testYAMLIsTheJSONDocument() throws {
        let f = try fixture()
        let yaml = try runHone(["get", "groups", "-o", "yaml"], in: f.root)
        XCTAssertEqual(yaml.status, 0, yaml.stderr)
        XCTAssertEqual(yaml.lines.prefix(7), ["apiVersion: hone/v1", "items:", "- description: Nothing yet", "  evals: 0", "  lastActivity: null", "  name: empty", "  playgrounds: 0"])
        let json = try runHone(["get", "groups", "-o", "json"], in: f.root)
        XCTAssertEqual((json.json as? [String: Any])?["kind"] as? String, "GroupList")
    }

    func testDescribeGroupAndModel() throws {
        let f = try fixture()
        let group = try runHone(["describe", "group", "g"], in: f.root)
        XCTAssertEqual(group.status, 0, group.stderr)
        XCTAssertEqual(group.lines.prefix(2), ["Group g", "Description:    Group G"])
        // The latest time recorded in the group: r2's start, 3 hours ago.
        let active = try XCTUnwrap(Timestamp.date(String(group.lines[2].dropFirst("Last activity:  ".count))), group.lines[2])
        XCTAssertEqual(Date().timeIntervalSince(active), 3 * 3600 + 30, accuracy: 600)
        XCTAssertEqual(group.lines[3], "Views:          acc, names, recent")
        XCTAssertTrue(group.lines.contains("Runs:") && group.lines.contains("Evals:"), group.stdout)
        XCTAssertTrue(group.lines.contains { $0.hasPrefix("r2    g      Running") }, group.stdout)
        let gjson = try XCTUnwrap(try runHone(["describe", "groups", "g", "-o", "json"], in: f.root).json as? [String: Any])
        XCTAssertEqual((gjson["runs"] as? [[String: Any]])?.map { $0["name"] as? String }, ["r0", "r1", "r2"])
        let model = try runHone(["describe", "model", "support-bot@v1"], in: f.root)
        XCTAssertEqual(model.status, 0, model.stderr)
        XCTAssertEqual(model.lines[0], "Model support-bot@v1")
        XCTAssertTrue(model.lines.contains("  Published from: g/r1"), model.stdout)
        XCTAssertTrue(model.lines.contains("  Metrics:        accuracy=0.81"), model.stdout)
        XCTAssertTrue(model.lines.contains("  Evals:          g/e-bot"), model.stdout)
        let noVersion = try runHone(["describe", "model", "support-bot@v9"], in: f.root)
        XCTAssertEqual(noVersion.status, 1)
        XCTAssertTrue(noVersion.stderr.contains("model support-bot has no version v9: its versions are v1"), noVersion.stderr)
        let noGroup = try runHone(["describe", "group", "gg"], in: f.root)
        XCTAssertTrue(noGroup.stderr.contains("no group \"gg\" (groups/gg/group.yaml does not exist) (did you mean g?)"), noGroup.stderr)
    }

    /// On a terminal the narrow table drops its rightmost columns until it fits (stdout of a test is a
    /// pipe, so this is checked on the table itself).
    func testNarrowTableFitsATerminalWidth() {
        var t = Table(columns: ["name", "phase", "createdAt", "note"], rows: [
            ["name": .string("lora-r8"), "phase": .string("Succeeded"), "createdAt": .string("2026-01-01T00:00:00Z"), "note": .string("x")],
        ])
        t.narrow = ["name", "phase", "age", "note"]
        t.ages = ["age": "createdAt"]
        let now = Timestamp.date("2026-01-01T00:03:00Z")!
        XCTAssertEqual(t.render(.table, now: now), "NAME     PHASE      AGE  NOTE\nlora-r8  Succeeded  3m   x\n")
        XCTAssertNil(t.fitted(80, now: now), "it fits: nothing is cut")
        let fit = t.fitted(20, now: now)
        XCTAssertEqual(fit?.text, "NAME     PHASE\nlora-r8  Succeeded\n")
        XCTAssertEqual(fit?.hidden, 2)
        XCTAssertEqual(t.fitted(3, now: now)?.text, "NAME\nlora-r8\n", "the first column stays")
        XCTAssertEqual(t.render(.wide, now: now), "NAME     PHASE      CREATEDAT             NOTE\nlora-r8  Succeeded  2026-01-01T00:00:00Z  x\n")
    }

    /// `get runs -w` shows the list, then again when a status changes (here: r2 recorded as Succeeded).
    func testWatchShowsTheListAgainWhenAStatusChanges() throws {
        let f = try fixture()
        let p = Process()
        p.executableURL = honeExecutableURL
        p.arguments = ["get", "runs", "--watch"]
        p.currentDirectoryURL = f.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        let lock = NSLock()
        nonisolated(unsafe) var text = ""
        out.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            lock.withLock { text += String(decoding: d, as: UTF8.self) }
        }
        try p.run()
        defer { p.terminate(); p.waitUntilExit(); out.fileHandleForReading.readabilityHandler = nil }
        func wait(for needle: String) -> Bool {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if lock.withLock({ text.contains(needle) }) { return true }
                usleep(50_000)
            }
            return false
        }
        XCTAssertTrue(wait(for: "r2    g      Running"), lock.withLock { text })
        try f.status(ObjectKey(scope: .group("g"), kind: .run, name: "r2"), phase: .succeeded,
                     createdAt: Timestamp.string(Date().addingTimeInterval(-3 * 3600 - 30)), duration: 60)
        XCTAssertTrue(wait(for: "r2    g      Succeeded"), lock.withLock { text })
        let tables = lock.withLock { text }.components(separatedBy: "\n\n")
        XCTAssertEqual(tables.count, 2, "one table, then one more after the change: \(lock.withLock { text })")
        XCTAssertTrue(p.isRunning, "it keeps watching")
    }

    /// Shell completion offers object names, called as the generated scripts call it
    /// (`hone ---completion SUBCOMMAND -- ARG WORD-INDEX CURSOR WORDS…`).
    func testShellCompletionOffersObjectNames() throws {
        let f = try fixture()
        let script = try runHone(["--generate-completion-script", "bash"], in: f.root)
        XCTAssertTrue(script.stdout.contains("---completion logs -- positional@0"), "logs completes its object")
        let runs = try runHone(["---completion", "logs", "--", "positional@0", "2", "3", "hone", "logs", "g/r"], in: f.root)
        XCTAssertEqual(runs.status, 0, runs.stderr)
        XCTAssertEqual(runs.lines, ["g/r0", "g/r1", "g/r2"])
        let models = try runHone(["---completion", "describe", "--", "positional@1", "3", "0", "hone", "describe", "model", ""], in: f.root)
        XCTAssertEqual(models.lines, ["base", "support-bot", "base@v1", "support-bot@v1"])
        let groups = try runHone(["---completion", "describe", "--", "positional@1", "3", "0", "hone", "describe", "group", ""], in: f.root)
        XCTAssertEqual(groups.lines, ["empty", "g"])
        // -C names the repository; outside one nothing is offered and nothing is printed on stderr.
        let elsewhere = FileManager.default.temporaryDirectory
        let viaC = try runHone(["---completion", "events", "--", "positional@0", "4", "5", "hone", "-C", f.root.path, "events", "evalu"], in: elsewhere)
        XCTAssertEqual(viaC.lines, ["evaluations/ev1"])
        let none = try runHone(["---completion", "events", "--", "positional@0", "2", "0", "hone", "events", ""], in: elsewhere)
        XCTAssertEqual(none.status, 0)
        XCTAssertEqual(none.stdout + none.stderr, "")
    }

    func testAgeIsTheLargestUnitLikeKubectl() {
        let seconds: [Int] = [5, 59, 180, 3599, 7200, 169_200, 345_600, 94_608_000, -3]
        let ages: [String] = seconds.map { Table.age(TimeInterval($0)) }
        XCTAssertEqual(ages, ["5s", "59s", "3m", "59m", "2h", "47h", "4d", "3y", "0s"])
    }

    func testGetOptionRules() throws {
        XCTAssertNoThrow(try HoneCommand.parseAsRoot(["get", "run", "-o", "wide"]))
        XCTAssertNoThrow(try HoneCommand.parseAsRoot(["get", "Models", "-o", "yaml"]))
        XCTAssertNoThrow(try HoneCommand.parseAsRoot(["get", "views", "--group", "g"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["get", "models", "--group", "g"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["get", "runs", "--view", "v"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["get", "views", "--no-view"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["get", "runs", "-o", "xml"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["get", "evlas"])) { error in
            XCTAssertTrue(HoneCommand.message(for: error).contains("did you mean evals?"), HoneCommand.message(for: error))
        }
        XCTAssertNoThrow(try HoneCommand.parseAsRoot(["describe", "runs", "g/r"]))
        XCTAssertThrowsError(try HoneCommand.parseAsRoot(["describe", "job", "g/r"]))
    }
}
