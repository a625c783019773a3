import XCTest
import HoneModel
import YAML
@testable import HoneLoading

/// Every class of broken file gives exactly one clear diagnostic at the right place, and the valid
/// files beside it keep loading.
final class LoaderTests: XCTestCase {
    let run = "groups/support/runs/lora-r8.yaml"
    let evalPath = "groups/support/evals/lora-r8-test.yaml"
    let botEval = "groups/support/evals/bot-test.yaml"
    let viewPath = "groups/support/views/accuracy-first.yaml"

    func runFile(_ lines: String...) -> String {
        (["kind: Run", "baseModel: tiny-char@v1", "trainDataset: tickets@v3", "handler: python train.py"] + lines).joined(separator: "\n") + "\n"
    }
    func evalFile(_ lines: String...) -> String {
        (["kind: Eval", "handler: python eval.py", "dataset: tickets-test@v1"] + lines).joined(separator: "\n") + "\n"
    }

    // MARK: the valid repository

    func testValidRepositoryLoadsEverything() {
        let r = check([:], [])
        XCTAssertTrue(r.isValid)
        XCTAssertEqual(r.desired.project?.name, "acme")
        XCTAssertEqual(r.desired.project?.pools.keys.sorted(), ["gpu", "local"])
        XCTAssertEqual(r.desired.project?.defaultPool, "local")
        XCTAssertEqual(r.desired.runs.count, 1)
        XCTAssertEqual(r.desired.evals.count, 3)
        XCTAssertEqual(r.desired.views.count, 2)
        XCTAssertEqual(r.desired.groups["support"]?.description, "Support-ticket assistant fine-tunes")
        let runSpec = r.desired.runs.values.first!
        XCTAssertEqual(runSpec.baseModel, VersionRef(name: "tiny-char", version: "v1"))
        XCTAssertEqual(runSpec.params["lr"], .double(0.003))
        XCTAssertEqual(runSpec.params["epochs"], .int(3))
        XCTAssertEqual(runSpec.description, "rank-8 adapter, lr 3e-3")
        let e = r.desired.evals[ObjectKey(scope: .group("support"), kind: .eval, name: "lora-r8-test")]!
        XCTAssertEqual(e.fromRun, "lora-r8")
        XCTAssertEqual(e.autoRelease, 3600)
        let v = r.desired.views[ObjectKey(scope: .group("support"), kind: .view, name: "accuracy-first")]!
        XCTAssertEqual(v.filter.count, 3)
        XCTAssertEqual(v.pinned, ["name"])
        XCTAssertEqual(r.desired.versions[.runtime]?[VersionRef(name: "numpy", version: "v1")]?.env, ["OMP_NUM_THREADS": "1"])
    }

    // MARK: YAML-level problems

    func testSyntaxError() {
        let r = check([run: "kind: Run\ndescription: \"unterminated\nhandler: x\n"], [Expect(run, 2, 14, "quoted scalar")])
        XCTAssertTrue(r.invalidObjects.contains(ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")))
        XCTAssertNotNil(r.diagnostics.first?.sourceLine)
    }

    func testSyntaxErrorsInManyFilesAreAllReported() {
        check([run: "kind: Run\n  bad: indent\n", botEval: "kind: [Eval\n", viewPath: "kind: View\ncolumns: [name\n"], [
            Expect(run, 2, 6, "syntax error"),
            Expect(botEval, 1, 7, "never closed"),
            Expect(viewPath, 2, 10, "never closed"),
        ], invalid: [evalPath])  // lora-r8-test is fine, but its run is gone
    }

    func testDuplicateKey() {
        check([run: runFile("pool: local", "pool: gpu")], [Expect(run, 6, 1, "duplicate key \"pool\"")])
    }

    func testAnchorsAliasesTagsAndSecondDocument() {
        check([run: runFile("params: &p {a: 1}", "x: !custom 1")], [
            Expect(run, 5, 9, "anchors are not supported"), Expect(run, 6, 4, "unsupported tag !custom"),
            Expect(run, 6, 1, "unknown field \"x\""),
        ], invalid: [evalPath])
        check([botEval: evalFile("model: support-bot@v1", "---", "kind: Eval")], [Expect(botEval, 5, 1, "second YAML document")])
    }

    func testEmptyFile() {
        check([botEval: ""], [Expect(botEval, 1, 1, "file is empty")])
        check([botEval: "# nothing yet\n"], [Expect(botEval, 1, 1, "file is empty")])
    }

    func testTopLevelNotAMapping() {
        check([botEval: "- kind: Eval\n"], [Expect(botEval, 1, 1, "must be a mapping, found a list")])
    }

    // MARK: types

    func testWrongTypes() {
        check([run: runFile("rerun: three", "params: [1, 2]", "onChange: later")], [
            Expect(run, 5, 8, "\"rerun\" must be a whole number"),
            Expect(run, 6, 9, "\"params\" must be a mapping, found a list"),
            Expect(run, 7, 11, "\"onChange\" must be cancel or wait"),
        ], invalid: [evalPath])
        check([viewPath: "kind: View\ndefault: maybe\nvisible: 1\n"], [
            Expect(viewPath, 2, 10, "\"default\" must be true or false"),
            Expect(viewPath, 3, 10, "\"visible\" must be true or false"),
        ])
    }

    func testNegativeRerun() {
        check([run: runFile("rerun: -1")], [Expect(run, 5, 8, "at least 0")], invalid: [evalPath])
    }

    func testYAML11Pitfalls() {
        // Free text takes `no` as the text; a handler (a command) given `yes` is ambiguous: an error asking for quotes.
        var r = check([run: runFile("description: no", "owner: on")], [])
        XCTAssertEqual(r.desired.runs.values.first?.description, "no")
        XCTAssertEqual(r.desired.runs.values.first?.owner, "on")
        check([botEval: "kind: Eval\nmodel: support-bot@v1\nhandler: yes\ndataset: tickets-test@v1\n"],
              [Expect(botEval, 3, 10, "write \"yes\" in quotes")])
        check([run: runFile("pool: 0123")], [Expect(run, 5, 7, "\"pool\" must be a string, but 0123 reads as a number")], invalid: [evalPath])
        r = check([run: runFile("params: {flag: true, n: 0x10, big: 1e3, none: ~, s: 'on', u: 1_000, f: 1.5e-3, neg: -7}")], [])
        let p = r.desired.runs.values.first!.params
        XCTAssertEqual(p["flag"], .bool(true))
        XCTAssertEqual(p["n"], .int(16))
        XCTAssertEqual(p["big"], .double(1000))
        XCTAssertEqual(p["none"], .null)
        XCTAssertEqual(p["s"], .string("on"))
        XCTAssertEqual(p["u"], .int(1000))
        XCTAssertEqual(p["f"], .double(0.0015))
        XCTAssertEqual(p["neg"], .int(-7))
        // Forms that YAML readers take differently are errors in free-form params.
        check([run: runFile("params: {flag: yes, mode: 0123, t: 1:30, ok: \"yes\", list: [on]}")], [
            Expect(run, 5, 16, "\"params.flag\": yes is a boolean for some YAML readers"),
            Expect(run, 5, 27, "\"params.mode\": 0123 is octal (83)"),
            Expect(run, 5, 36, "\"params.t\": 1:30 is a base-60 number (90)"),
            Expect(run, 5, 60, "\"params.list[0]\": on is a boolean"),
        ], invalid: [evalPath])
        check([run: runFile("rerun: 010")], [Expect(run, 5, 8, "\"rerun\": 010 is octal (8)")], invalid: [evalPath])
    }

    // MARK: fields

    func testUnknownKeyWithSuggestion() {
        check([run: runFile("desciption: typo")], [Expect(run, 5, 1, "unknown field \"desciption\" (did you mean \"description\"?)")], invalid: [evalPath])
    }

    func testMisspelledRequiredKeyIsOneProblem() {
        let text = "kind: Run\nbaseModle: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: x\n"
        check([run: text], [Expect(run, 2, 1, "unknown field \"baseModle\" (did you mean \"baseModel\"?)")], invalid: [evalPath])
    }

    func testUnknownNestedKey() {
        check([run: runFile("publish: {model: support-bot, as: version, when: now}")],
              [Expect(run, 5, 44, "unknown field \"publish.when\"")], invalid: [evalPath])
    }

    func testMissingRequiredFields() {
        check([run: "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\n"], [Expect(run, 1, 1, "missing required field \"handler\"")], invalid: [evalPath])
        check([run: "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler:\n"], [Expect(run, 4, 9, "\"handler\"")], invalid: [evalPath])
        check(["models/tiny-char/v1.yaml": "kind: ModelVersion\nuri: x\n"], [Expect("models/tiny-char/v1.yaml", 1, 1, "missing required field \"sha256\"")],
              invalid: [run, "evaluations/base.yaml", evalPath])
    }

    func testKindMismatchAndMissingKind() {
        check([run: "kind: Eval\nhandler: x\n"], [Expect(run, 1, 7, "kind Eval does not belong here: files at this path are kind Run")], invalid: [evalPath])
        check([botEval: "model: support-bot@v1\nhandler: x\ndataset: tickets-test@v1\n"], [Expect(botEval, 1, 1, "missing required field \"kind\"")])
        check(["groups/support/group.yaml": "kind: group\n"], [Expect("groups/support/group.yaml", 1, 7, "kind group does not belong here")])
    }

    func testApiVersion() {
        check([botEval: "apiVersion: hone/v1\n" + evalFile("model: support-bot@v1")], [])
        check([botEval: "apiVersion: hone/v2\n" + evalFile("model: support-bot@v1")], [Expect(botEval, 1, 13, "unsupported apiVersion")])
    }

    // MARK: names and the layout

    func testInvalidNamesInPaths() {
        check(["groups/support/runs/Lora_R8.yaml": runFile()], [Expect("groups/support/runs/Lora_R8.yaml", 0, 0, "\"Lora_R8\" is not a valid name")])
        check(["models/tiny-char/V2.yaml": "kind: ModelVersion\nuri: x\nsha256: \(sha)\n"], [Expect("models/tiny-char/V2.yaml", 0, 0, "\"V2\" is not a valid name")])
        check(["groups/Support/group.yaml": "kind: Group\n"], [Expect("groups/Support/group.yaml", 0, 0, "\"Support\" is not a valid name")])
    }

    func testFilesOutsideTheLayoutAreWarnings() {
        let r = check([
            "groups/support/notes.md": "hello",
            "groups/support/runs/old/x.yaml": runFile(),
            "groups/support/runs/x.yml": runFile(),
            "evaluations/readme.txt": "x",
            "models/tiny-char/v1/extra.yaml": "x: 1",
            "models/tiny-char/weights.npz": "binary",
            "handlers/train.py": "print(1)",
            "README.md": "# hi",
            "groups/support/runs/.gitkeep": "",
        ], [
            Expect("groups/support/notes.md", 0, 0, "not part of the hone layout", .warning),
            Expect("groups/support/runs/old/x.yaml", 0, 0, "not part of the hone layout", .warning),
            Expect("groups/support/runs/x.yml", 0, 0, "rename it to groups/support/runs/x.yaml", .warning),
            Expect("evaluations/readme.txt", 0, 0, "not part of the hone layout", .warning),
            Expect("models/tiny-char/v1/extra.yaml", 0, 0, "not part of the hone layout", .warning),
        ])
        XCTAssertTrue(r.isValid)
    }

    func testGroupWithoutGroupFileIsOneProblem() {
        let other = "groups/other/runs/a.yaml", other2 = "groups/other/evals/b.yaml"
        let r = check([other: runFile(), other2: evalFile("model: support-bot@v1")],
                      [Expect("groups/other/group.yaml", 0, 0, "group \"other\" has no groups/other/group.yaml")])
        XCTAssertEqual(r.desired.runs.count, 1)
        XCTAssertEqual(r.invalidObjects.count, 2)
    }

    func testMissingProject() {
        let r = check(["hone.yaml": nil], [Expect("hone.yaml", 0, 0, "no hone.yaml")])
        XCTAssertFalse(r.isValid)
    }

    // MARK: references

    func testMalformedReferences() {
        check([run: "kind: Run\nbaseModel: tiny-char\ntrainDataset: tickets@\nvalidationDataset: Tickets@v1\nhandler: x\n"], [
            Expect(run, 2, 12, "\"baseModel\": \"tiny-char\" has no version: write name@version"),
            Expect(run, 3, 15, "\"trainDataset\": \"tickets@\" is not a valid name@version"),
            Expect(run, 4, 20, "\"validationDataset\": \"Tickets@v1\" is not a valid name@version"),
        ], invalid: [evalPath])
        check([run: runFile("runtime: [numpy@v1]")], [Expect(run, 5, 10, "\"runtime\" must be a name@version string, found a list")], invalid: [evalPath])
    }

    func testMissingVersions() {
        check([run: "kind: Run\nbaseModel: tiny-char@v2\ntrainDataset: tickts@v3\nruntime: torch@v1\nhandler: x\n"], [
            Expect(run, 2, 12, "model version tiny-char@v2 does not exist: no models/tiny-char/v2.yaml (did you mean \"tiny-char@v1\"?)"),
            Expect(run, 3, 15, "dataset version tickts@v3 does not exist: no datasets/tickts/v3.yaml (did you mean \"tickets@v3\"?)"),
            Expect(run, 4, 10, "runtime version torch@v1 does not exist"),
        ], invalid: [evalPath])
    }

    func testReferenceToAnInvalidVersionIsNotReportedAgain() {
        // The broken version file is the one problem; the run that names it is not blamed a second time.
        check(["datasets/tickets/v3.yaml": "kind: DatasetVersion\nuri: x\nsha256: nothex\n"],
              [Expect("datasets/tickets/v3.yaml", 3, 9, "\"sha256\" must be 64 lowercase hex digits")], invalid: [run, evalPath])
    }

    func testUndefinedPool() {
        check([run: runFile("pool: gpuu")], [Expect(run, 5, 7, "pool \"gpuu\" is not defined in hone.yaml (did you mean \"gpu\"?)")], invalid: [evalPath])
    }

    func testFromRun() {
        check([evalPath: evalFile("fromRun: lora-r9")], [Expect(evalPath, 4, 10, "fromRun: run \"lora-r9\" does not exist in groups/support (did you mean \"lora-r8\"?)")])
        check([evalPath: evalFile("fromRun: something-else")], [Expect(evalPath, 4, 10, "runs here: lora-r8")])
        check(["evaluations/base.yaml": evalFile("fromRun: lora-r8")], [Expect("evaluations/base.yaml", 4, 10, "only available to evals in a group")])
    }

    func testFromRunToAnInvalidRunIsNotReportedAgain() {
        check([run: "kind: Run\nhandler: x\n"], [Expect(run, 1, 1, "missing required field \"baseModel\""), Expect(run, 1, 1, "missing required field \"trainDataset\"")],
              invalid: [evalPath])
    }

    func testEvalModelAndFromRun() {
        check([evalPath: evalFile("model: support-bot@v1", "fromRun: lora-r8")], [Expect(evalPath, 5, 10, "exactly one of \"model\" and \"fromRun\", not both")])
        check([evalPath: evalFile()], [Expect(evalPath, 1, 1, "needs one of \"model\"")])
        check([evalPath: evalFile("model:")], [Expect(evalPath, 4, 7, "needs one of \"model\"")])
        check([evalPath: evalFile("fromrun: lora-r8")], [Expect(evalPath, 4, 1, "unknown field \"fromrun\" (did you mean \"fromRun\"?)")])
    }

    func testPublish() {
        // as: new naming an existing model.
        check([run: runFile("publish:", "  model: support-bot", "  as: new")],
              [Expect(run, 7, 7, "model \"support-bot\" already exists (support-bot@v1 not published by hone): write `as: version` to publish this run as support-bot@v2")], invalid: [evalPath])
        check([run: runFile("publish: {model: support-bot}")], [Expect(run, 5, 10, "already exists")], invalid: [evalPath])
        // as: version naming a missing one.
        check([run: runFile("publish:", "  model: suport-bot2", "  as: version")], [Expect(run, 7, 7, "model \"suport-bot2\" does not exist")], invalid: [evalPath])
        // Fine: new name, or a new version of an existing model.
        check([run: runFile("publish: {model: fresh-bot, as: new}")], [])
        check([run: runFile("publish: {model: support-bot, as: version}")], [])
        check([run: runFile("publish: {model: support-bot, as: maybe}")], [Expect(run, 5, 35, "\"publish.as\" must be new or version")], invalid: [evalPath])
        check([run: runFile("publish: {as: new}")], [Expect(run, 5, 10, "\"publish\" needs \"model\"")], invalid: [evalPath])
    }

    /// Run lora-r8 created support-bot (v1, `as: new`), run other added v2 (`as: version`): lora-r8's
    /// `as: new` stays true, and its eval stays listed. A run that did not make the model is told to
    /// write `as: version`, naming the version it would publish.
    func testPublishAsNewStaysValidForTheRunThatCreatedTheModel() {
        func published(_ from: String) -> String {
            "kind: ModelVersion\nuri: store://bot\nsha256: \(sha)\npublishedFrom: \(from)\npublishedAt: \"2026-01-01T00:00:00Z\"\n"
        }
        let other = "groups/support/runs/other.yaml"
        let models = ["models/support-bot/v1.yaml": published("support/lora-r8"), "models/support-bot/v2.yaml": published("support/other")]
        let creator = runFile("publish: {model: support-bot, as: new}")
        let adder = runFile("publish: {model: support-bot, as: version}")
        let r = check(models.merging([run: creator, other: adder]) { a, _ in a }, [])
        XCTAssertNotNil(r.desired.evals[ObjectKey(scope: .group("support"), kind: .eval, name: "lora-r8-test")], "the creator's eval is listed")
        // The run that added v2 switched to `as: new`: the model is not its own.
        check(models.merging([run: creator, other: runFile("publish: {model: support-bot, as: new}")]) { a, _ in a },
              [Expect(other, 5, 35, "publish.as is new, but model \"support-bot\" already exists (support-bot@v1 published from support/lora-r8): write `as: version` to publish this run as support-bot@v3, or choose another model name")])
        // Versions all from the creator are fine too (it published twice, e.g. after a rerun).
        check(["models/support-bot/v1.yaml": published("support/lora-r8"), "models/support-bot/v2.yaml": published("support/lora-r8"), run: creator], [])
    }

    /// Which word of a handler command is the repository script it runs, if any.
    func testTheScriptAHandlerCommandNames() {
        let cases: [(String, String?)] = [
            ("python handlers/finetune.py", "handlers/finetune.py"),
            ("python3 -u ./handlers/finetune.py --epochs 3", "handlers/finetune.py"),
            ("OMP_NUM_THREADS=1 python3.11 -W ignore train.py", "train.py"),
            ("env A=1 bash scripts/run.sh x", "scripts/run.sh"),
            ("Rscript --vanilla analysis/fit.R", "analysis/fit.R"),
            ("node -r ts-node/register src/train.js", "src/train.js"),
            ("python -- handlers/x.py", "handlers/x.py"),
            ("./train.sh --fast", "train.sh"),
            ("handlers/run.sh", "handlers/run.sh"),
            ("/usr/bin/python3 handlers/x.py", "handlers/x.py"),
            // Not a file of the repository, or not plainly one: not checked.
            ("python -m pkg.train", nil), ("python -mpkg", nil), ("python -c 'print(1)'", nil), ("bash -c \"python x.py\"", nil),
            ("python /opt/train.py", nil), ("/opt/bin/train", nil), ("python \"$SCRIPT\"", nil), ("python ~/train.py", nil),
            ("python ../outside.py", nil), ("accelerate launch train.py", nil), ("h", nil), ("python", nil), ("python -", nil),
            ("", nil), ("python handlers/*.py", nil),
        ]
        for (command, expected) in cases {
            XCTAssertEqual(HandlerScript.path(in: command), expected, command)
        }
    }

    /// A handler naming a script that is not in the repository is an error at the handler, with a
    /// "did you mean" when a file beside it is close; the object is not used, its neighbours are.
    func testAHandlerScriptThatDoesNotExistIsAnError() {
        check([run: runFile().replacingOccurrences(of: "python train.py", with: "python handlers/finetun.py")],
              [Expect(run, 4, 10, "handler script \"handlers/finetun.py\" does not exist in the memory (did you mean \"handlers/finetune.py\"?)")],
              invalid: [evalPath])
        check([botEval: evalFile("model: support-bot@v1").replacingOccurrences(of: "python eval.py", with: "./scripts/eval.sh")],
              [Expect(botEval, 2, 10, "handler script \"scripts/eval.sh\" does not exist in the memory")])
        // The same file, present, and commands that name no repository file: fine.
        check([run: runFile().replacingOccurrences(of: "python train.py", with: "python3 -u ./handlers/finetune.py --lr 3")], [])
        check([run: runFile().replacingOccurrences(of: "python train.py", with: "python -m handlers.finetun")], [])
        check([run: runFile().replacingOccurrences(of: "python train.py", with: "\"python /opt/finetun.py\"")], [])
    }

    func testEvalOfAVersionAnotherRunWillPublish() {
        check([run: runFile("publish: {model: fresh-bot, as: new}"), botEval: evalFile("model: fresh-bot@v1")], [])
    }

    func testBaselineAndGates() {
        check([botEval: evalFile("model: support-bot@v1", "gates:", "  metrics.accuracy: \">= baseline - 0.01\"")],
              [Expect(botEval, 6, 21, "compares with the baseline, but this eval names no \"baseline\"")])
        check([botEval: evalFile("model: support-bot@v1", "baseline: lora-r8-tst", "gates: {metrics.accuracy: \">= baseline\"}")],
              [Expect(botEval, 5, 11, "baseline: eval \"lora-r8-tst\" does not exist in groups/support (did you mean \"lora-r8-test\"?)")])
        check([botEval: evalFile("model: support-bot@v1", "gates: {accuracy: \">= 1\", metrics.f1: \"big\"}")], [
            Expect(botEval, 5, 9, "gate \"accuracy\" must name a metric as metrics.<key>"),
            Expect(botEval, 5, 39, "gate \"metrics.f1\": expected a comparison"),
        ])
    }

    // MARK: secrets

    func testLiteralSecretsAnywhere() {
        check([botEval: evalFile("model: support-bot@v1", "debug:", "  enabled: true", "  password: hunter2")],
              [Expect(botEval, 7, 3, "passwordEnv: HONE_DEBUG_PASSWORD")])
        check([run: runFile("params: {lr: 1, token: abc}")], [Expect(run, 5, 17, "literal secret in \"params.token\"")], invalid: [evalPath])
        check(["runtimes/numpy/v1.yaml": "kind: RuntimeVersion\nenv: {HF_TOKEN: hf_abc, apiKey: x}\n"], [
            Expect("runtimes/numpy/v1.yaml", 2, 7, "literal secret in \"env.HF_TOKEN\""),
            Expect("runtimes/numpy/v1.yaml", 2, 25, "literal secret in \"env.apiKey\""),
        ], invalid: [run, evalPath])
        check(["hone.yaml": validRepository["hone.yaml"]! + "secret: s3cr3t\n"], [Expect("hone.yaml", 16, 1, "literal secret in \"secret\"")])
    }

    func testSecretLookalikesAreFine() {
        check([run: runFile("params: {max_tokens: 512, tokenizer: char, password_env: X}"),
               botEval: evalFile("model: support-bot@v1", "debug: {enabled: true, passwordEnv: MY_PASS}")], [])
    }

    func testEmptySecretKeyIsJustUnknown() {
        check([run: runFile("password:")], [Expect(run, 5, 1, "unknown field \"password\"")], invalid: [evalPath])
    }

    // MARK: autoRelease

    func testAutoRelease() {
        var r = check([botEval: evalFile("model: support-bot@v1", "autoRelease: never")], [])
        XCTAssertNil(r.desired.evals.values.first { $0.key.name == "bot-test" }!.autoRelease)
        r = check([botEval: evalFile("model: support-bot@v1", "autoRelease: 15m")], [])
        XCTAssertEqual(r.desired.evals.values.first { $0.key.name == "bot-test" }!.autoRelease, 900)
        r = check([botEval: evalFile("model: support-bot@v1", "autoRelease: 0")], [])
        XCTAssertNil(r.desired.evals.values.first { $0.key.name == "bot-test" }!.autoRelease)
        check([botEval: evalFile("model: support-bot@v1", "autoRelease: 1 hour")], [Expect(botEval, 5, 14, "\"autoRelease\" must be a duration")])
        check([botEval: evalFile("model: support-bot@v1", "autoRelease: -5s")], [Expect(botEval, 5, 14, "\"autoRelease\" must be a duration")])
        check([botEval: evalFile("model: support-bot@v1", "autoRelease: [1]")], [Expect(botEval, 5, 14, "found a list")])
    }

    // MARK: views

    func testViewColumns() {
        check([viewPath: "kind: View\ncolumns: [name, phse, metrics.acc]\npinned: [model]\n"], [
            Expect(viewPath, 2, 17, "unknown column \"phse\" (did you mean \"phase\"?)"),
            Expect(viewPath, 3, 10, "pinned column \"model\" is not among the view's columns"),
        ])
        check([viewPath: "kind: View\ncolumns: [name, [x]]\n"], [Expect(viewPath, 2, 17, "column names are strings")])
    }

    func testViewFiltersAndSort() {
        check([viewPath: "kind: View\nfilter: {phase: Succeded, metrics.accuracy: \">=high\", createdAt: \">2026-13-45\", owner: \">=a\"}\n"], [
            Expect(viewPath, 2, 17, "unknown phase \"Succeded\" (did you mean \"Succeeded\"?)"),
            Expect(viewPath, 2, 45, "needs a number, found \"high\""),
            Expect(viewPath, 2, 66, "needs a date"),
            Expect(viewPath, 2, 88, "only applies to metrics"),
        ])
        check([viewPath: "kind: View\nsort: {by: createdat, order: up}\n"], [
            Expect(viewPath, 2, 12, "unknown sort column \"createdat\" (did you mean \"createdAt\"?)"),
            Expect(viewPath, 2, 30, "\"sort.order\" must be asc or desc"),
        ])
        check([viewPath: "kind: View\nsort: createdAt\n"], [Expect(viewPath, 2, 7, "\"sort\" must be a mapping")])
    }

    func testOneDefaultViewPerGroup() {
        let second = "groups/support/views/zzz.yaml"
        let r = check([second: "kind: View\ndefault: true\n"], [Expect(second, 2, 10, "more than one default view in groups/support: accuracy-first is already the default")],
                      invalid: [second])
        XCTAssertNil(r.desired.views[ObjectKey(scope: .group("support"), kind: .view, name: "zzz")])
        // Also in evaluations/.
        check(["evaluations/views/b.yaml": "kind: View\ndefault: true\n"], [Expect("evaluations/views/b.yaml", 2, 10, "more than one default view in evaluations")])
        // A hidden default is still a default; a non-default view is fine.
        check([second: "kind: View\ndefault: false\n"], [])
    }

    // MARK: the project

    func testProjectProblems() {
        let bad = """
        kind: Project
        name: acme
        pools:
          local:
            executor: lokal
            maxParallel: 0
          Bad_Pool:
            executor: local
          gpu:
            executor: slurm
        defaults:
          pool: gpuu

        """
        check(["hone.yaml": bad], [
            Expect("hone.yaml", 5, 15, "unknown executor \"lokal\": use local or slurm (did you mean \"local\"?)"),
            Expect("hone.yaml", 6, 18, "\"maxParallel\" must be at least 1"),
            Expect("hone.yaml", 7, 3, "pool name \"Bad_Pool\" is not a valid name"),
            Expect("hone.yaml", 10, 5, "slurm pool \"gpu\" needs \"workdir\""),
            Expect("hone.yaml", 12, 9, "default pool \"gpuu\" is not among the pools (did you mean \"gpu\"?)"),
        ])
        check(["hone.yaml": "kind: Project\nname: acme\npools: {}\n"], [Expect("hone.yaml", 3, 8, "needs at least one pool")])
        check(["hone.yaml": "kind: Project\nname: acme\npools:\n  local:\n    executor: local\n    partition: x\n"],
              [Expect("hone.yaml", 6, 16, "only applies to slurm pools", .warning)])
    }

    func testBrokenProjectDoesNotStopTheRest() {
        let r = check(["hone.yaml": "kind: Project\nname: [acme\n"], [Expect("hone.yaml", 2, 7, "never closed")])
        XCTAssertNil(r.desired.project)
    }

    // MARK: versions

    func testVersionFiles() {
        check(["models/tiny-char/v1.yaml": "kind: ModelVersion\nuri: x\nsha256: 3b1f\n"], [Expect("models/tiny-char/v1.yaml", 3, 9, "64 lowercase hex digits")],
              invalid: [run, evalPath, "evaluations/base.yaml"])
        check(["runtimes/numpy/v1.yaml": "kind: RuntimeVersion\nrequirements: numpy\n"], [Expect("runtimes/numpy/v1.yaml", 2, 15, "\"requirements\" must be a list")],
              invalid: [run, evalPath])
        check(["runtimes/numpy/v1.yaml": "kind: RuntimeVersion\nrequirements: [numpy, 1.5]\n"], [Expect("runtimes/numpy/v1.yaml", 2, 23, "reads as a float")],
              invalid: [run, evalPath])
        check(["datasets/tickets/v3.yaml": "kind: ModelVersion\nuri: x\nsha256: \(sha)\n"],
              [Expect("datasets/tickets/v3.yaml", 1, 7, "files at this path are kind DatasetVersion")], invalid: [run, evalPath])
    }

    // MARK: many problems at once

    func testEveryProblemOnceInOneRepository() {
        let r = check([
            run: runFile("pool: gpuu", "desciption: x", "rerun: x"),
            botEval: evalFile("model: support-bot@v9"),
            viewPath: "kind: View\ncolumns: [nme]\n",
            "groups/support/runs/b.yaml": "kind: Run\nbaseModel: tiny-char@v1\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: h\n",
        ], [
            Expect(run, 5, 7, "pool \"gpuu\""),
            Expect(run, 6, 1, "unknown field \"desciption\""),
            Expect(run, 7, 8, "whole number"),
            Expect(botEval, 4, 8, "model version support-bot@v9 does not exist"),
            Expect(viewPath, 2, 11, "unknown column \"nme\""),
            Expect("groups/support/runs/b.yaml", 3, 1, "duplicate key"),
        ], invalid: [evalPath])
        XCTAssertEqual(r.errors.count, 6)
        XCTAssertNotNil(r.desired.evals[ObjectKey(scope: .evaluations, kind: .eval, name: "base")])
    }

    // MARK: rendering

    func testDiagnosticRendering() {
        let r = check([run: runFile("pool: gpuu")], [Expect(run, 5, 7, "pool")], invalid: [evalPath])
        let d = r.errors[0]
        XCTAssertEqual(d.description, """
        groups/support/runs/lora-r8.yaml:5:7: error: pool "gpuu" is not defined in hone.yaml (did you mean "gpu"?)
            pool: gpuu
                  ^
        """)
    }

    func testSourceLineWithCRLFAndBOM() {
        let r = check([run: "\u{FEFF}kind: Run\r\nbaseModel: tiny-char@v1\r\ntrainDataset: tickets@v3\r\nhandler: x\r\npool: gpuu\r\n"],
                      [Expect(run, 5, 7, "pool")], invalid: [evalPath])
        XCTAssertEqual(r.errors[0].sourceLine, "pool: gpuu")
        let r2 = check([run: "\u{FEFF}kind: Eval\n"], [Expect(run, 1, 7, "kind Eval")], invalid: [evalPath])
        XCTAssertEqual(r2.errors[0].sourceLine, "kind: Eval")
    }

    func testDiagnosticsAreSorted() {
        let r = check([run: runFile("b: 1", "a: 2")], [Expect(run, 5, 1, "\"b\""), Expect(run, 6, 1, "\"a\"")], invalid: [evalPath])
        XCTAssertEqual(r.errors.map(\.line), [5, 6])
    }
}
