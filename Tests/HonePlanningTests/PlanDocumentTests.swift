import Foundation
import HoneModel
import HonePlanning
import XCTest
import YAML

/// `hone plan --format json` is a typed, versioned document written straight into bytes: pinned here byte for
/// byte, and checked against the generic JSON value writer the plan was rendered with before.
final class PlanDocumentTests: XCTestCase {
    func key(_ name: String, _ kind: ObjectKey.Kind = .run) -> ObjectKey { ObjectKey(scope: .group("g"), kind: kind, name: name) }

    /// Every kind of field: costs known, zero and unknown, gates, supersedes, publishAs, and text that needs
    /// escaping (quotes, backslashes, line breaks, a terminal escape, a C1 control, a bidi override, accents).
    var plan: Plan {
        Plan(actions: [
            PlannedAction(key: key("a"), action: .create, reason: "new run: never run", id: "a-1-0123456789", attempt: 1,
                          specDigest: "d1", pool: "local", costEstimate: 0),
            PlannedAction(key: key("b"), action: .rerun, reason: "spec changed: cancels \"b\" \\ then\nstarts\tagain",
                          id: "b-2-abcdef0123", attempt: 2, specDigest: "d2", pool: "gpu", costEstimate: 10.25, supersedes: "b-1-fedcba9876"),
            PlannedAction(key: key("c", .eval), action: .blocked, reason: "waits for \u{1b}[2J é \u{85} \u{202E}x", pool: "cloud",
                          costNote: "unknown", gates: ["metrics.accuracy >= 0.5", "metrics.loss <= 2"]),
            PlannedAction(key: key("d"), action: .publish, reason: "succeeded; publish", id: "d-1-1111111111", attempt: 1,
                          specDigest: "d4", pool: "local", publishAs: VersionRef(name: "m", version: "v2")),
            PlannedAction(key: key("e"), action: .noop, reason: "attempt 1 succeeded; spec unchanged", id: "e-1-2222222222", attempt: 1,
                          specDigest: "d5", pool: "local"),
        ], errors: [Diagnostic(path: "groups/g/runs/x.yaml", mark: Mark(line: 3, column: 5), message: "unknown field \"lrr\"")])
    }

    func testThePlanDocumentIsPinnedByteForByte() throws {
        let text = String(decoding: PlanDocument(plan).jsonText(), as: UTF8.self)
        let expected = #"""
        {
          "actions": [
            {
              "action": "create",
              "attempt": 1,
              "estimatedCost": 0.0,
              "id": "a-1-0123456789",
              "kind": "Run",
              "object": "groups/g/runs/a",
              "pool": "local",
              "reason": "new run: never run",
              "specDigest": "d1"
            },
            {
              "action": "rerun",
              "attempt": 2,
              "estimatedCost": 10.25,
              "id": "b-2-abcdef0123",
              "kind": "Run",
              "object": "groups/g/runs/b",
              "pool": "gpu",
              "reason": "spec changed: cancels \"b\" \\ then\nstarts\tagain",
              "specDigest": "d2",
              "supersedes": "b-1-fedcba9876"
            },
            {
              "action": "blocked",
              "estimatedCost": null,
              "gates": [
                "metrics.accuracy >= 0.5",
                "metrics.loss <= 2"
              ],
              "kind": "Eval",
              "object": "groups/g/evals/c",
              "pool": "cloud",
              "reason": "waits for \u001b[2J é \u0085 \u202ex"
            },
            {
              "action": "publish",
              "attempt": 1,
              "id": "d-1-1111111111",
              "kind": "Run",
              "object": "groups/g/runs/d",
              "pool": "local",
              "publishAs": "m@v2",
              "reason": "succeeded; publish",
              "specDigest": "d4"
            },
            {
              "action": "noop",
              "attempt": 1,
              "id": "e-1-2222222222",
              "kind": "Run",
              "object": "groups/g/runs/e",
              "pool": "local",
              "reason": "attempt 1 succeeded; spec unchanged",
              "specDigest": "d5"
            }
          ],
          "apiVersion": "hone/v1",
          "errors": [
            {
              "column": 5,
              "line": 3,
              "message": "unknown field \"lrr\"",
              "path": "groups/g/runs/x.yaml"
            }
          ],
          "estimatedCost": 10.25,
          "kind": "Plan"
        }
        """#
        XCTAssertEqual(text, expected)
    }

    /// The bytes are what the generic writer gives for the same values (sorted keys, the same numbers and
    /// escapes), the document reads back with JSONDecoder, and an empty plan is `[]`, not `[\n]`.
    func testTheDocumentMatchesTheGenericWriterAndDecodes() throws {
        for p in [plan, Plan()] {
            let bytes = PlanDocument(p).jsonText()
            let generic = try JSONValue.parse(Data(bytes)).prettyJSON
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), generic)
            let decoded = try JSONDecoder().decode(PlanDocument.self, from: Data(bytes))
            XCTAssertEqual(decoded, PlanDocument(p))
            XCTAssertEqual(decoded.apiVersion, "hone/v1")
            XCTAssertEqual(decoded.kind, "Plan")
        }
        let empty = String(decoding: PlanDocument(Plan()).jsonText(), as: UTF8.self)
        XCTAssertEqual(empty, "{\n  \"actions\": [],\n  \"apiVersion\": \"hone/v1\",\n  \"errors\": [],\n  \"estimatedCost\": 0.0,\n  \"kind\": \"Plan\"\n}")
        let decoded = try JSONDecoder().decode(PlanDocument.self, from: Data(PlanDocument(plan).jsonText()))
        XCTAssertEqual(decoded.actions[2].estimatedCost, .unknown, "null: a cost hone cannot bound")
        XCTAssertEqual(decoded.actions[1].estimatedCost, .bound(10.25))
        XCTAssertNil(decoded.actions[3].estimatedCost, "no cost on an action that starts no work")
    }

    /// The writer behind every JSON output and every spec digest: the canonical form has no spaces, numbers
    /// as before (integral doubles with `.0`, `-0.0` kept), strings escaped.
    func testCanonicalJSONIsUnchanged() {
        let v = JSONValue.object(["b": .array([.int(1), .double(2), .double(-0.0), .double(0.25), .double(1e20), .double(.nan)]),
                                  "a": .string("x\"\\\n\u{7f}ü"), "c": .object([:]), "d": .array([]), "e": .bool(true), "f": .null])
        XCTAssertEqual(v.canonicalJSON, #"{"a":"x\"\\\n\u007fü","b":[1,2.0,-0.0,0.25,1e+20,null],"c":{},"d":[],"e":true,"f":null}"#)
        XCTAssertEqual(JSONValue.object(["k": .array([.int(1)])]).prettyJSON, "{\n  \"k\": [\n    1\n  ]\n}")
    }
}
