import XCTest
import HoneModel
import YAML
@testable import HoneLoading

/// Files made to break the reader: nested past the limit, lines of megabytes, control characters.
/// Each is one diagnostic at its place, printed safely, and the files beside it keep loading.
final class HostileInputTests: XCTestCase {
    let run = "groups/support/runs/lora-r8.yaml"
    let evalPath = "groups/support/evals/lora-r8-test.yaml"
    let limit = YAMLParser.maxDepth
    var tooDeep: String { "nested too deeply: hone files allow at most \(limit) levels of lists and mappings" }

    // MARK: nesting

    func testASpecNestedPastTheLimitIsOneErrorAndTheOthersStillLoad() {
        let r = check([run: String(repeating: "- ", count: 25_000) + "1\n"], [Expect(run, 1, 2 * limit + 1, tooDeep)], invalid: [evalPath])
        XCTAssertEqual(r.desired.runs.count, 0)
    }

    func testDeepFlowParamsAreOneErrorAtTheBracketThatCrossesTheLimit() {
        let n = 20_000
        let text = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: x\nparams:\n  x: "
            + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "\n"
        // Levels 1 and 2 are the file and params: the (limit - 1)th bracket, after `  x: `, crosses it.
        check([run: text], [Expect(run, 6, 6 + limit - 2, tooDeep)], invalid: [evalPath])
    }

    func testParamsAtTheLimitAreDecodedAndScannedForSecrets() throws {
        // The deepest tree the parser accepts goes through every decoder walk (params, secrets).
        let depth = limit - 3  // the file, params, the lists, and the mapping at the limit
        let text = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: x\nparams:\n  x: "
            + String(repeating: "[", count: depth) + "{token: hunter2}" + String(repeating: "]", count: depth) + "\n"
        let r = check([run: text], [Expect(run, 6, 6 + depth + 1, "token")], invalid: [evalPath])
        XCTAssertEqual(r.errors.count, 1)
    }

    func testADeepStatusFileIsAnErrorNamingIt() {
        var files = validRepository
        let status = "status/groups/support/runs/lora-r8.yaml"
        files[status] = "kind: RunStatus\nid: x\nmetrics: " + String(repeating: "{a: ", count: 1_000) + "\n"
        let r = load(files)
        XCTAssertTrue(r.errors.contains { $0.path == status && $0.line == 3 && $0.column == 10 + 4 * (limit - 1) && $0.message == tooDeep },
                      r.errors.map(\.headline).joined(separator: "\n"))
    }

    // MARK: what diagnostics print

    func testAnErrorAtTheEndOfAHugeLineShowsAWindowWithTheCaretUnderTheColumn() throws {
        // Just under the 1 MiB cap on spec files (a larger file is refused whole, unread).
        let long = String(repeating: "x", count: 1_000_000)
        let r = check([run: "kind: Run\ndescription: \(long): y\n"], [Expect(run, 2, 13 + long.count + 1, "mapping values")], invalid: [evalPath])
        let d = r.errors[0]
        XCTAssertLessThan(d.description.utf8.count, 400, "a window around the column, not the 1 MB line")
        let lines = d.description.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.count, 3)
        // Near the end of the line the window ends with it: the last `width` characters.
        XCTAssertEqual(lines[1], "    …" + String(repeating: "x", count: Excerpt.width - 3) + ": y")
        XCTAssertEqual(lines[2], "    " + String(repeating: " ", count: Excerpt.width - 2) + "^", "the caret is under the colon")
    }

    func testAnErrorInTheMiddleOfAHugeLineIsCutOnBothSides() {
        let d = Diagnostic(path: "x.yaml", mark: Mark(line: 1, column: 5_001), message: "m",
                           sourceLine: String(repeating: "a", count: 5_000) + "b" + String(repeating: "c", count: 5_000))
        let third = Excerpt.width / 3
        XCTAssertEqual(d.description, "x.yaml:1:5001: error: m\n    …" + String(repeating: "a", count: third) + "b"
                       + String(repeating: "c", count: Excerpt.width - third - 1) + "…\n    " + String(repeating: " ", count: third + 1) + "^")
    }

    func testControlCharactersFromASpecAndItsFileNameAreEscaped() throws {
        let evil = "groups/support/runs/\u{1B}]0;pwned\u{07}x.yaml"
        // A double-quoted key can hold any character through escapes; the message quotes it.
        let unknownKey = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: x\n\"\\e[2J\\u202Eevil\": 1\n"
        let r = load(validRepository.merging([run: unknownKey, evil: "kind: Run\n", evalPath: "kind: Eval\n\u{1B}[2J: 1\n"]) { $1 })
        let shown = r.diagnostics.map(\.description).joined(separator: "\n")
        XCTAssertFalse(shown.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E }, shown)
        XCTAssertTrue(shown.contains("groups/support/runs/\\x1B]0;pwned\\x07x.yaml: error: "), shown)
        XCTAssertEqual(try XCTUnwrap(r.diagnostics.first { $0.path == run }).description, #"""
        groups/support/runs/lora-r8.yaml:5:1: error: unknown field "\x1B[2J\u{202E}evil"
            "\e[2J\u202Eevil": 1
            ^
        """#)
        // A raw control character is a syntax error; its source line is shown escaped, caret aligned.
        XCTAssertEqual(try XCTUnwrap(r.diagnostics.first { $0.path == evalPath }).description, #"""
        groups/support/evals/lora-r8-test.yaml:2:1: error: invalid character in the file: control characters are not allowed
            \x1B[2J: 1
            ^
        """#)
    }

    func testEscapesKeepTheCaretUnderTheColumn() {
        let d = Diagnostic(path: "a\tb.yaml", mark: Mark(line: 1, column: 4), message: "bad\nline", sourceLine: "\u{1B}\u{9B}\tx")
        XCTAssertEqual(d.description, #"""
        a\tb.yaml:1:4: error: bad\nline
            \x1B\x9B x
                     ^
        """#)
    }
}

extension HostileInputTests {
    /// Foundation reads JSON nested up to 512 levels: such metrics from a handler's summary.json are
    /// written into the status (two levels down) and read back, never refused by the emitter.
    func testMetricsNestedAsDeepAsJSONAllowsAreWrittenAndReadBack() throws {
        let depth = 512
        let json = Data((String(repeating: "[", count: depth - 1) + "1" + String(repeating: "]", count: depth - 1)).utf8)
        let inner = try JSONValue.parse(Data("{\"deep\": ".utf8) + json + Data("}".utf8))
        let key = ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")
        var s = ObjectStatus(key: key, id: "lora-r8-1-abc", phase: .succeeded, pool: "local", handler: "h", attempt: 1, specDigest: "d")
        s.metrics = inner.objectValue!
        let text = try YAMLEmitter.emit(StatusCodec.encode(s))
        let (back, problems) = StatusCodec.decode(key, text: text, path: key.statusPath)
        XCTAssertEqual(problems.map(\.description), [])
        // What fits is kept; the collection past the limit is a note.
        var value = try XCTUnwrap(back?.metrics["deep"])
        var levels = 1  // the metrics mapping
        while case .array(let items) = value { levels += 1; value = items[0] }
        XCTAssertEqual(levels, StatusCodec.jsonDepth)
        XCTAssertEqual(value, .string("(nested deeper than \(StatusCodec.jsonDepth) levels: not recorded)"))
        // Shallow metrics are untouched.
        s.metrics = ["accuracy": .double(0.9), "by": .object(["token": .double(0.5)])]
        XCTAssertEqual(StatusCodec.decode(key, text: try YAMLEmitter.emit(StatusCodec.encode(s)), path: key.statusPath).0?.metrics, s.metrics)
    }
}

extension HostileInputTests {
    /// Found by hone-fuzz-status: the base-60 value quoted in the message overflowed Int and trapped,
    /// killing validate for every file. Now the message leaves the value out when it does not fit.
    func testAHugeBase60NumberIsAnErrorNotACrash() {
        let text = "kind: Run\nbaseModel: tiny-char@v1\ntrainDataset: tickets@v3\nhandler: x\nrerun: 88888888888088:88888888:88888:888888\nparams: {a: 1:30}\n"
        check([run: text], [
            Expect(run, 5, 8, "\"rerun\": 88888888888088:88888888:88888:888888 is a base-60 number for some YAML readers and text for others"),
            Expect(run, 6, 13, "1:30 is a base-60 number (90) for some YAML readers"),
        ], invalid: [evalPath])
    }
}

extension HostileInputTests {
    /// A duration whose seconds overflow Int trapped while decoding; past 100 years it is invalid.
    func testADurationTooLongForAnIntIsAnErrorNotACrash() {
        let bot = "groups/support/evals/bot-test.yaml"
        check([bot: "kind: Eval\nmodel: support-bot@v1\nhandler: h\ndataset: tickets-test@v1\nautoRelease: 999999999999999999d\n"],
              [Expect(bot, 5, 14, "\"autoRelease\" must be a duration like 90s, 15m, 2h or 3600 (seconds), or 0/never to turn it off; found \"999999999999999999d\"")])
        XCTAssertEqual(DurationText.parse("36500d"), .seconds(36_500 * 86_400), "the longest: 100 years")
        XCTAssertEqual(DurationText.parse("876000h"), .seconds(36_500 * 86_400))
        XCTAssertNil(DurationText.parse("36501d"))
        XCTAssertNil(DurationText.parse("\(36_500 * 86_400 + 1)"))
        XCTAssertNil(DurationText.parse("9223372036854775807m"))
    }
}
