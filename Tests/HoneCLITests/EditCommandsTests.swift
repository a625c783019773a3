import Foundation
import XCTest
import HoneModel

/// `hone rerun`, `hone publish` and `hone view …`: file edits that keep comments, refuse invalid results.
final class EditCommandsTests: XCTestCase {
    let commentedRun = """
    # A run with comments everywhere.
    kind: Run
    baseModel: base@v1     # the base
    trainDataset: d@v1

    # how to train
    handler: python3 train.py
    params: {lr: 0.1}      # keep it small

    """

    func testRerunAddsThenRaisesKeepingComments() throws {
        let f = try HoneRepoFixture.populated()
        try f.write("groups/g/runs/r1.yaml", commentedRun)
        let first = try runHone(["rerun", "g/r1"], in: f.root)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.lines, [
            "raised rerun from 0 to 1 in groups/g/runs/r1.yaml",
            "commit it, then `hone reconcile` runs g/r1 again:",
            "  git add groups/g/runs/r1.yaml && git commit -m \"rerun g/r1\"",
        ])
        XCTAssertEqual(try f.read("groups/g/runs/r1.yaml"), commentedRun + "rerun: 1\n")
        try f.write("groups/g/runs/r1.yaml", commentedRun.replacingOccurrences(of: "trainDataset: d@v1\n", with: "trainDataset: d@v1\nrerun: 4   # bumped by hand\n"))
        XCTAssertEqual(try runHone(["rerun", "g/r1"], in: f.root).status, 0)
        XCTAssertEqual(try f.read("groups/g/runs/r1.yaml"),
                       commentedRun.replacingOccurrences(of: "trainDataset: d@v1\n", with: "trainDataset: d@v1\nrerun: 5  # bumped by hand\n"))
        // Evals too, and the evaluation module.
        XCTAssertEqual(try runHone(["rerun", "evaluations/ev1"], in: f.root).status, 0)
        XCTAssertTrue(try f.read("evaluations/ev1.yaml").hasSuffix("handler: python3 eval.py\nrerun: 1\n"))
        let missing = try runHone(["rerun", "g/nope"], in: f.root)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no run or eval \"nope\" in groups/g"), missing.stderr)
        XCTAssertEqual(try runHone(["validate"], in: f.root).status, 0)
    }

    func testPublishWritesTheBlockAndChecksTheModel() throws {
        let f = try HoneRepoFixture.populated()
        try f.write("groups/g/runs/r1.yaml", commentedRun)
        let r = try runHone(["publish", "g/r1", "--model", "support-bot", "--new"], in: f.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines[0], "added publish: to groups/g/runs/r1.yaml: g/r1 is published as the new model support-bot")
        XCTAssertEqual(try f.read("groups/g/runs/r1.yaml"), commentedRun + "publish:\n  model: support-bot\n  as: new\n")
        // Replacing it: a version of the existing base model.
        let v = try runHone(["publish", "g/r1", "--model", "base", "--existing"], in: f.root)
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertEqual(v.lines[0], "changed publish: in groups/g/runs/r1.yaml (was support-bot as new): g/r1 is published as a new version of model base")
        XCTAssertEqual(try f.read("groups/g/runs/r1.yaml"), commentedRun + "publish:\n  model: base\n  as: version\n")
        XCTAssertEqual(try runHone(["validate"], in: f.root).status, 0)

        let before = try f.read("groups/g/runs/r1.yaml")
        let exists = try runHone(["publish", "g/r1", "--model", "base", "--new"], in: f.root)
        XCTAssertEqual(exists.status, 1)
        XCTAssertTrue(exists.stderr.contains("model \"base\" already exists (models/base/: v1): use --existing"), exists.stderr)
        let absent = try runHone(["publish", "g/r1", "--model", "bse", "--existing"], in: f.root)
        XCTAssertEqual(absent.status, 1)
        XCTAssertTrue(absent.stderr.contains("model \"bse\" does not exist (no models/bse/) (did you mean base?): use --new"), absent.stderr)
        let noRun = try runHone(["publish", "g/e-mid", "--model", "x", "--new"], in: f.root)
        XCTAssertEqual(noRun.status, 1)
        XCTAssertTrue(noRun.stderr.contains("no run \"e-mid\" in groups/g"), noRun.stderr)
        let both = try runHone(["publish", "g/r1", "--model", "x", "--new", "--existing"], in: f.root)
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("--new (a new model) or --existing"), both.stderr)
        XCTAssertNotEqual(try runHone(["publish", "g/r1", "--model", "x"], in: f.root).status, 0)
        XCTAssertEqual(try f.read("groups/g/runs/r1.yaml"), before, "failed publishes write nothing")
    }

    func testViewSaveAsSaveAndList() throws {
        let f = try HoneRepoFixture.populated()
        let created = try runHone(["view", "save-as", "best", "--group", "g", "--columns", "name,phase,metrics.accuracy",
                                   "--pinned", "metrics.accuracy", "--filter", "phase=Succeeded", "--filter", "metrics.accuracy>=0.5"], in: f.root)
        XCTAssertEqual(created.status, 0, created.stderr)
        XCTAssertEqual(created.lines[0], "created groups/g/views/best.yaml")
        XCTAssertEqual(try f.read("groups/g/views/best.yaml"), """
        kind: View
        columns:
        - name
        - phase
        - metrics.accuracy
        pinned:
        - metrics.accuracy
        filter:
          phase: Succeeded
          metrics.accuracy: ">=0.5"
        sort:
          by: createdAt
          order: desc

        """)
        let got = try runHone(["get", "evals", "--group", "g", "--view", "best"], in: f.root)
        XCTAssertEqual(got.lines, ["METRICS.ACCURACY  NAME   PHASE", "0.8               e-mid  Succeeded", "0.95              e-top  Succeeded"])

        // save: only what is given changes; the comment stays.
        let saved = try runHone(["view", "save", "acc", "--group", "g", "--sort", "createdAt:desc", "--filter", "name=e-*"], in: f.root)
        XCTAssertEqual(saved.status, 0, saved.stderr)
        XCTAssertEqual(try f.read("groups/g/views/acc.yaml"), """
        # accuracy of the good ones
        kind: View
        columns: [name, phase, metrics.accuracy, createdAt]
        pinned: [metrics.accuracy]
        filter:
          name: e-*
        sort:
          by: createdAt
          order: desc

        """)
        let fresh = try runHone(["view", "save-as", "all", "--group", "g"], in: f.root)
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertEqual(try f.read("groups/g/views/all.yaml"), "kind: View\nsort:\n  by: createdAt\n  order: desc\n")
        let copy = try runHone(["view", "save-as", "acc2", "--group", "g", "--from", "acc", "--clear-filter"], in: f.root)
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertFalse(try f.read("groups/g/views/acc2.yaml").contains("filter"))
        XCTAssertTrue(try f.read("groups/g/views/acc2.yaml").hasPrefix("# accuracy of the good ones\nkind: View\n"))

        let list = try runHone(["view", "list", "--group", "g"], in: f.root)
        XCTAssertEqual(list.lines.map { String($0.prefix(while: { $0 != " " })) }, ["NAME", "acc", "acc2", "all", "best", "recent"])
        let listAll = try runHone(["view", "list", "--group", "g", "--all", "--format", "json"], in: f.root)
        let rows = try XCTUnwrap(listAll.json as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["name"] as? String }, ["acc", "acc2", "all", "best", "names", "recent"])
        XCTAssertEqual(rows.first { $0["name"] as? String == "names" }?["visible"] as? Bool, false)
        XCTAssertEqual(try runHone(["validate"], in: f.root).status, 0)

        let exists = try runHone(["view", "save-as", "best", "--group", "g"], in: f.root)
        XCTAssertEqual(exists.status, 1)
        XCTAssertTrue(exists.stderr.contains("view \"best\" already exists"), exists.stderr)
        let nothing = try runHone(["view", "save", "best", "--group", "g"], in: f.root)
        XCTAssertEqual(nothing.status, 1)
        let noScope = try runHone(["view", "list"], in: f.root)
        XCTAssertNotEqual(noScope.status, 0)
        XCTAssertTrue(noScope.stderr.contains("--group G or --evaluations"), noScope.stderr)
    }

    func testInvalidViewEditsAreRefusedAndWriteNothing() throws {
        let f = try HoneRepoFixture.populated()
        let before = try f.read("groups/g/views/acc.yaml")
        let badColumn = try runHone(["view", "save", "acc", "--group", "g", "--columns", "name,acuracy"], in: f.root)
        XCTAssertEqual(badColumn.status, 1)
        XCTAssertTrue(badColumn.stderr.contains("nothing was written"), badColumn.stderr)
        XCTAssertTrue(badColumn.stderr.contains("groups/g/views/acc.yaml:5:3: error: unknown column \"acuracy\""), badColumn.stderr)
        let badPhase = try runHone(["view", "save", "acc", "--group", "g", "--filter", "phase=Done"], in: f.root)
        XCTAssertEqual(badPhase.status, 1)
        XCTAssertTrue(badPhase.stderr.contains("filter \"phase\": unknown phase \"Done\""), badPhase.stderr)
        let twice = try runHone(["view", "save", "acc", "--group", "g", "--filter", "cost<1", "--filter", "cost>0"], in: f.root)
        XCTAssertEqual(twice.status, 1)
        XCTAssertTrue(twice.stderr.contains("column \"cost\" is given twice"), twice.stderr)
        XCTAssertEqual(try f.read("groups/g/views/acc.yaml"), before)
        let noView = try runHone(["view", "save", "ac", "--group", "g", "--sort", "name"], in: f.root)
        XCTAssertTrue(noView.stderr.contains("no view \"ac\" in groups/g/views (did you mean acc?)"), noView.stderr)
        let noGroup = try runHone(["view", "list", "--group", "nope"], in: f.root)
        XCTAssertTrue(noGroup.stderr.contains("no group \"nope\""), noGroup.stderr)
    }

    func testSetDefaultHideShowDelete() throws {
        let f = try HoneRepoFixture.populated()
        try f.write("groups/g/views/recent.yaml", try f.read("groups/g/views/recent.yaml") + "default: true   # the usual one\n")
        let recentBefore = try f.read("groups/g/views/recent.yaml")
        let accBefore = try f.read("groups/g/views/acc.yaml")
        let r = try runHone(["view", "set-default", "acc", "--group", "g"], in: f.root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines[0], "g/acc is the default view (was: recent)")
        XCTAssertEqual(try f.read("groups/g/views/acc.yaml"), accBefore + "default: true\n")
        XCTAssertEqual(try f.read("groups/g/views/recent.yaml"), recentBefore.replacingOccurrences(of: "default: true   # the usual one", with: "default: false  # the usual one"))
        XCTAssertEqual(try runHone(["get", "evals", "--group", "g"], in: f.root).lines.count, 3)

        XCTAssertEqual(try runHone(["view", "hide", "recent", "--group", "g"], in: f.root).status, 0)
        XCTAssertTrue(try f.read("groups/g/views/recent.yaml").hasSuffix("# the usual one\nvisible: false\n"))
        let listed = try runHone(["view", "list", "--group", "g"], in: f.root).lines.map { String($0.prefix(while: { $0 != " " })) }
        XCTAssertEqual(listed, ["NAME", "acc"])
        XCTAssertEqual(try runHone(["view", "show", "recent", "--group", "g"], in: f.root).status, 0)
        XCTAssertTrue(try f.read("groups/g/views/recent.yaml").hasSuffix("# the usual one\nvisible: true\n"))

        let d = try runHone(["view", "delete", "acc", "--group", "g"], in: f.root)
        XCTAssertEqual(d.status, 0, d.stderr)
        XCTAssertEqual(d.lines[0], "deleted groups/g/views/acc.yaml (it was the default view: groups/g has none now)")
        XCTAssertFalse(f.exists("groups/g/views/acc.yaml"))
        XCTAssertEqual(try runHone(["validate"], in: f.root).status, 0)

        // The evaluation module has views too.
        let e = try runHone(["view", "save-as", "mod", "--evaluations", "--columns", "name,phase"], in: f.root)
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(f.exists("evaluations/views/mod.yaml"))
        XCTAssertEqual(try runHone(["view", "set-default", "mod", "--evaluations"], in: f.root).status, 0)
        XCTAssertEqual(try runHone(["get", "evals", "--evaluations"], in: f.root).lines, ["NAME  PHASE", "ev1   Running"])
    }
}
