import Foundation
import XCTest
import Git
import HoneModel
import YAML
@testable import HoneLoading

final class StatusCodecTests: XCTestCase {
    let runKey = ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")
    let evalKey = ObjectKey(scope: .evaluations, kind: .eval, name: "base")

    func sampleRun() -> ObjectStatus {
        var s = ObjectStatus(key: runKey, id: "0123", phase: .succeeded, pool: "local", handler: "python train.py --flag yes", attempt: 2, specDigest: String(repeating: "1", count: 64))
        s.rerun = 1
        s.specCommit = "abc1234"
        s.createdAt = "2026-01-31T12:00:00Z"
        s.startedAt = "2026-01-31T12:00:01Z"
        s.finishedAt = "2026-01-31T12:01:00Z"
        s.durationSeconds = 59
        s.owner = "no"
        s.params = ["epochs": .int(3), "lr": .double(0.003), "flag": .bool(true), "name": .string("yes"), "none": .null,
                    "list": .array([.int(1), .string("0123")]), "nested": .object(["a": .string("1e3")])]
        s.cost = 0.25
        s.metrics = ["accuracy": .double(0.5), "loss": .double(1e-5)]
        s.inputs = ["models/tiny-char/v1": String(repeating: "a", count: 64)]
        s.run?.model = ModelOutput(name: "draft", version: "0001", uri: "store://x", sha256: String(repeating: "b", count: 64), published: false)
        s.run?.baseModel = "tiny-char@v1"
        s.run?.trainDataset = "tickets@v3"
        s.runtime = "numpy@v1"
        s.tasks = [TaskStatus(name: "train", phase: .succeeded, executorId: "12345", startedAt: "2026-01-31T12:00:01Z", finishedAt: "2026-01-31T12:01:00Z", exitCode: 0, log: "status/groups/support/runs/lora-r8/train.log")]
        s.events = [StatusEvent(at: "2026-01-31T12:00:00Z", reason: "Created", message: "launched: yes"),
                    StatusEvent(at: "2026-01-31T12:01:00Z", type: .warning, reason: "Retried", message: "on", task: "train")]
        return s
    }

    func roundTrip(_ s: ObjectStatus, file: StaticString = #filePath, line: UInt = #line) throws {
        let text = try YAMLEmitter.emit(StatusCodec.encode(s))
        let path = s.key.statusPath
        let (decoded, diagnostics) = StatusCodec.decode(s.key, text: text, path: path)
        XCTAssertEqual(diagnostics, [], text, file: file, line: line)
        XCTAssertEqual(decoded, s, text, file: file, line: line)
    }

    func testRunStatusRoundTrip() throws { try roundTrip(sampleRun()) }

    func testEvalStatusRoundTrip() throws {
        var s = ObjectStatus(key: evalKey, id: "e-1", phase: .cancelled, pool: "gpu", handler: "python e.py", attempt: 1, specDigest: "d")
        s.eval?.model = "support-bot@v1"
        s.eval?.dataset = "tickets-test@v1"
        s.eval?.autoRelease = 3600
        s.releaseAt = "2026-01-31T13:00:00Z"
        s.eval?.debugEnabled = true
        s.eval?.debugWorkdir = "/tmp/x"
        s.eval?.resultsPath = "status/evaluations/base/results.jsonl"
        s.eval?.resultsRows = 12
        s.events = [StatusEvent(at: "2026-01-31T13:00:00Z", type: .warning, reason: "AutoReleased", message: "released")]
        try roundTrip(s)
        s.eval?.autoRelease = nil
        try roundTrip(s)
    }

    func testMinimalStatusRoundTrip() throws {
        try roundTrip(ObjectStatus(key: runKey, id: "x", phase: .pending, pool: "local", handler: "h", attempt: 0, specDigest: "d"))
    }

    func testCorruptedStatusNamesPathAndLine() throws {
        let path = runKey.statusPath
        var (s, d) = StatusCodec.decode(runKey, text: "kind: RunStatus\nid: x\nphase: Runing\nspecDigest: d\n", path: path)
        XCTAssertNil(s)
        XCTAssertEqual(d.count, 1)
        XCTAssertEqual(d.first?.path, path)
        XCTAssertEqual(d.first?.line, 3)
        XCTAssertEqual(d.first?.column, 8)
        XCTAssertTrue(d.first?.message.contains("did you mean \"Running\"") ?? false, d.first?.message ?? "")

        (s, d) = StatusCodec.decode(runKey, text: "kind: RunStatus\nid: x\nphase: Running\nspecDigest: d\ntasks: {a: 1}\n", path: path)
        XCTAssertNil(s)
        XCTAssertEqual(d.map(\.line), [5])

        (s, d) = StatusCodec.decode(runKey, text: "kind: RunStatus\nid: 'x\n", path: path)
        XCTAssertNil(s)
        XCTAssertEqual(d.map(\.line), [2])
        XCTAssertEqual(d.first?.path, path)

        (s, d) = StatusCodec.decode(runKey, text: "kind: EvalStatus\nid: x\n", path: path)
        XCTAssertNil(s)
        XCTAssertEqual(d.map(\.line), [1])
    }

    func testCorruptedStatusInARepositoryIsReportedAndTheSpecStillLoads() throws {
        var files = validRepository
        files["status/groups/support/runs/lora-r8.yaml"] = "kind: RunStatus\nid: x\nphase: Running\nspecDigest: d\nattempt: many\n"
        files["status/groups/support/evals/bot-test.yaml"] = try YAMLEmitter.emit(StatusCodec.encode(
            ObjectStatus(key: ObjectKey(scope: .group("support"), kind: .eval, name: "bot-test"), id: "i", phase: .running, pool: "local", handler: "h", attempt: 1, specDigest: "d")))
        files["status/groups/support/runs/lora-r8/train.log"] = "log\n"
        let r = load(files)
        XCTAssertEqual(r.errors.map(\.headline), ["status/groups/support/runs/lora-r8.yaml:5:10: error: \"attempt\" must be a whole number, found a string"])
        XCTAssertEqual(r.desired.runs.count, 1)
        XCTAssertEqual(r.recorded.statuses.count, 1)
    }
}

final class SourceTests: XCTestCase {
    /// The same repository read from the working tree and from its commit gives the same result.
    func testCommitSourceMatchesWorkingTree() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var files = validRepository
        files["groups/support/runs/broken.yaml"] = "kind: Run\nbaseModel: tiny-char@v7\ntrainDataset: tickets@v3\nhandler: h\npool: gpuu\n"
        files["groups/support/notes.md"] = "notes"
        files["groups/support/runs/.gitkeep"] = ""
        files["handlers/train.py"] = "print(1)\n"
        files["status/groups/support/runs/lora-r8.yaml"] = try YAMLEmitter.emit(StatusCodec.encode(
            ObjectStatus(key: ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8"), id: "i", phase: .running, pool: "local", handler: "h", attempt: 1, specDigest: "d")))
        try commitFixture(files, in: dir)

        let tree = try Loader(source: WorkingTreeSource(root: dir)).load()
        let repo = try Repository.open(dir.path)
        let head = try repo.resolve("HEAD")
        let commit = try Loader(source: CommitSource(repository: repo, commit: head)).load()

        XCTAssertEqual(tree.files, commit.files)
        XCTAssertEqual(tree.diagnostics, commit.diagnostics)
        XCTAssertEqual(tree.diagnostics.count, 3, tree.diagnostics.map(\.headline).joined(separator: "\n"))
        XCTAssertEqual(tree.desired.project, commit.desired.project)
        XCTAssertEqual(tree.desired.versions, commit.desired.versions)
        XCTAssertEqual(tree.desired.groups, commit.desired.groups)
        XCTAssertEqual(tree.desired.runs, commit.desired.runs)
        XCTAssertEqual(tree.desired.evals, commit.desired.evals)
        XCTAssertEqual(tree.desired.views, commit.desired.views)
        XCTAssertEqual(tree.recorded.statuses, commit.recorded.statuses)
        XCTAssertEqual(tree.invalidObjects, commit.invalidObjects)
        XCTAssertEqual(tree.desired.runs.count, 1)
        XCTAssertFalse(tree.files.contains("handlers/train.py"))
        XCTAssertFalse(tree.files.contains("groups/support/runs/.gitkeep"))

        // An uncommitted edit shows in the working tree only.
        try Data("kind: Run\n".utf8).write(to: dir.appendingPathComponent("groups/support/runs/lora-r8.yaml"))
        let edited = try Loader(source: WorkingTreeSource(root: dir)).load()
        XCTAssertNotEqual(edited.diagnostics, commit.diagnostics)
        let again = try Loader(source: CommitSource(repository: repo, commit: head)).load()
        XCTAssertEqual(again.diagnostics, commit.diagnostics)
    }

    /// Past 64 files the loader reads, parses and decodes on every core, each worker through its own
    /// reader (a second libgit2 handle for commits): the result must be the same as file by file.
    func testManyFilesLoadTheSameFromTheWorkingTreeTheCommitAndMemory() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var files = validRepository
        files["t.py"] = "print('t')\n"
        // Folder names that sort differently as paths than as names ("a-b" < "a/" < "a0").
        for g in ["a", "a-b", "a0"] {
            files["groups/\(g)/group.yaml"] = "kind: Group\ndescription: \(g)\n"
            for i in 0..<40 {
                files["groups/\(g)/runs/r\(i).yaml"] = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: python t.py \(i)\nparams: {lr: 0.00\(i + 1), tags: [x, \"\(i)\"]}\n"
            }
        }
        files["groups/a/runs/r7.yaml"] = "kind: Run\nbaseModel: tiny-char@v9\ntrainDataset: tickets@v3\nhandler: h\n"          // missing version
        files["groups/a-b/runs/r3.yaml"] = "kind: Run\nbaseModel: fresh@v1\ntrainDataset: tickets@v3\nhandler: h\n"           // published by a0/r5
        files["groups/a0/runs/r5.yaml"] = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: h\npublish: {model: fresh, as: new}\n"
        files["groups/a0/runs/r9.yaml"] = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: h\napiKey: abc\n"  // literal secret
        files["groups/a0/runs/r11.yaml"] = "kind: Run\nbaseModel: [\n"                                                        // syntax error
        try commitFixture(files, in: dir)

        let tree = try Loader(source: WorkingTreeSource(root: dir)).load()
        let repo = try Repository.open(dir.path)
        let commit = try Loader(source: CommitSource(repository: repo, commit: try repo.resolve("HEAD"))).load()
        let memory = try Loader(source: MemorySource(files: files)).load()

        XCTAssertEqual(tree.files, tree.files.sorted(), "listed in path order")
        XCTAssertEqual(tree.files, files.keys.filter(Layout.isInLayout).sorted())
        for other in [commit, memory] {
            XCTAssertEqual(tree.files, other.files)
            XCTAssertEqual(tree.diagnostics, other.diagnostics)
            XCTAssertEqual(tree.desired.runs, other.desired.runs)
            XCTAssertEqual(tree.desired.evals, other.desired.evals)
            XCTAssertEqual(tree.invalidObjects, other.invalidObjects)
        }
        XCTAssertEqual(tree.diagnostics.map { "\($0.path):\($0.line)" }, [
            "groups/a/runs/r7.yaml:2", "groups/a0/runs/r11.yaml:2", "groups/a0/runs/r9.yaml:5",
        ], tree.diagnostics.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(tree.diagnostics[0].message.hasPrefix("model version tiny-char@v9 does not exist"))
        XCTAssertTrue(tree.diagnostics[2].message.hasPrefix("literal secret in \"apiKey\""))
        // 120 runs + lora-r8, less the three broken ones; the run on a version another run publishes is kept.
        XCTAssertEqual(tree.desired.runs.count, 118)
        XCTAssertNotNil(tree.desired.runs[ObjectKey(scope: .group("a-b"), kind: .run, name: "r3")])
        XCTAssertEqual(tree.desired.runs[ObjectKey(scope: .group("a"), kind: .run, name: "r12")]?.params["lr"], .double(0.0013))
        XCTAssertEqual(Set(tree.invalidObjects.map(\.display)), ["a/r7", "a0/r9", "a0/r11"])
    }

    /// Many versions and few runs: the first stage (versions) runs on every core while the second has
    /// too few files to: both must stay within the readers made for the load.
    func testManyVersionsAndFewRuns() throws {
        var files = validRepository
        for i in 0..<70 { files["models/m\(i)/v1.yaml"] = "kind: ModelVersion\nuri: m\(i).npz\nsha256: \(sha)\n" }
        files["models/m9/v2.yaml"] = "kind: ModelVersion\nuri: x\n"
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try commitFixture(files, in: dir)
        let repo = try Repository.open(dir.path)
        for source: FileSource in [WorkingTreeSource(root: dir), CommitSource(repository: repo, commit: try repo.resolve("HEAD")), MemorySource(files: files)] {
            let r = try Loader(source: source).load()
            XCTAssertEqual(r.desired.versions[.model]?.count, 72, source.label)
            XCTAssertEqual(r.diagnostics.map(\.headline), [#"models/m9/v2.yaml:1:1: error: missing required field "sha256""#], source.label)
            XCTAssertEqual(r.desired.runs.count, 1, source.label)
        }
    }

    /// Writes the files and commits them with the git CLI.
    func commitFixture(_ files: [String: String], in dir: URL) throws {
        try writeFiles(files, to: dir)
        try git(["init", "-q"], in: dir)
        try git(["add", "-A"], in: dir)
        try git(["commit", "-qm", "fixture"], in: dir)
    }

    /// The script a handler names is looked for in the tree being read: a script only in the working
    /// tree is missing from the commit (`--ref`), and a typo is missing from both, with a "did you mean".
    func testHandlerScriptsAreLookedForInTheTreeBeingRead() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var files = validRepository
        files["groups/support/runs/typo.yaml"] = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: python handlers/finetun.py\n"
        files["groups/support/runs/fresh.yaml"] = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: ./handlers/fresh.sh\n"
        try commitFixture(files, in: dir)
        try writeFiles(["handlers/fresh.sh": "echo fresh\n"], to: dir)  // written after the commit

        let repo = try Repository.open(dir.path)
        let commit = try Loader(source: CommitSource(repository: repo, commit: try repo.resolve("HEAD"))).load()
        let tree = try Loader(source: WorkingTreeSource(root: dir)).load()
        let typo = "groups/support/runs/typo.yaml:4:10: error: handler script \"handlers/finetun.py\" does not exist in the"
        XCTAssertEqual(tree.diagnostics.map(\.headline), [typo + " working tree (did you mean \"handlers/finetune.py\"?)"])
        let short = try repo.resolve("HEAD").short
        XCTAssertEqual(commit.diagnostics.map(\.headline), [
            "groups/support/runs/fresh.yaml:4:10: error: handler script \"handlers/fresh.sh\" does not exist in the commit \(short)",
            typo + " commit \(short) (did you mean \"handlers/finetune.py\"?)",
        ])
        XCTAssertEqual(Set(commit.invalidObjects.map(\.display)), ["support/fresh", "support/typo"])
        XCTAssertNotNil(tree.desired.runs[ObjectKey(scope: .group("support"), kind: .run, name: "fresh")])
    }

    /// Hidden files are skipped unless their name ends in .yaml (then they are read, and reported).
    func testMemorySourceListsTheLayoutOnly() throws {
        let s = MemorySource(files: ["hone.yaml": "", "handlers/x.py": "", "groups/g/.hidden.yaml": "", "groups/g/.gitkeep": "",
                                     "groups/g/group.yaml": "", "status/x": ""])
        XCTAssertEqual(try s.listFiles(), ["groups/g/.hidden.yaml", "groups/g/group.yaml", "hone.yaml", "status/x"])
    }
}
