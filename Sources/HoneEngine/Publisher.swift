import Foundation
import HoneLoading
import HoneModel
import YAML

/// Publishing a succeeded run's draft model: a ModelVersion manifest at `models/M/vN.yaml` with the
/// artifact's uri and sha256, the run's lineage and metrics. Written once; immutable after.
enum Publisher {
    /// The manifest is redacted here, as a tree and before its digest is taken.
    static func publish(run: RunSpec, status s: inout ObjectStatus, as ref: VersionRef, at now: Date, redactor: SecretRedactor,
                        into changes: inout ChangeSet) throws {
        guard let model = s.run?.model, let uri = model.uri, let sha = model.sha256 else {
            throw HoneError("\(run.key.display) has no stored model to publish")
        }
        var lineage: [(String, Node)] = [
            ("run", .text(run.key.display)), ("attempt", .int(s.attempt)), ("jobId", .text(s.id)),
        ]
        if let c = s.specCommit { lineage.append(("specCommit", .text(c))) }
        lineage.append(("baseModel", .text(run.baseModel.description)))
        lineage.append(("trainDataset", .text(run.trainDataset.description)))
        if let v = run.validationDataset { lineage.append(("validationDataset", .text(v.description))) }
        if let r = run.runtime { lineage.append(("runtime", .text(r.description))) }
        lineage.append(("handler", .text(run.handler)))
        lineage.append(("params", StatusCodec.json(.object(run.params))))
        let manifest: Node = .mapping([
            ("kind", .string("ModelVersion")),
            ("description", .text("Published by hone from run \(run.key.display), attempt \(s.attempt)")),
            ("uri", .text(uri)),
            ("sha256", .text(sha)),
            ("publishedFrom", .text(run.key.display)),
            ("publishedAt", .text(Timestamp.string(now))),
            ("lineage", .mapping(lineage)),
            ("metrics", StatusCodec.json(.object(s.metrics))),
        ])
        let header = "# Written by hone when it published \(run.key.display). Published versions are immutable: do not edit.\n"
        let text = header + (try YAMLEmitter.emit(redactor.redact(manifest)))
        changes.write("models/\(ref.name)/\(ref.version).yaml", text)
        s.run?.publishedAs = ref.description
        s.run?.publishedDigest = ContentHash.hex(text)
        s.run?.model = ModelOutput(name: ref.name, version: ref.version, uri: uri, sha256: sha, published: true)
        s.events.append(StatusEvent(at: Timestamp.string(now), reason: "Published", message: "published as \(ref) (models/\(ref.name)/\(ref.version).yaml)"))
    }
}
