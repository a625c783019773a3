import XCTest
@testable import YAML

/// The libyaml event-API binding: marks, one-document rule, duplicate keys, unsupported features, errors.
final class ParserTests: XCTestCase {
    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Node {
        let doc = YAMLParser.parse(text)
        XCTAssertEqual(doc.errors, [], file: file, line: line)
        guard let root = doc.root else { XCTFail("no root", file: file, line: line); return Node(.scalar("", .plain)) }
        return root
    }

    private func errors(_ text: String) -> [YAMLError] { YAMLParser.parse(text).errors }

    // MARK: marks

    func testScalarAndKeyMarks() {
        let root = parse("kind: Run\nparams:\n  epochs: 3\n  lr: 0.003\n")
        XCTAssertEqual(root.mark, Mark(line: 1, column: 1))
        let pairs = root.pairs!
        XCTAssertEqual(pairs[0].key.mark, Mark(line: 1, column: 1))
        XCTAssertEqual(pairs[0].value.mark, Mark(line: 1, column: 7))
        XCTAssertEqual(pairs[1].key.mark, Mark(line: 2, column: 1))
        let params = pairs[1].value
        XCTAssertEqual(params.mark, Mark(line: 3, column: 3), "a block mapping starts at its first key")
        XCTAssertEqual(params.pairs![1].key.mark, Mark(line: 4, column: 3))
        XCTAssertEqual(params["lr"]!.mark, Mark(line: 4, column: 7))
        XCTAssertEqual(params["lr"]!.scalar, "0.003")
    }

    func testSequenceMarks() {
        let root = parse("requirements:\n  - numpy>=1.26\n  - \"scipy\"\nflow: [a, b]\n")
        let reqs = root["requirements"]!
        XCTAssertEqual(reqs.mark, Mark(line: 2, column: 3))
        XCTAssertEqual(reqs.items!.map(\.mark), [Mark(line: 2, column: 5), Mark(line: 3, column: 5)])
        XCTAssertEqual(reqs.items![1].style, .doubleQuoted)
        let flow = root["flow"]!
        XCTAssertEqual(flow.mark, Mark(line: 4, column: 7))
        XCTAssertEqual(flow.items!.map(\.mark), [Mark(line: 4, column: 8), Mark(line: 4, column: 11)])
    }

    func testEmptyValueIsNullScalarAfterTheColon() {
        let root = parse("handler:\nkind: Run\n")
        let v = root["handler"]!
        XCTAssertEqual(v.scalar, "")
        XCTAssertEqual(v.resolvedType, .null)
        XCTAssertEqual(v.mark.line, 1)
        XCTAssertEqual(v.mark.column, 9)
    }

    func testUnicodeColumnsCountCharacters() {
        let root = parse("description: héllo wörld\nowner: ünïcode\nx: 1\n")
        XCTAssertEqual(root["owner"]!.mark, Mark(line: 2, column: 8))
        let root2 = parse("a: {é: 1, ü: 2}\n")
        XCTAssertEqual(root2["a"]!.pairs![1].key.mark, Mark(line: 1, column: 11))
        XCTAssertEqual(root2["a"]!.pairs![1].value.mark, Mark(line: 1, column: 14))
    }

    func testCRLFLineEndings() {
        let root = parse("kind: Run\r\npool: local\r\nparams:\r\n  lr: 1\r\n")
        XCTAssertEqual(root["pool"]!.mark, Mark(line: 2, column: 7))
        XCTAssertEqual(root["pool"]!.scalar, "local")
        XCTAssertEqual(root["params"]!["lr"]!.mark, Mark(line: 4, column: 7))
    }

    func testByteOrderMarkDoesNotShiftColumns() {
        let root = parse("\u{FEFF}kind: Run\npool: local\n")
        XCTAssertEqual(root["kind"]!.scalar, "Run")
        XCTAssertEqual(root.pairs![0].key.mark, Mark(line: 1, column: 1))
        XCTAssertEqual(root["kind"]!.mark, Mark(line: 1, column: 7))
        XCTAssertEqual(root["pool"]!.mark, Mark(line: 2, column: 7))
    }

    func testScalarStylesAndBlockScalars() {
        let root = parse("a: 'x'\nb: \"y\"\nc: |\n  line1\n  line2\nd: >\n  folded\n  text\ne: plain\n")
        XCTAssertEqual(root["a"]!.style, .singleQuoted)
        XCTAssertEqual(root["b"]!.style, .doubleQuoted)
        XCTAssertEqual(root["c"]!.style, .literal)
        XCTAssertEqual(root["c"]!.scalar, "line1\nline2\n")
        XCTAssertEqual(root["d"]!.style, .folded)
        XCTAssertEqual(root["d"]!.scalar, "folded text\n")
        XCTAssertEqual(root["e"]!.style, .plain)
        XCTAssertEqual(root["c"]!.mark, Mark(line: 3, column: 4))
    }

    func testEmptyDocumentHasNoRoot() {
        let doc = YAMLParser.parse("")
        XCTAssertNil(doc.root)
        XCTAssertEqual(doc.errors, [])
        let comments = YAMLParser.parse("# only a comment\n")
        XCTAssertNil(comments.root)
        XCTAssertEqual(comments.errors, [])
    }

    func testExplicitDocumentMarkersAreFine() {
        let root = parse("---\nkind: Run\n...\n")
        XCTAssertEqual(root["kind"]!.mark, Mark(line: 2, column: 7))
    }

    // MARK: YAML 1.1 resolution

    func testYAML11Resolution() {
        let root = parse("""
        a: yes
        b: on
        c: 0123
        d: 1e3
        e: ~
        f: "no"
        g: 'on'
        h: 3.5
        i: null
        j: n
        k: 0x1F
        l: 1_000
        m: .inf
        n: hello
        o: 1:30
        p: 1.0e-5
        q: -7
        r: !!str 12
        s: 2026-01-01
        """)
        let expect: [(String, ResolvedType)] = [
            ("a", .bool), ("b", .bool), ("c", .int), ("d", .float), ("e", .null), ("f", .string), ("g", .string),
            ("h", .float), ("i", .null), ("j", .string), ("k", .int), ("l", .int), ("m", .float), ("n", .string),
            ("o", .int), ("p", .float), ("q", .int), ("r", .string), ("s", .string),
        ]
        for (k, t) in expect { XCTAssertEqual(root[k]!.resolvedType, t, k) }
    }

    func testResolvePlainEdgeCases() {
        XCTAssertEqual(Node.resolvePlain(""), .null)
        XCTAssertEqual(Node.resolvePlain("-"), .string)
        XCTAssertEqual(Node.resolvePlain("."), .string)
        XCTAssertEqual(Node.resolvePlain("+1"), .int)
        XCTAssertEqual(Node.resolvePlain("0b101"), .int)
        XCTAssertEqual(Node.resolvePlain("1.2.3"), .string)
        XCTAssertEqual(Node.resolvePlain("v1"), .string)
        XCTAssertEqual(Node.resolvePlain("e3"), .string)
        XCTAssertEqual(Node.resolvePlain("1e"), .string)
        XCTAssertEqual(Node.resolvePlain("-.inf"), .float)
        XCTAssertEqual(Node.resolvePlain(".NaN"), .float)
        XCTAssertEqual(Node.resolvePlain("True"), .bool)
        XCTAssertEqual(Node.resolvePlain("OFF"), .bool)
        XCTAssertEqual(Node.resolvePlain("tiny-char@v1"), .string)
        XCTAssertEqual(Node.resolvePlain("0.003"), .float)
        XCTAssertEqual(Node.resolvePlain("１２"), .string, "non-ASCII digits are text")
    }

    func testFastResolverAgreesWithTheReference() {
        var corpus = ["", "~", "~x", "null", "Null", "NULL", "nul", "nulls", "yes", "Yes", "YES", "yEs", "no", "No", "NO", "on", "On", "ON", "off", "Off",
                      "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "n", "N", "t", "f", "o", "tiny-char@v1", "v1",
                      "0", "00", "0123", "-0", "+0", "+", "-", ".", "..", "_", "__", "_1", "1_000", "-1_0", "0b", "0b101", "0b102", "0x", "0x1F",
                      "0xg", "-0x1f", "1:30", "1:", ":1", "1::2", "12:30:45", "1.5", "1.", ".5", "1.2.3", "1e3", "1E3", "1e+3", "1e-3", "1e",
                      "1e+", "e3", "1.0e-5", "-.inf", ".inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "-.nan", "1_0.5", "3e3e3",
                      "1x", "0o17", "12abc", "１２", "+.5", "-1.5e10", "2026-01-01", "python3", "numpy>=1.26", "=", "<<", "é", "1 2"]
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789+-._eExXbo:~nNyYaf ")
        for _ in 0..<5000 { corpus.append(String((0..<Int.random(in: 0...6, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })) }
        for s in corpus { XCTAssertEqual(Node.resolvePlain(s), Reference.resolvePlain(s), "\"\(s)\"") }
    }

    // MARK: duplicate keys

    func testDuplicateKeyOneErrorFirstWins() {
        let doc = YAMLParser.parse("kind: Run\npool: local\npool: gpu\n")
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors.first?.mark, Mark(line: 3, column: 1))
        XCTAssertTrue(doc.errors.first?.message.contains("duplicate key \"pool\"") ?? false)
        XCTAssertTrue(doc.errors.first?.message.contains("line 2") ?? false)
        XCTAssertEqual(doc.root?["pool"]?.scalar, "local")
        XCTAssertEqual(doc.root?.pairs?.count, 2)
    }

    func testEachDuplicateReportedOnce() {
        let doc = YAMLParser.parse("a: 1\na: 2\na: 3\nb:\n  x: 1\n  x: 2\n")
        XCTAssertEqual(doc.errors.map(\.mark), [Mark(line: 2, column: 1), Mark(line: 3, column: 1), Mark(line: 6, column: 3)])
        XCTAssertEqual(doc.root?["a"]?.scalar, "1")
        XCTAssertEqual(doc.root?["b"]?["x"]?.scalar, "1")
    }

    func testDuplicateKeysInFlowMappingAndSequenceItems() {
        let doc = YAMLParser.parse("p: {a: 1, a: 2}\nl:\n  - n: 1\n    n: 2\n")
        XCTAssertEqual(doc.errors.map(\.mark), [Mark(line: 1, column: 11), Mark(line: 4, column: 5)])
    }

    func testSameKeyInDifferentMappingsIsFine() {
        _ = parse("a:\n  x: 1\nb:\n  x: 2\nl:\n  - x: 1\n  - x: 2\n")
    }

    func testNonScalarKeyIsAnError() {
        let doc = YAMLParser.parse("? [a, b]\n: 1\nc: 2\n")
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors.first?.mark, Mark(line: 1, column: 3))
        XCTAssertEqual(doc.root?["c"]?.scalar, "2")
    }

    // MARK: unsupported features

    func testAnchorAndAliasAreErrors() {
        let doc = YAMLParser.parse("base: &b {lr: 1}\nother: *b\n")
        XCTAssertEqual(doc.errors.count, 2)
        XCTAssertEqual(doc.errors[0].mark, Mark(line: 1, column: 7))
        XCTAssertTrue(doc.errors[0].message.contains("anchors are not supported"))
        XCTAssertEqual(doc.errors[1].mark, Mark(line: 2, column: 8))
        XCTAssertTrue(doc.errors[1].message.contains("aliases are not supported"))
        XCTAssertNotNil(doc.root?["other"])
    }

    func testAliasAsMergeKey() {
        let doc = YAMLParser.parse("a: &x {p: 1}\nb:\n  <<: *x\n")
        XCTAssertEqual(doc.errors.count, 2)
        XCTAssertEqual(doc.errors[1].mark, Mark(line: 3, column: 7))
    }

    func testCustomTagIsAnError() {
        let doc = YAMLParser.parse("a: !secret xyz\nb: !!str 3\nc: !!python/object x\n")
        XCTAssertEqual(doc.errors.count, 2)
        XCTAssertEqual(doc.errors.map(\.mark), [Mark(line: 1, column: 4), Mark(line: 3, column: 4)])
        XCTAssertTrue(doc.errors[0].message.contains("unsupported tag !secret"), doc.errors[0].message)
        XCTAssertEqual(doc.root?["b"]?.resolvedType, .string)
    }

    func testCoreTagsChangeResolution() {
        let root = parse("a: !!str yes\nb: !!int \"3\"\nc: !!float 1\nd: !!bool \"true\"\ne: !!null ''\n")
        XCTAssertEqual(root["a"]!.resolvedType, .string)
        XCTAssertEqual(root["b"]!.resolvedType, .int)
        XCTAssertEqual(root["c"]!.resolvedType, .float)
        XCTAssertEqual(root["d"]!.resolvedType, .bool)
        XCTAssertEqual(root["e"]!.resolvedType, .null)
    }

    func testSecondDocumentIsOneError() {
        let doc = YAMLParser.parse("kind: Run\n---\nkind: Eval\n---\nkind: View\n")
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors.first?.mark, Mark(line: 2, column: 1))
        XCTAssertTrue(doc.errors.first?.message.contains("one object") ?? false)
        XCTAssertEqual(doc.root?["kind"]?.scalar, "Run")
    }

    func testSecondDocumentProblemsAreNotReportedTwice() {
        // Only the extra document is reported: what is inside it is not hone's concern.
        let doc = YAMLParser.parse("kind: Run\n---\na: 1\na: 2\n")
        XCTAssertEqual(doc.errors.count, 1)
    }

    // MARK: syntax errors

    func testUnterminatedQuoteUsesContextMark() {
        let doc = YAMLParser.parse("kind: Run\ndescription: \"never closed\npool: local\n")
        XCTAssertNil(doc.root)
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors[0].mark, Mark(line: 2, column: 14))
        XCTAssertTrue(doc.errors[0].message.contains("quoted scalar"), doc.errors[0].message)
    }

    func testTabIndentationIsASyntaxError() {
        let doc = YAMLParser.parse("kind: Run\nparams:\n\tlr: 1\n")
        XCTAssertNil(doc.root)
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors[0].mark.line, 3)
        XCTAssertEqual(doc.errors[0].mark.column, 1)
        XCTAssertTrue(doc.errors[0].message.contains("syntax error"))
    }

    func testTabAfterValueIsFine() {
        let root = parse("a: 1\t# comment\nb:\t2\n")
        XCTAssertEqual(root["a"]!.scalar, "1")
    }

    func testBadIndentation() {
        let doc = YAMLParser.parse("kind: Run\nparams:\n  a: 1\n b: 2\n")
        XCTAssertNil(doc.root)
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors[0].mark.line, 4)
    }

    func testMissingColonSpace() {
        let doc = YAMLParser.parse("kind: Run\npool:local\nx: [1, 2\n")
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertNil(doc.root)
    }

    func testUnclosedFlowSequence() {
        let doc = YAMLParser.parse("kind: Run\nrequirements: [numpy,\n")
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors[0].mark, Mark(line: 2, column: 15), doc.errors[0].description)
        XCTAssertTrue(doc.errors[0].message.contains("this [ is never closed"), doc.errors[0].message)
        let map = YAMLParser.parse("params: {a: 1,\n  b: 2\n")
        XCTAssertEqual(map.errors.map(\.mark), [Mark(line: 1, column: 9)], map.errors.description)
    }

    func testSyntaxErrorAfterUnicodeCountsCharacters() {
        let doc = YAMLParser.parse("dé: \"x\" ü: 1\n")
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors[0].mark.line, 1)
        XCTAssertEqual(doc.errors[0].mark.column, 9, doc.errors[0].description)
    }

    func testInvalidUTF8HasALineAndColumn() {
        var bytes = Array("kind: Run\npool: lo".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("cal\n".utf8)
        let doc = YAMLParser.parse(bytes)
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertNil(doc.root)
        XCTAssertEqual(doc.errors[0].mark, Mark(line: 2, column: 9), doc.errors[0].description)
        XCTAssertTrue(doc.errors[0].message.contains("UTF-8"), doc.errors[0].message)
    }

    func testControlCharacterIsAReaderError() {
        let doc = YAMLParser.parse("kind: Run\nx: a\u{01}b\n")
        XCTAssertEqual(doc.errors.count, 1)
        XCTAssertEqual(doc.errors[0].mark.line, 2, doc.errors[0].description)
    }

    func testLargeDocumentKeepsOrder() {
        var text = ""
        for i in 0..<500 { text += "k\(i): v\(i)\n" }
        let root = parse(text)
        XCTAssertEqual(root.pairs!.count, 500)
        XCTAssertEqual(root.pairs![499].key.scalar, "k499")
        XCTAssertEqual(root.pairs![499].key.mark, Mark(line: 500, column: 1))
    }

    func testNestedStructure() {
        let root = parse("a:\n  - b:\n      - [1, {c: d}]\n")
        let inner = root["a"]!.items![0]["b"]!.items![0].items![1]
        XCTAssertEqual(inner["c"]!.scalar, "d")
        XCTAssertEqual(inner["c"]!.mark, Mark(line: 3, column: 17))
    }
}

/// The resolver as it was before the byte-level rewrite: the fast one must agree with it.
enum Reference {
    /// YAML 1.1 (PyYAML's) implicit resolvers for plain scalars.
    static func resolvePlain(_ s: String) -> ResolvedType {
        if s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL" { return .null }
        switch s {
        case "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
             "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N":
            // PyYAML reads y/n as strings, other YAML 1.1 readers as bools: strings here, and the
            // emitter quotes them so no reader can take them for bools.
            return (s == "y" || s == "Y" || s == "n" || s == "N") ? .string : .bool
        default: break
        }
        if isYAMLInt(s) { return .int }
        if isYAMLFloat(s) { return .float }
        return .string
    }

    static func isYAMLInt(_ s: String) -> Bool {
        var t = Substring(s)
        if t.first == "+" || t.first == "-" { t = t.dropFirst() }
        if t.isEmpty { return false }
        let body = t.replacingOccurrences(of: "_", with: "")
        if body.isEmpty { return false }
        if body.hasPrefix("0b") { return body.count > 2 && body.dropFirst(2).allSatisfy { $0 == "0" || $0 == "1" } }
        if body.hasPrefix("0x") { return body.count > 2 && body.dropFirst(2).allSatisfy { $0.isHexDigit } }
        if body.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }  // includes 0123 (octal in 1.1)
        // sexagesimal 1:30
        if body.contains(":") {
            let parts = body.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count >= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        }
        return false
    }

    static func isYAMLFloat(_ s: String) -> Bool {
        let lower = s.lowercased()
        if [".inf", "+.inf", "-.inf", ".nan"].contains(lower) { return true }
        var t = Substring(s.replacingOccurrences(of: "_", with: ""))
        if t.first == "+" || t.first == "-" { t = t.dropFirst() }
        // [0-9]*\.[0-9]*([eE][-+][0-9]+)? with at least one digit; also 1e3 (YAML 1.2 / many readers).
        var mantissa = t
        var exponent: Substring? = nil
        if let e = t.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = t[..<e]
            exponent = t[t.index(after: e)...]
        }
        let digitsDots = mantissa.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "." }
        let dots = mantissa.filter { $0 == "." }.count
        let hasDigit = mantissa.contains { $0.isASCII && $0.isNumber }
        guard digitsDots, dots <= 1, hasDigit else { return false }
        if let exp = exponent {
            var x = exp
            if x.first == "+" || x.first == "-" { x = x.dropFirst() }
            return !x.isEmpty && x.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return dots == 1
    }
}

