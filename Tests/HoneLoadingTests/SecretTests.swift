import Foundation
import HoneModel
import XCTest
import YAML
@testable import HoneLoading

/// The one redactor, the masking of source excerpts, and the secret scan's rules (specs/secrets.md).
final class SecretRedactorTests: XCTestCase {
    func testEveryValueAndItsEncodedFormsAreMaskedLongestFirst() {
        let r = SecretRedactor(["pw-1234", "pw-1234-longer", "tok\"en\\x9", "abc"])
        XCTAssertEqual(r.redact("a pw-1234-longer b pw-1234 c"), "a *** b *** c", "the longer value is masked whole")
        XCTAssertEqual(r.redact(#"{"m": "tok\"en\\x9"} raw tok"en\x9"#), #"{"m": "***"} raw ***"#, "JSON-escaped and raw")
        XCTAssertEqual(r.redact("abc stays: shorter than \(SecretRedactor.minimumLength)"), "abc stays: shorter than \(SecretRedactor.minimumLength)")
        XCTAssertEqual(r.redact(Data("x pw-1234\n\u{FF}".utf8)), Data("x ***\n\u{FF}".utf8))
        XCTAssertEqual(SecretRedactor().redact("pw-1234"), "pw-1234")
    }

    func testCredentialsOfRemoteURLs() {
        XCTAssertEqual(SecretRedactor.credentials(inURL: "https://user:tok3n-value@host/x"), ["tok3n-value"])
        XCTAssertEqual(SecretRedactor.credentials(inURL: "https://ghp_abcdef123@github.com/o/r.git"), ["ghp_abcdef123"])
        XCTAssertEqual(SecretRedactor.credentials(inURL: "https://u:p%40ss-word@h/x"), ["p%40ss-word", "p@ss-word"])
        XCTAssertEqual(SecretRedactor.credentials(inURL: "ssh://git@github.com/o/r.git"), [])
        XCTAssertEqual(SecretRedactor.credentials(inURL: "https://github.com/o/r@v1"), [])
        XCTAssertEqual(SecretRedactor.credentials(inURL: "git@github.com:o/r.git"), [])
    }

    func testTheEnvironmentsSecrets() {
        let env = ["HONE_REMOTE_URL": "https://x-access-token:tok3n-value@github.com/o/r.git", "HONE_DEBUG_PASSWORD": "debug-pw-1",
                   "MY_PW": "other-pw-2", "HF_TOKEN": "hf_secret_3", "GITHUB_TOKEN": "gh-token-4", "PATH": "/usr/bin:/bin",
                   "http_proxy": "http://me:proxy-pw-5@proxy:3128"]
        let r = SecretRedactor.forEnvironment(env, passwordVariables: ["MY_PW"])
        let text = env.values.sorted().joined(separator: " ")
        let out = r.redact(text)
        for secret in ["tok3n-value", "debug-pw-1", "other-pw-2", "hf_secret_3", "gh-token-4", "proxy-pw-5"] {
            XCTAssertFalse(out.contains(secret), out)
        }
        XCTAssertTrue(out.contains("/usr/bin:/bin") && out.contains("https://x-access-token:***@github.com/o/r.git"), out)
    }

    func testSourceExcerptsOfSecretLinesAreMasked() {
        let cases: [(String, String)] = [
            ("  password: hunter2", "  password: ***"),
            ("debug: {enabled: true, password: hunter2, x: 1}", "debug: {enabled: true, password: ***, x: 1}"),
            ("password: [x, y]  # c", "password: ***  # c"),
            ("token: {value: x}", "token: ***"),
            ("- API_KEY: \"a, b\"", "- API_KEY: ***"),
            ("env: {HF_TOKEN: hf_abc, OMP: 1}", "env: {HF_TOKEN: ***, OMP: 1}"),
            ("  passwordEnv: hunter2-not-a-name!", "  passwordEnv: ***"),
            ("  passwordEnv: HONE_DEBUG_PASSWORD", "  passwordEnv: HONE_DEBUG_PASSWORD"),
            ("params: {max_tokens: 512, tokenizer: char}", "params: {max_tokens: 512, tokenizer: char}"),
            ("password:", "password:"),
        ]
        for (line, masked) in cases { XCTAssertEqual(SecretExcerpt.masked(line), masked) }
        let d = Diagnostic(path: "e.yaml", mark: Mark(line: 2, column: 10), message: "m", sourceLine: "debug: {password: hunter2}")
        XCTAssertFalse(d.description.contains("hunter2"), d.description)
    }
}

final class SecretScanTests: XCTestCase {
    let run = "groups/support/runs/lora-r8.yaml"
    let evalPath = "groups/support/evals/lora-r8-test.yaml"
    let botEval = "groups/support/evals/bot-test.yaml"

    func runFile(_ lines: String...) -> String {
        (["kind: Run", "baseModel: tiny-char@v1", "trainDataset: tickets@v3", "handler: python train.py"] + lines).joined(separator: "\n") + "\n"
    }

    func testSecretKeysWithListOrMappingValuesAreRejected() {
        check([run: runFile("params: {lr: 1, password: [x]}")], [Expect(run, 5, 17, "literal secret in \"params.password\"")], invalid: [evalPath])
        check([run: runFile("params:", "  token: {value: x}")], [Expect(run, 6, 3, "literal secret in \"params.token\"")], invalid: [evalPath])
        check([run: runFile("params:", "  db_password:", "    - x")], [Expect(run, 6, 3, "literal secret in \"params.db_password\"")], invalid: [evalPath])
        check(["runtimes/numpy/v1.yaml": "kind: RuntimeVersion\nenv: {OMP_NUM_THREADS: \"1\"}\nsecret: {a: {b: c}}\n"],
              [Expect("runtimes/numpy/v1.yaml", 3, 1, "literal secret in \"secret\"")], invalid: [run, evalPath])
        // Lookalikes stay fine: numbers under a token-ending key, empty collections.
        check([run: runFile("params: {max_token: [1, 2], password: [], token: {}}")], [], invalid: [])
    }

    func testAPasswordTypedIntoPasswordEnvIsRejectedWithoutQuotingIt() {
        let secret = "hunter2-not-a-name!"
        let r = check([botEval: "kind: Eval\nmodel: support-bot@v1\nhandler: h\ndataset: tickets-test@v1\ndebug:\n  enabled: true\n  passwordEnv: \(secret)\n"],
                      [Expect(botEval, 7, 16, "\"debug.passwordEnv\" must name an environment variable")])
        for d in r.diagnostics {
            XCTAssertFalse(d.description.contains(secret), d.description)
            XCTAssertFalse(d.message.contains(secret), d.message)
        }
    }

    /// What hone copies from a handler's summary.json (metrics named token, secret, password, nested, unicode)
    /// into a status or a published manifest is never a "literal secret": hone does not reject its own files.
    func testMetricsHoneWroteAreNotScanned() throws {
        let key = ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")
        var s = ObjectStatus(key: key, id: "lora-r8-1-abc", phase: .succeeded, pool: "local", handler: "h", attempt: 1, specDigest: "d")
        s.metrics = ["accuracy": .object(["token": .double(0.91), "sequence": .double(0.5)]), "secret": .string("x"),
                     "password": .array([.string("y")]), "ÿ-token": .object(["apiKey": .string("z")])]
        let status = try YAMLEmitter.emit(StatusCodec.encode(s))
        let manifest = "kind: ModelVersion\nuri: store://x\nsha256: \"\(sha)\"\nmetrics: {token: 0.91, secret: x, nested: {password: y}}\n"
        check([s.key.statusPath: status, "models/published/v1.yaml": manifest], [])
        // A person's file keeps the scan, also in a section named metrics.
        check(["datasets/tickets/v9.yaml": "kind: DatasetVersion\nuri: d\nsha256: \(sha)\nmetrics: {token: x}\n"],
              [Expect("datasets/tickets/v9.yaml", 4, 11, "literal secret in \"metrics.token\""),
               Expect("datasets/tickets/v9.yaml", 4, 1, "unknown field \"metrics\"")])
    }
}
