import Foundation
import HoneModel
import XCTest
import YAML
@testable import HoneLoading

/// A model version hone published is immutable: editing its manifest afterwards is an error at validate.
final class PublishedManifestTests: XCTestCase {
    let manifest = """
    # Written by hone when it published support/lora-r8. Published versions are immutable: do not edit.
    kind: ModelVersion
    uri: store://sha256/\(sha)/model.npz
    sha256: "\(sha)"
    publishedFrom: support/lora-r8

    """

    func status(digest: String) throws -> String {
        let key = ObjectKey(scope: .group("support"), kind: .run, name: "lora-r8")
        var s = ObjectStatus(key: key, id: "lora-r8-1-abc", phase: .succeeded, pool: "local", handler: "h", attempt: 1, specDigest: "d")
        s.run?.publishedAs = "published-bot@v1"
        s.run?.publishedDigest = digest
        return try YAMLEmitter.emit(StatusCodec.encode(s))
    }

    func testUntouchedManifestIsValid() throws {
        check(["models/published-bot/v1.yaml": manifest,
               "status/groups/support/runs/lora-r8.yaml": try status(digest: ContentHash.hex(manifest))], [])
    }

    func testEditedManifestIsAnErrorAndNotUsable() throws {
        let edited = manifest.replacingOccurrences(of: "publishedFrom", with: "description: better\npublishedFrom")
        let r = check(["models/published-bot/v1.yaml": edited,
                       "status/groups/support/runs/lora-r8.yaml": try status(digest: ContentHash.hex(manifest))],
                      [Expect("models/published-bot/v1.yaml", 1, 1, "published versions are immutable")])
        XCTAssertNil(r.desired.version(.model, VersionRef(name: "published-bot", version: "v1")))
    }
}
