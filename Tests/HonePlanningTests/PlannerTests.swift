import Foundation
import HoneLoading
import HoneModel
import HonePlanning
import XCTest
import YAML

/// The planner against hand-made repositories (in memory) with recorded states of every phase,
/// edited the ways users edit them.
final class PlannerTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    static let sha1 = String(repeating: "a", count: 64)
    static let sha2 = String(repeating: "b", count: 64)

    var files: [String: String] = [
        "hone.yaml": """
        kind: Project
        name: p
        pools:
          local: {executor: local, maxParallel: 2, costPerHour: 0}
          gpu: {executor: slurm, workdir: /shared, costPerHour: 2.5, maxHours: 4}
          cloud: {executor: slurm, workdir: /shared, costPerHour: 3}
        """,
        "models/base/v1.yaml": "kind: ModelVersion\nuri: base.npz\nsha256: \(sha1)\n",
        "datasets/train/v1.yaml": "kind: DatasetVersion\nuri: train.txt\nsha256: \(sha1)\n",
        "datasets/test/v1.yaml": "kind: DatasetVersion\nuri: test.txt\nsha256: \(sha2)\n",
        "runtimes/py/v1.yaml": "kind: RuntimeVersion\npython: python3\n",
        "groups/g/group.yaml": "kind: Group\n",
        "groups/g/runs/r.yaml": """
        kind: Run
        baseModel: base@v1
        trainDataset: train@v1
        runtime: py@v1
        handler: python train.py
        params: {lr: 0.1, epochs: 2}
        """,
        "groups/g/evals/e.yaml": """
        kind: Eval
        fromRun: r
        dataset: test@v1
        handler: python eval.py
        autoRelease: 30m
        """,
        "train.py": "print('train')\n",
        "eval.py": "print('eval')\n",
        "other.py": "print('other')\n",
    ]

    func load(_ extra: [String: String?] = [:]) throws -> LoadResult {
        var f = files
        for (k, v) in extra { f[k] = v }
        return try Loader(source: MemorySource(files: f.compactMapValues { $0 })).load()
    }

    func plan(_ extra: [String: String?] = [:]) throws -> Plan {
        let l = try load(extra)
        XCTAssertEqual(l.errors.map(\.description), [], "fixture must be valid")
        return Planner(l, now: now).plan()
    }

    func action(_ p: Plan, _ display: String) -> PlannedAction? { p.actions.first { $0.key.display == display } }

    /// A status as reconcile would record it for the current spec (same digest and inputs).
    func status(for key: String, phase: Phase, in extra: [String: String?] = [:], attempt: Int = 1, modify: (inout ObjectStatus) -> Void = { _ in }) throws -> (String, String) {
        let p = try plan(extra)
        let a = try XCTUnwrap(p.actions.first { $0.key.display == key })
        var s = ObjectStatus(key: a.key, id: a.id ?? "x", phase: phase, pool: a.pool ?? "local", handler: "h", attempt: attempt, specDigest: a.specDigest!)
        s.inputs = a.inputs
        s.createdAt = Timestamp.string(now.addingTimeInterval(-100))
        if a.key.kind == .run && phase == .succeeded {
            s.run?.model = ModelOutput(name: "r", version: "draft-1", uri: "store://sha256/\(PlannerTests.sha2)/m.npz", sha256: PlannerTests.sha2)
        }
        modify(&s)
        return (a.key.statusPath, try YAMLEmitter.emit(StatusCodec.encode(s)))
    }

    func testNeverRunCreatesRunsAndBlocksEvalsOnThem() throws {
        let p = try plan()
        XCTAssertEqual(action(p, "g/r")?.action, .create)
        XCTAssertEqual(action(p, "g/r")?.attempt, 1)
        XCTAssertEqual(action(p, "g/e")?.action, .blocked)
        XCTAssertTrue(action(p, "g/e")!.reason.contains("waits for run g/r"), action(p, "g/e")!.reason)
        XCTAssertEqual(PlanViews.summary(p), "1 to create, 1 blocked, est. cost $0.00")
    }

    func testIdsAreDeterministicAndDifferPerAttempt() throws {
        let a = try XCTUnwrap(action(try plan(), "g/r"))
        let b = try XCTUnwrap(action(try plan(), "g/r"))
        XCTAssertEqual(a.id, b.id)
        XCTAssertNotEqual(SpecDigest.jobID(a.key, digest: a.specDigest!, attempt: 1), SpecDigest.jobID(a.key, digest: a.specDigest!, attempt: 2))
    }

    func testCommentsKeyOrderAndDescriptionDoNotChangeTheDigest() throws {
        let before = try XCTUnwrap(action(try plan(), "g/r")?.specDigest)
        let edited = """
        # a comment
        kind: Run
        description: now with a description
        params:
          epochs: 2   # same values, other order
          lr: 0.1
        handler: python train.py
        runtime: py@v1
        trainDataset: train@v1
        baseModel: base@v1
        """
        XCTAssertEqual(action(try plan(["groups/g/runs/r.yaml": edited]), "g/r")?.specDigest, before)
        let changed = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.2")
        XCTAssertNotEqual(action(try plan(["groups/g/runs/r.yaml": changed]), "g/r")?.specDigest, before)
    }

    func testRecordedSucceededRunIsNoopAndItsEvalCanStart() throws {
        let (path, text) = try status(for: "g/r", phase: .succeeded)
        let p = try plan([path: text])
        XCTAssertEqual(action(p, "g/r")?.action, .noop)
        XCTAssertEqual(action(p, "g/e")?.action, .create)
        XCTAssertTrue(action(p, "g/e")!.reason.contains("released after 30m"))
    }

    func testParamChangeReruns() throws {
        let (path, text) = try status(for: "g/r", phase: .succeeded)
        let changed = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.2")
        let p = try plan([path: text, "groups/g/runs/r.yaml": changed])
        let a = try XCTUnwrap(action(p, "g/r"))
        XCTAssertEqual(a.action, .rerun)
        XCTAssertEqual(a.attempt, 2)
        XCTAssertTrue(a.reason.contains("spec changed"), a.reason)
        XCTAssertEqual(action(p, "g/e")?.action, .blocked, "the eval waits for the new attempt")
    }

    func testRaisingRerunReruns() throws {
        let (path, text) = try status(for: "g/r", phase: .failed)
        let p = try plan([path: text, "groups/g/runs/r.yaml": files["groups/g/runs/r.yaml"]! + "\nrerun: 1\n"])
        XCTAssertEqual(action(p, "g/r")?.action, .rerun)
        XCTAssertTrue(action(p, "g/r")!.reason.contains("rerun raised to 1"))
    }

    func testRunningIsPolledAndChangeWhileRunningSupersedesOrWaits() throws {
        let (path, text) = try status(for: "g/r", phase: .running)
        XCTAssertEqual(action(try plan([path: text]), "g/r")?.action, .poll)
        let changed = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.3")
        let superseding = try XCTUnwrap(action(try plan([path: text, "groups/g/runs/r.yaml": changed]), "g/r"))
        XCTAssertEqual(superseding.action, .rerun)
        XCTAssertNotNil(superseding.supersedes)
        let waiting = try XCTUnwrap(action(try plan([path: text, "groups/g/runs/r.yaml": changed + "\nonChange: wait\n"]), "g/r"))
        XCTAssertEqual(waiting.action, .poll)
        XCTAssertTrue(waiting.reason.contains("onChange: wait"))
    }

    func testDeletedSpecCancelsWhenRunningAndPrunesWhenFinished() throws {
        let (path, text) = try status(for: "g/r", phase: .running)
        var p = try plan([path: text, "groups/g/runs/r.yaml": nil, "groups/g/evals/e.yaml": nil])
        XCTAssertEqual(action(p, "g/r")?.action, .cancel)
        let (path2, text2) = try status(for: "g/r", phase: .succeeded)
        p = try plan([path2: text2, "groups/g/runs/r.yaml": nil, "groups/g/evals/e.yaml": nil])
        XCTAssertEqual(action(p, "g/r")?.action, .prune)
    }

    func testInvalidSpecIsNeverCancelledOrPruned() throws {
        let (path, text) = try status(for: "g/r", phase: .running)
        let l = try load([path: text, "groups/g/runs/r.yaml": "kind: Run\nbaseModel: [oops\n"])
        XCTAssertFalse(l.isValid)
        let p = Planner(l, now: now).plan()
        XCTAssertNil(action(p, "g/r"), "an invalid run is reported, not acted on")
    }

    /// A status that does not decode may record a job that ran: its object is blocked ("unreadable
    /// status"), never created again; the eval on it waits; other objects are planned as usual.
    func testUndecodableStatusBlocksItsObjectInsteadOfCreatingIt() throws {
        let (path, text) = try status(for: "g/r", phase: .succeeded)
        let other = "kind: Run\nbaseModel: base@v1\ntrainDataset: train@v1\nhandler: python other.py\n"
        for broken in [text.replacingOccurrences(of: "phase: Succeeded", with: "phase: succeeded"), "",
                       text.replacingOccurrences(of: "\nid: ", with: "\nx-id: "), "kind: RunStatus\nphase: [\n"] {
            let l = try load([path: broken, "groups/g/runs/other.yaml": other])
            XCTAssertFalse(l.isValid)
            XCTAssertTrue(l.errors.allSatisfy { $0.path == path }, l.errors.map(\.headline).joined(separator: "\n"))
            let p = Planner(l, now: now).plan()
            XCTAssertEqual(action(p, "g/r")?.action, .blocked, broken)
            XCTAssertTrue(action(p, "g/r")?.reason.hasPrefix("unreadable status: \(path) does not decode") == true, action(p, "g/r")?.reason ?? "")
            XCTAssertEqual(action(p, "g/e")?.action, .blocked)
            XCTAssertEqual(action(p, "g/other")?.action, .create, "the other objects proceed")
            XCTAssertFalse(p.actions.contains { $0.action == .prune || $0.action == .cancel })
        }
    }

    func testAutoReleasePassedCancelsTheEval() throws {
        let (rp, rt) = try status(for: "g/r", phase: .succeeded)
        let (ep, et) = try status(for: "g/e", phase: .running, in: [rp: rt]) { s in
            s.eval?.autoRelease = 1800
            s.releaseAt = Timestamp.string(self.now.addingTimeInterval(-1))
        }
        let a = try XCTUnwrap(action(try plan([rp: rt, ep: et]), "g/e"))
        XCTAssertEqual(a.action, .cancel)
        XCTAssertTrue(a.reason.contains("auto-release"), a.reason)
    }

    /// A rerun that made the model an existing version holds (same sha256) publishes nothing; another model
    /// publishes the next version. The JSON says which.
    func testPublishOncePerDistinctModel() throws {
        let run = files["groups/g/runs/r.yaml"]! + "\npublish: {model: bot, as: new}\n"
        let v1 = "kind: ModelVersion\nuri: store://sha256/\(PlannerTests.sha2)/m.npz\nsha256: \(PlannerTests.sha2)\npublishedFrom: g/r\n"
        let extra: [String: String?] = ["groups/g/runs/r.yaml": run, "models/bot/v1.yaml": v1]
        let (path, same) = try status(for: "g/r", phase: .succeeded, in: extra, attempt: 2)
        var all = extra; all[path] = same
        let a = try XCTUnwrap(action(try plan(all), "g/r"))
        XCTAssertEqual(a.action, .publish)
        XCTAssertNil(a.publishAs)
        XCTAssertEqual(a.alreadyPublished?.description, "bot@v1")
        XCTAssertTrue(PlanViews.json(try plan(all)).canonicalJSON.contains("\"alreadyPublished\":\"bot@v1\""))
        let (_, other) = try status(for: "g/r", phase: .succeeded, in: extra, attempt: 2) {
            $0.run?.model = ModelOutput(name: "r", version: "draft-2", uri: "store://sha256/\(PlannerTests.sha1)/m.npz", sha256: PlannerTests.sha1)
        }
        all[path] = other
        let b = try XCTUnwrap(action(try plan(all), "g/r"))
        XCTAssertEqual(b.publishAs?.description, "bot@v2")
        XCTAssertNil(b.alreadyPublished)
    }

    func testPublishAfterSuccessThenNothing() throws {
        let run = files["groups/g/runs/r.yaml"]! + "\npublish: {model: bot, as: new}\n"
        let (path, text) = try status(for: "g/r", phase: .succeeded, in: ["groups/g/runs/r.yaml": run])
        let a = try XCTUnwrap(action(try plan([path: text, "groups/g/runs/r.yaml": run]), "g/r"))
        XCTAssertEqual(a.action, .publish)
        XCTAssertEqual(a.publishAs?.description, "bot@v1")
        let (_, published) = try status(for: "g/r", phase: .succeeded, in: ["groups/g/runs/r.yaml": run]) { $0.run?.publishedAs = "bot@v1" }
        XCTAssertEqual(action(try plan([path: published, "groups/g/runs/r.yaml": run]), "g/r")?.action, .noop)
    }

    /// Off `publishBranch` (a pull request's branch) a publish waits for the merge: shown, never a change.
    func testPublishIsDeferredOffThePublishBranch() throws {
        let run = files["groups/g/runs/r.yaml"]! + "\npublish: {model: bot, as: new}\n"
        let l = try load(["groups/g/runs/r.yaml": run])
        let feature = PublishScope.of(branch: "feature", project: l.desired.project)
        XCTAssertEqual(feature, .deferred(branch: "feature", publishBranch: "main"))
        XCTAssertEqual(PublishScope.of(branch: "main", project: l.desired.project), .publishes)
        let create = try XCTUnwrap(action(Planner(l, now: now, publishing: feature).plan(), "g/r"))
        XCTAssertEqual(create.action, .create)
        XCTAssertEqual(create.reason, "new run: never run; publishes into model bot when merged into main")

        let (path, text) = try status(for: "g/r", phase: .succeeded, in: ["groups/g/runs/r.yaml": run])
        let done = try load([path: text, "groups/g/runs/r.yaml": run])
        let p = Planner(done, now: now, publishing: feature).plan()
        let a = try XCTUnwrap(action(p, "g/r"))
        XCTAssertEqual(a.action, .deferred)
        XCTAssertEqual(a.reason, "succeeded; publishes into model bot when merged into main")
        XCTAssertNil(a.publishAs)
        XCTAssertEqual(PlanViews.summary(p), "1 to create, 1 to publish on merge, est. cost $0.00")
        XCTAssertEqual(action(Planner(done, now: now, publishing: .publishes).plan(), "g/r")?.action, .publish)

        // A chained run waits for a version only the merge publishes; a project whose publish branch is not main.
        let chained = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "base@v1", with: "bot@v1")
        let c = Planner(try load(["groups/g/runs/r.yaml": run, "groups/g/runs/r2.yaml": chained]), now: now, publishing: feature).plan()
        XCTAssertTrue(action(c, "g/r2")!.reason.contains("bot@v1, which g/r will publish when merged into main"), action(c, "g/r2")!.reason)
        let trunk = try load(["hone.yaml": files["hone.yaml"]! + "\npublishBranch: trunk\n"])
        XCTAssertEqual(PublishScope.of(branch: "trunk", project: trunk.desired.project), .publishes)
        XCTAssertEqual(PublishScope.of(branch: "main", project: trunk.desired.project), .deferred(branch: "main", publishBranch: "trunk"))
        XCTAssertEqual(PublishScope.of(branch: nil, project: trunk.desired.project), .deferred(branch: nil, publishBranch: "trunk"))
    }

    func testPublishBranchMustBeABranchName() throws {
        for bad in ["\"refs/heads/main\"", "\"a..b\"", "\"-x\"", "\"has space\"", "[main]"] {
            let l = try load(["hone.yaml": files["hone.yaml"]! + "\npublishBranch: \(bad)\n"])
            XCTAssertTrue(l.errors.contains { $0.path == "hone.yaml" && $0.message.contains("publishBranch") }, "\(bad): \(l.errors.map(\.description))")
        }
    }

    /// A rerun says what changed against the recorded attempt (after a merge whose base moved, say).
    func testRerunReasonNamesWhatChanged() throws {
        let spec = try XCTUnwrap(try load().desired.runs.values.first)
        let (path, text) = try status(for: "g/r", phase: .succeeded) { s in
            s.handler = spec.handler; s.params = spec.params; s.run?.baseModel = "base@v1"; s.run?.trainDataset = "train@v1"; s.runtime = "py@v1"
        }
        let changed = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.2")
            .replacingOccurrences(of: "trainDataset: train@v1", with: "trainDataset: test@v1")
        let a = try XCTUnwrap(action(try plan([path: text, "groups/g/runs/r.yaml": changed]), "g/r"))
        XCTAssertEqual(a.reason, "spec changed (trainDataset train@v1 → test@v1, params.lr 0.1 → 0.2) since attempt 1 (Succeeded)")
    }

    func testChainedFineTuneWaitsForThePublish() throws {
        let run = files["groups/g/runs/r.yaml"]! + "\npublish: {model: bot, as: new}\n"
        let chained = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "base@v1", with: "bot@v1")
        let p = try plan(["groups/g/runs/r.yaml": run, "groups/g/runs/r2.yaml": chained])
        let a = try XCTUnwrap(action(p, "g/r2"))
        XCTAssertEqual(a.action, .blocked)
        XCTAssertTrue(a.reason.contains("bot@v1, which g/r will publish"), a.reason)
    }

    func testCycleIsAnErrorNamingTheCycle() throws {
        let a = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "base@v1", with: "m2@v1") + "\npublish: {model: m1, as: new}\n"
        let b = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "base@v1", with: "m1@v1") + "\npublish: {model: m2, as: new}\n"
        let p = try plan(["groups/g/runs/r.yaml": a, "groups/g/runs/s.yaml": b])
        XCTAssertEqual(p.errors.count, 1)
        XCTAssertTrue(p.errors[0].message.contains("dependency cycle: g/r → g/s → g/r"), p.errors[0].message)
        // Made by the pure planner with its place: the `kind:` of the first run (from the spec's marks).
        XCTAssertEqual([p.errors[0].path, "\(p.errors[0].line):\(p.errors[0].column)"], ["groups/g/runs/r.yaml", "1:7"])
        XCTAssertEqual(action(p, "g/r")?.action, .blocked)
    }

    func testTamperedVersionDigestIsAnErrorNotARerun() throws {
        let (path, text) = try status(for: "g/r", phase: .succeeded)
        let tampered = "kind: DatasetVersion\nuri: train.txt\nsha256: \(PlannerTests.sha2)\n"
        let p = try plan([path: text, "datasets/train/v1.yaml": tampered])
        XCTAssertEqual(action(p, "g/r")?.action, .blocked)
        let e = try XCTUnwrap(p.errors.first)
        XCTAssertTrue(e.message.contains("versions are immutable"), e.message)
        XCTAssertTrue(e.message.contains(PlannerTests.sha1) && e.message.contains(PlannerTests.sha2), "both digests shown")
        XCTAssertEqual([e.path, "\(e.line):\(e.column)"], ["datasets/train/v1.yaml", "3:9"], "at the sha256 value, from the planner itself")
    }

    func testCostEstimates() throws {
        let gpuRun = files["groups/g/runs/r.yaml"]! + "\npool: gpu\n"
        let cloudRun = files["groups/g/runs/r.yaml"]! + "\npool: cloud\n"
        let gpuEval = "kind: Eval\nmodel: base@v1\ndataset: test@v1\nhandler: h\npool: gpu\nautoRelease: 30m\n"
        let p = try plan(["groups/g/runs/r.yaml": gpuRun, "groups/g/runs/c.yaml": cloudRun, "groups/g/evals/x.yaml": gpuEval])
        XCTAssertEqual(action(p, "g/r")?.costEstimate, 10.0)          // 2.5 × maxHours 4
        XCTAssertNil(action(p, "g/c")?.costEstimate)                  // no maxHours: unknown
        XCTAssertEqual(action(p, "g/x")?.costEstimate, 1.25)          // 2.5 × 30 min
        XCTAssertEqual(p.estimatedCost, 11.25)
        XCTAssertTrue(PlanViews.summary(p).contains("est. cost $11.25 + 1 of unknown cost"), PlanViews.summary(p))
    }

    func testJSONHasTheContractShape() throws {
        let json = PlanViews.json(try plan())
        let actions = try XCTUnwrap(json["actions"]?.arrayValue)
        let first = try XCTUnwrap(actions.first { $0["object"]?.stringValue == "groups/g/runs/r" })
        XCTAssertEqual(first["kind"], .string("Run"))
        XCTAssertEqual(first["action"], .string("create"))
        XCTAssertNotNil(first["reason"]?.stringValue)
        XCTAssertEqual(json["errors"], .array([]))
        XCTAssertEqual(json["estimatedCost"], .double(0))
    }

    func testMarkdownStaysUnderTheCommentLimit() throws {
        var extra: [String: String?] = [:]
        for i in 0..<2500 {
            extra["groups/g/runs/run-\(i).yaml"] = files["groups/g/runs/r.yaml"]!.replacingOccurrences(of: "lr: 0.1", with: "lr: 0.\(i)1")
        }
        let md = PlanViews.markdown(try plan(extra))
        XCTAssertLessThanOrEqual(md.count, PlanViews.markdownLimit)
        XCTAssertTrue(md.contains("2501 to create"))
        XCTAssertTrue(md.contains("<details>"))
        XCTAssertTrue(md.contains("left out"), "says how much was cut")
    }
}

/// The Playground kind in the planner: it waits for a run's draft like an eval, restarts on a change of
/// what it serves, and is released by time, by idleness, or by deleting its spec.
extension PlannerTests {
    var fromRunPlayground: String { "kind: Playground\nfromRun: r\nhandler: serve\n" }
    var servedPlayground: String { "kind: Playground\nmodel: base@v1\nhandler: serve\nidleRelease: 10m\n" }

    func testAPlaygroundOnARunsDraftIsBlockedUntilTheRunSucceeded() throws {
        let p = try plan(["groups/g/playgrounds/try.yaml": fromRunPlayground])
        let a = try XCTUnwrap(action(p, "g/try"))
        XCTAssertEqual(a.action, .blocked)
        XCTAssertTrue(a.reason.contains("waits for run g/r"), a.reason)
        XCTAssertEqual(a.kindName, "Playground")
        let (path, text) = try status(for: "g/r", phase: .succeeded)
        let after = try XCTUnwrap(action(try plan([path: text, "groups/g/playgrounds/try.yaml": fromRunPlayground]), "g/try"))
        XCTAssertEqual(after.action, .create, after.reason)
        XCTAssertEqual(after.inputs["runs/g/r"], PlannerTests.sha2, "the draft's digest is an input")
    }

    func testAChangedPlaygroundRestartsAndAnIdleOrDeletedOneIsStopped() throws {
        let spec = "groups/g/playgrounds/try.yaml"
        let (path, running) = try status(for: "g/try", phase: .running, in: [spec: servedPlayground]) { s in
            s.startedAt = Timestamp.string(self.now.addingTimeInterval(-60))
            s.playground?.idleRelease = 600
            s.playground?.lastRequestAt = Timestamp.string(self.now.addingTimeInterval(-30))
        }
        XCTAssertEqual(action(try plan([path: running, spec: servedPlayground]), "g/try")?.action, .poll)
        let changed = servedPlayground.replacingOccurrences(of: "handler: serve", with: "handler: serve\nparams: {temperature: 0}")
        let restart = try XCTUnwrap(action(try plan([path: running, spec: changed]), "g/try"))
        XCTAssertEqual(restart.action, .rerun)
        XCTAssertNotNil(restart.supersedes, "the running server is stopped first: \(restart.reason)")
        let (_, idle) = try status(for: "g/try", phase: .running, in: [spec: servedPlayground]) { s in
            s.startedAt = Timestamp.string(self.now.addingTimeInterval(-3600))
            s.playground?.idleRelease = 600
            s.playground?.lastRequestAt = Timestamp.string(self.now.addingTimeInterval(-601))
        }
        let released = try XCTUnwrap(action(try plan([path: idle, spec: servedPlayground]), "g/try"))
        XCTAssertEqual(released.action, .cancel)
        XCTAssertTrue(released.reason.hasPrefix("idle-release"), released.reason)
        let deleted = try XCTUnwrap(action(try plan([path: running]), "g/try"))
        XCTAssertEqual(deleted.action, .cancel)
        XCTAssertTrue(deleted.reason.contains("spec deleted"), deleted.reason)
    }
}
