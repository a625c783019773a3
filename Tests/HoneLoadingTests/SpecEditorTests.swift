import XCTest
import YAML
@testable import HoneLoading

final class SpecEditorTests: XCTestCase {
    let run = """
    # A rank-8 adapter.
    kind: Run
    description: rank-8 adapter   # keep me
    baseModel: tiny-char@v1

    # training data
    trainDataset: tickets@v3
    params:
      epochs: 3     # three is plenty
      lr: 0.003
    rerun: 0        # raise to run again
    handler: python train.py

    """

    func testRaisingRerunKeepsEverythingElse() throws {
        var e = try SpecEditor(text: run, path: "groups/g/runs/r.yaml")
        try e.set("rerun", .int(1))
        XCTAssertEqual(e.text, run.replacingOccurrences(of: "rerun: 0        # raise to run again", with: "rerun: 1  # raise to run again"))
        XCTAssertEqual(try e.value("rerun")?.scalar, "1")
    }

    func testAddingAPublishBlockAppendsIt() throws {
        var e = try SpecEditor(text: run, path: "r.yaml")
        try e.set("publish", .mapping([("model", .string("support-bot")), ("as", .string("new"))]))
        XCTAssertEqual(e.text, run + "publish:\n  model: support-bot\n  as: new\n")
        let doc = YAMLParser.parse(e.text)
        XCTAssertEqual(doc.errors, [])
        XCTAssertEqual(doc.root?["publish"]?["model"]?.scalar, "support-bot")
    }

    func testAddingToAFileWithoutTrailingNewline() throws {
        var e = try SpecEditor(text: "kind: Run\nhandler: x", path: "r.yaml")
        try e.set("rerun", .int(1))
        XCTAssertEqual(e.text, "kind: Run\nhandler: x\nrerun: 1\n")
    }

    func testReplacingABlockValue() throws {
        var e = try SpecEditor(text: run, path: "r.yaml")
        try e.set("params", .mapping([("epochs", .int(5))]))
        XCTAssertTrue(e.text.contains("params:\n  epochs: 5\nrerun: 0        # raise to run again\n"), e.text)
        XCTAssertTrue(e.text.hasPrefix("# A rank-8 adapter.\nkind: Run\ndescription: rank-8 adapter   # keep me\n"))
        XCTAssertEqual(YAMLParser.parse(e.text).errors, [])
    }

    func testReplacingABlockKeepsTheCommentBeforeTheNextKey() throws {
        var e = try SpecEditor(text: "kind: Run\nparams:\n  a: 1\n\n# about the handler\nhandler: x\n", path: "r.yaml")
        try e.set("params", .mapping([("b", .int(2))]))
        XCTAssertEqual(e.text, "kind: Run\nparams:\n  b: 2\n\n# about the handler\nhandler: x\n")
    }

    func testRemovingAKey() throws {
        var e = try SpecEditor(text: run + "publish:\n  model: m\n  as: new\n", path: "r.yaml")
        try e.remove("publish")
        XCTAssertEqual(e.text, run)
        try e.remove("absent")
        XCTAssertEqual(e.text, run)
    }

    func testRemovingKeepsTheCommentBeforeTheNextKey() throws {
        var e = try SpecEditor(text: run, path: "r.yaml")
        try e.remove("baseModel")
        XCTAssertTrue(e.text.contains("description: rank-8 adapter   # keep me\n\n# training data\ntrainDataset"), e.text)
    }

    func testSetScalarTextQuotesAmbiguousStrings() throws {
        var e = try SpecEditor(text: "kind: Group\ndescription: old # note\n", path: "g.yaml")
        try e.set("description", SpecEditor.scalarText("no"))
        XCTAssertEqual(e.text, "kind: Group\ndescription: \"no\"  # note\n")
        XCTAssertEqual(try e.value("description")?.resolvedType, .string)
        try e.set("description", SpecEditor.scalarText("a: b # not a comment"))
        XCTAssertEqual(try e.value("description")?.scalar, "a: b # not a comment")
    }

    func testCRLFFilesStayCRLF() throws {
        var e = try SpecEditor(text: "kind: Run\r\nrerun: 0\r\nhandler: x\r\n", path: "r.yaml")
        try e.set("rerun", .int(2))
        XCTAssertEqual(e.text, "kind: Run\r\nrerun: 2\r\nhandler: x\r\n")
    }

    func testBrokenFileIsRefused() {
        XCTAssertThrowsError(try SpecEditor(text: "kind: [Run\n", path: "groups/g/runs/r.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("groups/g/runs/r.yaml:1:7: error:"), "\(error)")
        }
    }
}
