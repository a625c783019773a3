import Foundation
import XCTest
import HoneTestSupport

/// Runs the built `hone` binary (like swift-argument-parser's example tests) and checks its exact
/// output and exit status.
final class ValidateTests: XCTestCase {
    struct Output { var status: Int32; var stdout: String; var stderr: String }


    @discardableResult
    func hone(_ args: String..., in dir: URL? = nil) throws -> Output { try hone(arguments: args, in: dir) }

    func hone(arguments args: [String], in dir: URL? = nil) throws -> Output {
        let binary = HoneBinary.url
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build first)")
        }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        if let dir { p.currentDirectoryURL = dir }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func git(_ args: String..., in dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-c", "user.name=Test", "-c", "user.email=t@example.com", "-c", "safe.directory=*"] + args
        p.currentDirectoryURL = dir
        p.standardOutput = Pipe(); p.standardError = Pipe()
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "git \(args)")
    }

    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hone-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ path: String, _ text: String) throws {
        let url = dir.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ path: String) throws -> String { try String(contentsOf: dir.appendingPathComponent(path), encoding: .utf8) }

    // MARK: init

    func testInitScaffoldsAValidRepository() throws {
        let repo = dir.appendingPathComponent("acme")
        let r = try hone("init", repo.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
        created .git (a new git repository on branch main)
        created hone.yaml
        created .gitignore
        created groups/default/group.yaml

        """)
        let v = try hone("validate", "-C", repo.path)
        XCTAssertEqual(v.status, 0, v.stdout + v.stderr)
        XCTAssertEqual(v.stdout, "valid: 2 files checked\n")
        let again = try hone("init", repo.path)
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(again.stdout, "nothing to do: \(repo.path) is already a hone repository\n")
        // The scaffold, committed, validates at HEAD too.
        try git("add", "-A", in: repo)
        try git("commit", "-qm", "init", in: repo)
        let atHead = try hone("validate", "-C", repo.path, "--ref", "HEAD")
        XCTAssertEqual(atHead.status, 0, atHead.stdout + atHead.stderr)
        XCTAssertEqual(atHead.stdout, "valid: 2 files checked\n")
    }

    // MARK: validate

    func brokenRepository() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "support")
        try write("models/tiny/v1.yaml", "kind: ModelVersion\nuri: x.npz\nsha256: \(String(repeating: "0", count: 64))\n")
        try write("datasets/tickets/v1.yaml", "kind: DatasetVersion\nuri: t.jsonl\nsha256: \(String(repeating: "1", count: 64))\n")
        try write("groups/support/runs/good.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: tickets@v1\nhandler: python t.py\n")
        try write("groups/support/runs/bad.yaml", "kind: Run\nbaseModel: tiny@v2\ntrainDataset: tickets@v1\nhandlr: python t.py\n")
        try write("groups/support/evals/e.yaml", "kind: Eval\nfromRun: goood\nhandler: h\ndataset: tickets@v1\ndebug: {password: hunter2}\n")
        try write("groups/support/notes.md", "notes\n")
        try write("t.py", "print('t')\n")
    }

    let brokenText = """
    groups/support/evals/e.yaml:2:10: error: fromRun: run "goood" does not exist in groups/support (did you mean "good"?)
        fromRun: goood
                 ^
    groups/support/evals/e.yaml:5:9: error: literal secret in "debug.password": secrets never go into git: name an environment variable instead (for debug mode: `passwordEnv: HONE_DEBUG_PASSWORD`) and set it where hone runs
        debug: {password: ***}
                ^
    groups/support/notes.md: warning: file is not part of the hone layout and is ignored (see specs/layout.md)
    groups/support/runs/bad.yaml:2:12: error: model version tiny@v2 does not exist: no models/tiny/v2.yaml (did you mean "tiny@v1"?)
        baseModel: tiny@v2
                   ^
    groups/support/runs/bad.yaml:4:1: error: unknown field "handlr" (did you mean "handler"?)
        handlr: python t.py
        ^
    4 errors, 1 warning in 3 files (8 checked)

    """

    /// A typo in the script a handler names is caught by validate (exit 1, at the handler, with a "did
    /// you mean"), in the working tree and in the commit `--ref` names; plan refuses nothing else.
    func testValidateChecksTheScriptAHandlerNames() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "support")
        try write("models/tiny/v1.yaml", "kind: ModelVersion\nuri: x.npz\nsha256: \(String(repeating: "0", count: 64))\n")
        try write("datasets/tickets/v1.yaml", "kind: DatasetVersion\nuri: t.jsonl\nsha256: \(String(repeating: "1", count: 64))\n")
        try write("handlers/finetune.py", "print('train')\n")
        try write("groups/support/runs/r.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: tickets@v1\nhandler: python handlers/finetun.py\n")
        try write("groups/support/runs/module.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: tickets@v1\nhandler: python -m handlers.finetun\n")
        let typo = try hone("validate", in: dir)
        XCTAssertEqual(typo.status, 1, typo.stdout + typo.stderr)
        XCTAssertTrue(typo.stdout.hasPrefix("""
            groups/support/runs/r.yaml:4:10: error: handler script "handlers/finetun.py" does not exist in the working tree (did you mean "handlers/finetune.py"?)
                handler: python handlers/finetun.py
                         ^
            1 error in 1 file
            """), typo.stdout)
        // Committed with the typo, fixed in the working tree only: --ref HEAD still has it.
        try git("add", "-A", in: dir)
        try git("commit", "-qm", "typo", in: dir)
        try write("groups/support/runs/r.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: tickets@v1\nhandler: python handlers/finetune.py\n")
        XCTAssertEqual(try hone("validate", in: dir).status, 0)
        let head = try hone("validate", "-C", dir.path, "--ref", "HEAD")
        XCTAssertEqual(head.status, 1)
        XCTAssertTrue(head.stdout.contains("groups/support/runs/r.yaml:4:10: error: handler script \"handlers/finetun.py\" does not exist in the commit "), head.stdout)
        // A script only in the working tree is missing from the commit.
        try write("groups/support/runs/r.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: tickets@v1\nhandler: ./handlers/new.sh\n")
        try write("handlers/new.sh", "echo new\n")
        try git("add", "groups", in: dir)
        try git("commit", "-qm", "new handler, script not added", in: dir)
        XCTAssertEqual(try hone("validate", in: dir).status, 0)
        let missing = try hone("validate", "-C", dir.path, "--ref", "HEAD")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stdout.contains("error: handler script \"handlers/new.sh\" does not exist in the commit "), missing.stdout)
    }

    func testValidateBrokenRepository() throws {
        try brokenRepository()
        let r = try hone("validate", in: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, brokenText)
    }

    func testValidateAtRefMatchesTheCommittedTree() throws {
        try brokenRepository()
        try git("add", "-A", in: dir)
        try git("commit", "-qm", "broken", in: dir)
        // Fix the working tree only: HEAD still has the problems.
        try write("groups/support/runs/bad.yaml", "kind: Run\nbaseModel: tiny@v1\ntrainDataset: tickets@v1\nhandler: python t.py\n")
        let head = try hone("validate", "-C", dir.path, "--ref", "HEAD")
        XCTAssertEqual(head.status, 1)
        XCTAssertEqual(head.stdout, brokenText)
        let tree = try hone("validate", "-C", dir.path)
        XCTAssertEqual(tree.status, 1)
        XCTAssertEqual(tree.stdout.split(separator: "\n").last, "2 errors, 1 warning in 2 files (8 checked)")
    }

    func testValidateJSON() throws {
        try brokenRepository()
        let r = try hone("validate", "--format", "json", in: dir)
        XCTAssertEqual(r.status, 1)
        let doc = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(doc["valid"] as? Bool, false)
        XCTAssertEqual(doc["files"] as? Int, 8)
        let errors = doc["errors"] as! [[String: Any]]
        XCTAssertEqual(errors.count, 4)
        XCTAssertEqual(errors[0]["path"] as? String, "groups/support/evals/e.yaml")
        XCTAssertEqual(errors[0]["line"] as? Int, 2)
        XCTAssertEqual(errors[0]["column"] as? Int, 10)
        XCTAssertEqual(errors.map { $0["line"] as? Int }, [2, 5, 2, 4])
        let warnings = doc["warnings"] as! [[String: Any]]
        XCTAssertEqual(warnings.count, 1)
        XCTAssertEqual(warnings[0]["path"] as? String, "groups/support/notes.md")
        XCTAssertEqual(r.stderr, "")
    }

    /// A literal password, and a password typed into passwordEnv, are never printed: not in validate's text
    /// or JSON, not in plan's text, markdown (the pull-request comment) or JSON.
    func testSecretsInSpecsAreNeverPrinted() throws {
        try brokenRepository()
        let typed = "hunter2-not-a-name!"
        try write("groups/support/evals/e2.yaml", "kind: Eval\nfromRun: good\nhandler: h\ndataset: tickets@v1\ndebug:\n  passwordEnv: \(typed)\n")
        try write("groups/support/evals/e3.yaml", "kind: Eval\nfromRun: good\nhandler: h\ndataset: tickets@v1\nparams: {token: {value: s3cr3t-in-a-map}, password: [s3cr3t-in-a-list]}\n")
        try git("add", "-A", in: dir)
        try git("commit", "-qm", "secrets", in: dir)
        var outputs: [Output] = []
        for format in ["text", "json"] { outputs.append(try hone("validate", "--format", format, in: dir)) }
        for format in ["text", "markdown", "json"] { outputs.append(try hone("plan", "--format", format, in: dir)) }
        for o in outputs {
            XCTAssertEqual(o.status, 1)
            for secret in ["hunter2", "s3cr3t-in-a-map", "s3cr3t-in-a-list"] {
                XCTAssertFalse((o.stdout + o.stderr).contains(secret), "\(secret) printed:\n\(o.stdout)\(o.stderr)")
            }
        }
        XCTAssertTrue(outputs[0].stdout.contains("\"debug.passwordEnv\" must name an environment variable"), outputs[0].stdout)
        XCTAssertTrue(outputs[0].stdout.contains("  passwordEnv: ***\n"), outputs[0].stdout)
        XCTAssertTrue(outputs[0].stdout.contains("literal secret in \"params.token\"") && outputs[0].stdout.contains("literal secret in \"params.password\""))
        XCTAssertTrue(outputs[3].stdout.contains("debug: {password: ***}"), outputs[3].stdout)
    }

    func testValidateWarningsOnlyExitsZero() throws {
        _ = try hone("init", dir.path)
        try write("groups/default/README.md", "hi")
        let r = try hone("validate", in: dir)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, """
        groups/default/README.md: warning: file is not part of the hone layout and is ignored (see specs/layout.md)
        valid: 3 files checked, 1 warning

        """)
    }

    func testValidateSyntaxErrorAndValidNeighbour() throws {
        _ = try hone("init", dir.path, "--group", "g")
        try write("groups/g/views/a.yaml", "kind: View\ncolumns: [name, phase\n")
        try write("groups/g/views/b.yaml", "kind: View\ndefault: true\n")
        let r = try hone("validate", in: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, """
        groups/g/views/a.yaml:2:10: error: syntax error: this [ is never closed (did not find expected ',' or ']' at the end of the file)
            columns: [name, phase
                     ^
        1 error in 1 file (4 checked)

        """)
    }

    func testValidateOutsideARepository() throws {
        let r = try hone("validate", "-C", dir.path)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("not inside a hone repository"), r.stderr)
    }

    // MARK: group

    func testGroupCreateAndEdit() throws {
        _ = try hone("init", dir.path)
        var r = try hone("group", "create", "support", "--description", "no", in: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "created groups/support/group.yaml\n")
        XCTAssertEqual(try read("groups/support/group.yaml"), "kind: Group\ndescription: \"no\"\n")

        r = try hone("group", "create", "support", "--description", "again", in: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("group \"support\" already exists"), r.stderr)

        try write("groups/support/group.yaml", "# Support tickets\nkind: Group\ndescription: old   # shown in listings\n")
        r = try hone("group", "edit", "support", "--description", "Support-ticket fine-tunes: v2", "-C", dir.path)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "updated groups/support/group.yaml\n")
        XCTAssertEqual(try read("groups/support/group.yaml"), "# Support tickets\nkind: Group\ndescription: \"Support-ticket fine-tunes: v2\"  # shown in listings\n")

        r = try hone("group", "edit", "nope", "--description", "x", in: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("group \"nope\" does not exist"), r.stderr)

        r = try hone("group", "create", "Bad_Name", "--description", "x", in: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("is not a valid name"), r.stderr)

        let v = try hone("validate", in: dir)
        XCTAssertEqual(v.status, 0, v.stdout)
        XCTAssertEqual(v.stdout, "valid: 3 files checked\n")
    }

    // MARK: hostile files (one read policy for the working tree and commits)

    /// `hone ARGS` with extra environment, killed and failed after `deadline` seconds: a command that
    /// blocks (on a FIFO, on an endless file) fails the test instead of hanging it. Output goes to
    /// files, so a child that writes much never blocks on a pipe.
    func hone(_ args: [String], env: [String: String] = [:], deadline: TimeInterval = 60,
              file: StaticString = #filePath, line: UInt = #line) throws -> Output {
        let binary = HoneBinary.url
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw XCTSkip("\(binary.path) is not built") }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = dir
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = dir.deletingLastPathComponent().appendingPathComponent("out-\(UUID().uuidString)")
        let err = out.appendingPathExtension("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let end = Date().addingTimeInterval(deadline)
        while p.isRunning && Date() < end { usleep(20_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTFail("hone \(args.joined(separator: " ")) did not end within \(Int(deadline)) s", file: file, line: line)
        }
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Every read command that prints diagnostics, in every format, from the working tree and the commit.
    static let diagnosticCommands: [[String]] = [
        ["validate"], ["validate", "--format", "json"], ["plan"], ["plan", "--format", "markdown"], ["plan", "--format", "json"],
        ["validate", "--ref", "HEAD"], ["plan", "--ref", "HEAD", "--format", "markdown"],
    ]

    let linkError = "symbolic link: hone reads regular files only (it never follows a link)"

    /// A committed link to /proc/self/environ must never print the environment (the PR comment and the
    /// CI log): a marker variable's value appears nowhere, in any format; the link is an error naming it.
    func testALinkToTheEnvironmentNeverPrintsIt() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "g")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("groups/g/runs"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("groups/g/runs/env.yaml").path,
                                                   withDestinationPath: "/proc/self/environ")
        try git("add", "-A", in: dir)
        try git("commit", "-qm", "hostile", in: dir)
        let marker = "marker-\(UUID().uuidString)"
        for args in ValidateTests.diagnosticCommands {
            let r = try hone(args, env: ["HONE_TEST_MARKER": marker])
            XCTAssertEqual(r.status, 1, "\(args): \(r.stdout)\(r.stderr)")
            XCTAssertFalse(r.stdout.contains(marker) || r.stderr.contains(marker), "\(args) printed the environment")
            XCTAssertTrue(r.stdout.contains("groups/g/runs/env.yaml") && r.stdout.contains("symbolic link"), "\(args): \(r.stdout)")
        }
        XCTAssertEqual(try hone(["validate"]).stdout, "groups/g/runs/env.yaml: error: \(linkError)\n1 error in 1 file (3 checked)\n")
    }

    /// Edit commands read a spec by the same policy: a linked group.yaml is refused, not read (nor
    /// printed, nor replaced).
    func testEditCommandsRefuseALinkedSpec() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "g")
        let groupFile = dir.appendingPathComponent("groups/g/group.yaml")
        try FileManager.default.removeItem(at: groupFile)
        try FileManager.default.createSymbolicLink(atPath: groupFile.path, withDestinationPath: "/proc/self/environ")
        let marker = "marker-\(UUID().uuidString)"
        let r = try hone(["group", "edit", "g", "--description", "x"], env: ["HONE_TEST_MARKER": marker])
        XCTAssertEqual(r.status, 1)
        XCTAssertFalse(r.stdout.contains(marker) || r.stderr.contains(marker), "the edit printed the environment")
        XCTAssertTrue(r.stderr.contains("cannot edit groups/g/group.yaml: \(linkError)"), r.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: groupFile.path), "/proc/self/environ", "the link is left as it was")
    }

    /// A FIFO named x.yaml: validate and plan end (within the deadline) with an error naming it.
    func testAFIFONamedLikeASpecDoesNotHang() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "g")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("groups/g/runs"), withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("groups/g/runs/x.yaml").path, 0o644), 0)
        for args in [["validate"], ["plan"], ["plan", "--format", "markdown"]] {
            let r = try hone(args, deadline: 30)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertTrue(r.stdout.contains("groups/g/runs/x.yaml: error: FIFO (named pipe): hone reads regular files only"), "\(args): \(r.stdout)")
        }
    }

    /// Links to endless devices are refused without a read: the commands end at once with an error.
    func testLinksToEndlessDevicesAreRefused() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "g")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("groups/g/runs"), withIntermediateDirectories: true)
        for (name, target) in [("zero", "/dev/zero"), ("random", "/dev/urandom")] {
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("groups/g/runs/\(name).yaml").path, withDestinationPath: target)
        }
        let r = try hone(["validate"], deadline: 30)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, """
            groups/g/runs/random.yaml: error: \(linkError)
            groups/g/runs/zero.yaml: error: \(linkError)
            2 errors in 2 files (4 checked)

            """)
    }

    /// A linked group folder is an error in the working tree (plan) exactly as in the commit
    /// (reconcile): never "valid, will create" on one side and never run on the other.
    func testALinkedGroupFolderIsTheSameErrorForPlanAndReconcile() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "g")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("groups/g/runs"), withIntermediateDirectories: true)
        try write("models/m/v1.yaml", "kind: ModelVersion\nuri: m.bin\nsha256: \(String(repeating: "0", count: 64))\n")
        try write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: d.txt\nsha256: \(String(repeating: "1", count: 64))\n")
        let outside = dir.deletingLastPathComponent().appendingPathComponent("outside-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createDirectory(at: outside.appendingPathComponent("runs"), withIntermediateDirectories: true)
        try Data("kind: Group\ndescription: x\n".utf8).write(to: outside.appendingPathComponent("group.yaml"))
        try Data("kind: Run\nbaseModel: m@v1\ntrainDataset: d@v1\nhandler: h\n".utf8).write(to: outside.appendingPathComponent("runs/r.yaml"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("groups/linked").path, withDestinationPath: outside.path)
        try git("add", "-A", in: dir)
        try git("commit", "-qm", "linked", in: dir)
        let tree = try hone(["plan"]), commit = try hone(["plan", "--ref", "HEAD"])
        XCTAssertEqual(tree.status, 1)
        XCTAssertEqual(tree.stdout, commit.stdout)
        XCTAssertEqual(tree.stdout, "groups/linked: error: \(linkError)\nnothing to do, est. cost $0.00, 1 error\n")
    }

    /// validate and plan share one code path: the same diagnostics and exit codes, for a status without
    /// `id:` (validate used to say valid) and for what only the planner finds (a dependency cycle).
    func testValidateReportsExactlyWhatPlanReports() throws {
        _ = try hone("init", dir.path, "--name", "acme", "--group", "g")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("groups/g/runs"), withIntermediateDirectories: true)
        try write("models/m/v1.yaml", "kind: ModelVersion\nuri: m.bin\nsha256: \(String(repeating: "0", count: 64))\n")
        try write("datasets/d/v1.yaml", "kind: DatasetVersion\nuri: d.txt\nsha256: \(String(repeating: "1", count: 64))\n")
        try write("groups/g/runs/a.yaml", "kind: Run\nbaseModel: nb@v1\ntrainDataset: d@v1\nhandler: h\npublish: {model: na, as: new}\n")
        try write("groups/g/runs/b.yaml", "kind: Run\nbaseModel: na@v1\ntrainDataset: d@v1\nhandler: h\npublish: {model: nb, as: new}\n")
        try write("groups/g/runs/c.yaml", "kind: Run\nbaseModel: m@v1\ntrainDataset: d@v1\nhandler: h\n")
        try write("status/groups/g/runs/c.yaml", "kind: RunStatus\nobject: g/c\nphase: Succeeded\nattempt: 1\nspecDigest: x\npool: local\nhandler: h\n")
        let validate = try hone(["validate"]), plan = try hone(["plan"])
        let expected = """
            groups/g/runs/a.yaml:1:7: error: dependency cycle: g/a → g/b → g/a (each waits for a model another publishes)
                kind: Run
                      ^
            status/groups/g/runs/c.yaml:1:1: error: missing required field "id"
                kind: RunStatus
                ^
            """
        XCTAssertEqual(validate.status, 1)
        XCTAssertEqual(plan.status, 1)
        XCTAssertEqual(validate.stdout, expected + "\n2 errors in 2 files (8 checked)\n")
        XCTAssertTrue(plan.stdout.hasPrefix(expected + "\n"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("! g/c  Run   blocked  unreadable status"), plan.stdout)
        let json = try hone(["validate", "--format", "json"]), planJSON = try hone(["plan", "--format", "json"])
        func errors(_ text: String) throws -> [String] {
            let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            return (doc?["errors"] as? [[String: Any]] ?? []).map { "\($0["path"] ?? ""):\($0["line"] ?? ""): \($0["message"] ?? "")" }
        }
        XCTAssertEqual(try errors(json.stdout).count, 2, json.stdout)
        XCTAssertEqual(try errors(json.stdout), try errors(planJSON.stdout))
    }
}
