import Foundation
import HoneLoading
import HoneModel
import YAML

/// Publishing a succeeded run's draft model: a ModelVersion manifest at `models/M/vN.yaml` with the
/// artifact's uri and sha256, the run's lineage and metrics. Written once; immutable after.
enum Publisher {
    /// The manifest is redacted here, as a tree and before its digest is taken.
    static func publish(run: RunSpec, status s: inout ObjectStatus, as ref: VersionRef, at now: Date, redactor: SecretRedactor,
                        contents: ModelContents? = nil, into changes: inout ChangeSet) throws {
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
        ] + (contents?.manifestFields ?? []) + [
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

    /// A succeeded attempt whose model an existing version already holds (same sha256): nothing is
    /// written; the status says which version it is, so it is not published again.
    static func recordAlreadyPublished(status s: inout ObjectStatus, as ref: VersionRef, at now: Date) {
        guard var run = s.run, let model = run.model else { return }
        run.publishedAs = ref.description
        run.model = ModelOutput(name: ref.name, version: ref.version, uri: model.uri, sha256: model.sha256, published: true)
        s.run = run
        s.events.append(StatusEvent(at: Timestamp.string(now), reason: "AlreadyPublished",
                                    message: "the model (sha256 \(model.sha256 ?? "?")) is already \(ref) (models/\(ref.name)/\(ref.version).yaml): nothing published"))
    }
}

/// What a published manifest says of the model's files (specs/versions.md): each file with its sha256 and
/// size, the total size, and for an adapter (a PEFT folder: `adapter_config.json` at its top) the base model
/// it is applied to, with that base's sha256.
struct ModelContents {
    var files: [StoredFile]
    var base: (ref: VersionRef, sha256: String?)?

    /// The contents of the run's stored model; nil when the store cannot list it (the manifest then has no
    /// `files`).
    static func of(_ model: ModelOutput, run: RunSpec, store: ArtifactStore, desired: DesiredState) -> ModelContents? {
        guard let uri = model.uri, let sha = model.sha256, let files = try? store.files(ofModel: uri, sha256: sha) else { return nil }
        let adapter = files.contains { $0.path == "adapter_config.json" }
        return ModelContents(files: files, base: adapter ? (run.baseModel, desired.version(.model, run.baseModel)?.sha256) : nil)
    }

    var manifestFields: [(String, Node)] {
        var fields: [(String, Node)] = []
        if let base {
            var b: [(String, Node)] = [("model", .text(base.ref.description))]
            if let sha = base.sha256 { b.append(("sha256", .text(sha))) }
            fields.append(("base", .mapping(b)))
        }
        fields.append(("size", .int(files.reduce(0) { $0 + $1.size })))
        fields.append(("files", .sequence(files.map { f in
            .mapping([("path", .text(f.path)), ("sha256", .text(f.sha256)), ("size", .int(f.size))])
        })))
        return fields
    }
}
