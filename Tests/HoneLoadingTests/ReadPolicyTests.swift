import Foundation
import XCTest
import Git
import HoneModel
@testable import HoneLoading

/// One file-reading policy for the working tree and commits: regular files only, no link followed,
/// a size cap read with a bounded reader; hidden specs reported; recorded state that does not decode
/// is an error and its object is left alone.
final class ReadPolicyTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func link(_ path: String, to target: String) throws {
        let url = dir.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: target)
    }

    func commit() throws {
        try git(["init", "-q"], in: dir)
        try git(["add", "-A"], in: dir)
        try git(["commit", "-qm", "fixture"], in: dir)
    }

    func loadBoth() throws -> (tree: LoadResult, commit: LoadResult) {
        let tree = try Loader(source: WorkingTreeSource(root: dir)).load()
        let repo = try Repository.open(dir.path)
        let commit = try Loader(source: CommitSource(repository: repo, commit: try repo.resolve("HEAD"))).load()
        return (tree, commit)
    }

    let linkError = "symbolic link: hone reads regular files only (it never follows a link)"

    /// Links to /proc/self/environ and /dev/zero, a link to a spec inside the repository and a linked
    /// group folder: each an error naming the path, the same from the working tree and the commit, and
    /// nothing behind a link is read or planned.
    func testLinksAreRefusedInTheWorkingTreeAndTheCommitAlike() throws {
        try writeFiles(validRepository, to: dir)
        try link("groups/support/runs/environ.yaml", to: "/proc/self/environ")
        try link("groups/support/runs/zero.yaml", to: "/dev/zero")
        try link("groups/support/runs/twin.yaml", to: "lora-r8.yaml")
        let outside = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: outside) }
        try writeFiles(["group.yaml": "kind: Group\ndescription: elsewhere\n",
                        "runs/x.yaml": "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: h\n"], to: outside)
        try link("groups/linked", to: outside.path)
        try commit()

        let (tree, commit) = try loadBoth()
        for r in [tree, commit] {
            XCTAssertEqual(r.errors.map(\.headline), [
                "groups/linked: error: \(linkError)",
                "groups/support/runs/environ.yaml: error: \(linkError)",
                "groups/support/runs/twin.yaml: error: \(linkError)",
                "groups/support/runs/zero.yaml: error: \(linkError)",
            ])
            XCTAssertEqual(Set(r.desired.runs.keys.map(\.display)), ["support/lora-r8"], "nothing behind a link is planned")
            XCTAssertTrue(r.desired.groups["linked"] == nil)
            XCTAssertEqual(Set(r.invalidObjects.map(\.display)), ["support/environ", "support/twin", "support/zero"])
            XCTAssertTrue(r.files.contains("groups/support/runs/environ.yaml"), "a refused file counts as checked")
        }
        XCTAssertEqual(tree.diagnostics, commit.diagnostics, "plan (working tree) and reconcile (commit) agree")
        XCTAssertEqual(tree.files, commit.files)
    }

    /// A link in place of a status folder: the objects whose statuses it holds are left alone, not
    /// launched as if they had none.
    func testALinkedStatusFolderLeavesItsObjectsAlone() throws {
        try writeFiles(validRepository, to: dir)
        try link("status/groups/support", to: "/tmp")
        try commit()
        let (tree, commit) = try loadBoth()
        let key = ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")
        for r in [tree, commit] {
            XCTAssertEqual(r.errors.map(\.headline), ["status/groups/support: error: \(linkError)"])
            XCTAssertEqual(r.recorded.unreadable[key], "status/groups/support")
        }
    }

    /// A link in place of a whole top folder: refused the same way from both sources, and the
    /// recorded objects under it are invalid (left alone), never pruned as deleted.
    func testALinkedTopFolderIsRefusedFromBothSources() throws {
        var files = validRepository
        files["status/evaluations/base.yaml"] = "kind: EvalStatus\nobject: evaluations/base\nid: b-1\nphase: Succeeded\nattempt: 1\nspecDigest: d\npool: local\nhandler: h\n"
        let outside = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: outside) }
        for path in ["evaluations/base.yaml", "evaluations/views/all.yaml"] {
            try writeFiles([String(path.dropFirst("evaluations/".count)): files.removeValue(forKey: path)!], to: outside)
        }
        try writeFiles(files, to: dir)
        try link("evaluations", to: outside.path)
        try commit()
        let (tree, commit) = try loadBoth()
        let key = ObjectKey(scope: .evaluations, kind: .eval, name: "base")
        for r in [tree, commit] {
            XCTAssertEqual(r.errors.map(\.headline), ["evaluations: error: \(linkError)"])
            XCTAssertTrue(r.invalidObjects.contains(key), "recorded under a refused folder: invalid, not deleted")
            XCTAssertNil(r.desired.evals[key])
        }
        XCTAssertEqual(tree.diagnostics, commit.diagnostics)
    }

    /// A FIFO named like a spec is refused without being opened: loading ends (on a thread, with a
    /// deadline) instead of blocking on the pipe.
    func testAFIFONamedLikeASpecIsRefusedWithoutBlocking() throws {
        try writeFiles(validRepository, to: dir)
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("groups/support/runs/x.yaml").path, 0o644), 0)
        let source = WorkingTreeSource(root: dir)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: LoadResult?
        let root: URL = dir
        Thread.detachNewThread {
            result = try? Loader(source: WorkingTreeSource(root: root)).load()
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "loading blocked on a FIFO")
        let r = try XCTUnwrap(result)
        XCTAssertEqual(r.errors.map(\.headline), ["groups/support/runs/x.yaml: error: FIFO (named pipe): hone reads regular files only"])
        XCTAssertThrowsError(try source.read("groups/support/runs/x.yaml", limit: ReadLimit.specFile)) { error in
            XCTAssertEqual(error as? RefusedFile, RefusedFile(path: "groups/support/runs/x.yaml", reason: .fifo))
        }
    }

    /// A socket and (where the tests may make one) a device node named like specs are
    /// refused without being opened.
    func testSocketsAndDevicesAreRefused() throws {
        try writeFiles(validRepository, to: dir)
        let socketPath = dir.appendingPathComponent("groups/support/runs/s.yaml").path
        let bind = Process()
        bind.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        bind.arguments = ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", socketPath]
        try bind.run()
        bind.waitUntilExit()
        XCTAssertEqual(bind.terminationStatus, 0)
        var expected = ["groups/support/runs/s.yaml: error: socket: hone reads regular files only"]
        // /dev/zero's numbers (major 1, minor 5, as glibc encodes small ones): endless if it were read.
        // Only root with CAP_MKNOD may make one (not in every container): then the device is checked too.
        if mknod(dir.appendingPathComponent("groups/support/runs/d.yaml").path, S_IFCHR | 0o644, dev_t(1 << 8 | 5)) == 0 {
            expected.insert("groups/support/runs/d.yaml: error: device file: hone reads regular files only", at: 0)
        }
        let r = try Loader(source: WorkingTreeSource(root: dir)).load()
        XCTAssertEqual(r.errors.map(\.headline), expected)
    }

    /// A read through a linked folder is refused at the link, for every reader (attachments too).
    func testReadsNeverFollowALinkedFolder() throws {
        try writeFiles(validRepository, to: dir)
        let outside = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: outside) }
        try writeFiles(["runs/r/metrics.jsonl": "{}\n"], to: outside)
        try link("status/groups/g", to: outside.path)
        try commit()
        let repo = try Repository.open(dir.path)
        for source: FileSource in [WorkingTreeSource(root: dir), CommitSource(repository: repo, commit: try repo.resolve("HEAD"))] {
            XCTAssertThrowsError(try source.read("status/groups/g/runs/r/metrics.jsonl"), source.label) { error in
                XCTAssertEqual(error as? RefusedFile, RefusedFile(path: "status/groups/g", reason: .symbolicLink), source.label)
            }
        }
    }

    /// A spec over the cap (1 MiB) is an error, from either source; the neighbours still load.
    func testAFileOverTheSizeCapIsAnError() throws {
        var files = validRepository
        files["groups/support/runs/huge.yaml"] = "kind: Run\ndescription: \"" + String(repeating: "x", count: ReadLimit.specFile) + "\"\n"
        try writeFiles(files, to: dir)
        try commit()
        let (tree, commit) = try loadBoth()
        let memory = try Loader(source: MemorySource(files: files)).load()
        for r in [tree, commit, memory] {
            XCTAssertEqual(r.errors.map(\.headline), ["groups/support/runs/huge.yaml: error: file is larger than 1 MiB: hone reads spec and status files up to 1 MiB"])
            XCTAssertNotNil(r.desired.runs[ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")])
        }
    }

    /// The bounded reader stops one byte past the limit on an endless file (/dev/zero): memory never
    /// holds more than the limit, whatever the file's size says.
    func testTheBoundedReaderStopsOnAnEndlessFile() throws {
        let fd = open("/dev/zero", O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertThrowsError(try BoundedRead.bytes(of: fd, size: 0, limit: 4096, path: "z.yaml")) { error in
            XCTAssertEqual(error as? RefusedFile, RefusedFile(path: "z.yaml", reason: .tooLarge(limit: 4096)))
        }
        // A regular file that grew past its fstat size is read whole, up to the limit.
        let url = dir.appendingPathComponent("grown")
        try Data(String(repeating: "y", count: 10_000).utf8).write(to: url)
        let f = open(url.path, O_RDONLY)
        defer { close(f) }
        XCTAssertEqual(try BoundedRead.bytes(of: f, size: 10, limit: 1 << 20, path: "grown").count, 10_000)
    }

    /// Hidden files ending in .yaml are read and reported (layout.md), the same from both sources;
    /// other hidden files (`.gitkeep`) stay skipped silently.
    func testHiddenSpecsAreReportedNotSkipped() throws {
        var files = validRepository
        let run = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: h\n"
        files["groups/support/runs/.hidden.yaml"] = run
        files["groups/support/runs/..yaml"] = run
        files["groups/.secret/runs/x.yaml"] = run
        files["groups/support/runs/.gitkeep"] = ""
        try writeFiles(files, to: dir)
        try commit()
        let (tree, commit) = try loadBoth()
        let memory = try Loader(source: MemorySource(files: files)).load()
        let names = "names and versions match \(Names.pattern)"
        for r in [tree, commit, memory] {
            XCTAssertEqual(r.errors.map(\.headline), [
                "groups/.secret/runs/x.yaml: error: \".secret\" is not a valid name: \(names)",
                "groups/support/runs/..yaml: error: \".\" is not a valid name: \(names)",
                "groups/support/runs/.hidden.yaml: error: \".hidden\" is not a valid name: \(names)",
            ])
            XCTAssertFalse(r.files.contains("groups/support/runs/.gitkeep"))
        }
    }

    // MARK: Recorded state

    static let runKey = ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")

    /// A status that does not decode (a lowercase phase, empty, a syntax error, no `id:`) is an error
    /// naming the file and its object is marked unreadable — never "no status".
    func testAStatusThatDoesNotDecodeIsAnErrorAndMarkedUnreadable() throws {
        let path = Self.runKey.statusPath
        let good = "kind: RunStatus\nobject: support/lora-r8\nid: lora-r8-1-abc\nphase: Succeeded\nattempt: 1\nspecDigest: d\npool: local\nhandler: h\n"
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: "Succeeded", with: "succeeded"), "\(path):4:8: error: unknown phase \"succeeded\" (did you mean \"Succeeded\"?)"),
            ("", "\(path):1:1: error: file is empty: expected a mapping with kind: …"),
            ("kind: RunStatus\nphase: [Succeeded\n", "\(path):2:8: error: syntax error"),
            (good.replacingOccurrences(of: "id: lora-r8-1-abc\n", with: ""), "\(path):1:1: error: missing required field \"id\""),
        ]
        for (text, expected) in cases {
            var files = validRepository
            files[path] = text
            let r = load(files)
            XCTAssertEqual(r.errors.count, 1, "\(text): \(r.errors.map(\.headline))")
            XCTAssertTrue(r.errors.first?.headline.hasPrefix(expected) == true, "\(r.errors.map(\.headline)) should start with \(expected)")
            XCTAssertEqual(r.recorded.unreadable[Self.runKey], path, text)
            XCTAssertNil(r.recorded.statuses[Self.runKey])
            XCTAssertNotNil(r.desired.runs[Self.runKey], "the spec itself is fine")
        }
        // The same status, whole, decodes (the cases above fail for what they change only).
        var files = validRepository
        files[path] = good
        XCTAssertEqual(load(files).errors.map(\.headline), [])
        XCTAssertEqual(load(files).recorded.unreadable, [:])
    }

    // MARK: Values that change on the way

    /// Params reach the handler as JSON: what JSON cannot carry exactly is an error at validate.
    func testParamsJSONCannotCarryAreErrors() throws {
        let run = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: h\n"
        check(["groups/support/runs/n.yaml": run + "params: {patience: .inf, lr: .nan, steps: 99999999999999999999999, low: -.Inf, ok: 1.5e3, big: 9223372036854775807, s: \".inf\", deep: {xs: [1, 1e999]}}\n"], [
            Expect("groups/support/runs/n.yaml", 5, 20, "\"params.patience\": .inf is not a finite number and JSON (job.json) has none"),
            Expect("groups/support/runs/n.yaml", 5, 30, "\"params.lr\": .nan is not a finite number"),
            Expect("groups/support/runs/n.yaml", 5, 43, "\"params.steps\": 99999999999999999999999 does not fit in a 64-bit integer"),
            Expect("groups/support/runs/n.yaml", 5, 73, "\"params.low\": -.Inf is not a finite number"),
            Expect("groups/support/runs/n.yaml", 5, 143, "\"params.deep.xs[1]\": 1e999 is not a finite number"),
        ], invalid: [])
        check(["groups/support/evals/n.yaml": "kind: Eval\nmodel: tiny-char@v1\ndataset: tickets@v3\nhandler: h\nparams: {t: .inf}\n"], [
            Expect("groups/support/evals/n.yaml", 5, 13, "\"params.t\": .inf is not a finite number"),
        ])
    }

    /// Runtime env names must be variable names: anything else would be dropped when the job starts.
    func testRuntimeEnvNamesMustBeVariableNames() throws {
        check(["runtimes/numpy/v1.yaml": "kind: RuntimeVersion\nenv: {A-B: x, \"X=1; Y\": y, OK_1: z, _x: w, 9x: q}\n"], [
            Expect("runtimes/numpy/v1.yaml", 2, 7, "\"env\": \"A-B\" is not an environment variable name"),
            Expect("runtimes/numpy/v1.yaml", 2, 15, "\"env\": \"X=1; Y\" is not an environment variable name"),
            Expect("runtimes/numpy/v1.yaml", 2, 44, "\"env\": \"9x\" is not an environment variable name"),
        ], invalid: ["groups/support/runs/lora-r8.yaml", "groups/support/evals/lora-r8-test.yaml"])
    }
}
