import XCTest
@testable import YAML

/// The nesting limit: files nested past `YAMLParser.maxDepth` are one error at the collection that
/// crosses it, found without building (or recursing into) a deep tree; trees within it round-trip.
final class DepthTests: XCTestCase {
    private let limit = YAMLParser.maxDepth
    private var tooDeep: String { "nested too deeply: hone files allow at most \(limit) levels of lists and mappings" }

    func testBlockSequencesNestedPastTheLimitAreOneErrorAtTheCollectionThatCrossesIt() {
        // `- - - … 1`: each `- ` opens a sequence one level deeper, two columns further right.
        let doc = YAMLParser.parse(String(repeating: "- ", count: 25_000) + "1\n")
        XCTAssertNil(doc.root)
        XCTAssertEqual(doc.errors, [YAMLError(tooDeep, at: Mark(line: 1, column: 2 * limit + 1))])
    }

    func testFlowCollectionsNestedPastTheLimitAreOneError() {
        let n = 25_000
        let seqs = YAMLParser.parse("x: " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "\n")
        XCTAssertNil(seqs.root)
        // The root mapping is level 1, so the (limit - 1)th bracket is the last one allowed.
        XCTAssertEqual(seqs.errors, [YAMLError(tooDeep, at: Mark(line: 1, column: 4 + limit - 1))])
        let maps = YAMLParser.parse(String(repeating: "{a: ", count: n) + "1" + String(repeating: "}", count: n))
        XCTAssertEqual(maps.errors, [YAMLError(tooDeep, at: Mark(line: 1, column: 4 * limit + 1))])
    }

    func testBlockMappingsNestedPastTheLimitAreOneError() {
        var text = ""
        for level in 0..<(limit + 5) { text += String(repeating: " ", count: level) + "k:\n" }
        let doc = YAMLParser.parse(text)
        // The mapping at level limit+1 starts at its first key, on line limit+1.
        XCTAssertEqual(doc.errors, [YAMLError(tooDeep, at: Mark(line: limit + 1, column: limit + 1))])
    }

    func testAMillionOpenBracketsAreRejectedAtTheLimitWithoutReadingThemAll() {
        // libyaml walks every open flow level for each token (quadratic: 20,000 levels took 0.5 s in
        // libyaml alone); stopping at the limit keeps this to the first few thousand bytes.
        let doc = YAMLParser.parse(String(repeating: "[", count: 1_000_000))
        XCTAssertEqual(doc.errors, [YAMLError(tooDeep, at: Mark(line: 1, column: limit + 1))])
    }

    func testErrorsBeforeTheDeepPartAreKept() {
        let doc = YAMLParser.parse("a: &x 1\nb: " + String(repeating: "[", count: 600) + "\n")
        XCTAssertEqual(doc.errors.map(\.message), ["anchors are not supported in hone files (&x): write the value out", tooDeep])
        XCTAssertEqual(doc.errors.last?.mark, Mark(line: 2, column: 4 + limit - 1))
    }

    /// A tree exactly at the limit is read, and written back identically by the emitter.
    func testNestingAtTheLimitIsReadAndRoundTrips() throws {
        let text = String(repeating: "[", count: limit) + "1" + String(repeating: "]", count: limit)
        let doc = YAMLParser.parse(text)
        XCTAssertEqual(doc.errors, [])
        var node = try XCTUnwrap(doc.root)
        var depth = 0
        while let items = node.items { depth += 1; node = items[0] }
        XCTAssertEqual(depth, limit)
        XCTAssertEqual(node.scalar, "1")
        let emitted = try YAMLEmitter.emit(doc.root!)
        let back = YAMLParser.parse(emitted)
        XCTAssertEqual(back.errors, [])
        XCTAssertEqual(back.root.map(stripMarks), stripMarks(doc.root!))
    }

    /// The emitter refuses what the parser would refuse, so hone never writes a file it cannot read.
    func testTheEmitterRefusesTreesDeeperThanTheParserReads() {
        var node = Node.int(1)
        for _ in 0..<(limit + 1) { node = .sequence([node]) }
        XCTAssertThrowsError(try YAMLEmitter.emit(node)) { error in
            XCTAssertEqual(error as? YAMLEmitError, YAMLEmitError("lists and mappings nest deeper than \(self.limit) levels: hone files allow at most \(self.limit)"))
        }
        var ok = Node.int(1)
        for _ in 0..<limit { ok = .mapping([("k", ok)]) }
        XCTAssertNoThrow(try YAMLEmitter.emit(ok))
    }

    private func stripMarks(_ n: Node) -> Node {
        switch n.content {
        case .scalar: return Node(n.content, tag: n.tag)
        case .sequence(let items): return Node(.sequence(items.map(stripMarks)), tag: n.tag)
        case .mapping(let pairs): return Node(.mapping(pairs.map { Pair(key: stripMarks($0.key), value: stripMarks($0.value)) }), tag: n.tag)
        }
    }
}
