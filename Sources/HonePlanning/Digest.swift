import HoneModel

/// Spec digests and job ids (specs/status.md). The digest covers what changes a job's result — handler,
/// params, inputs and the digests of the versions they name — in canonical form (sorted keys, no
/// formatting), so comments, key order, descriptions, owners and pools never cause a rerun.
public enum SpecDigest {
    /// The key under which a status records the digest of an input version: `models/tiny-char/v1`.
    public static func inputKey(_ kind: VersionKind, _ ref: VersionRef) -> String { "\(kind.folder)/\(ref.name)/\(ref.version)" }
    /// The key for a run's draft model used by an eval: `runs/support/lr-small`.
    public static func runInputKey(_ run: ObjectKey) -> String { "runs/\(run.display)" }

    public static func canonical(_ run: RunSpec) -> JSONValue {
        var o: [String: JSONValue] = [
            "kind": .string("Run"), "handler": .string(run.handler), "params": .object(run.params),
            "baseModel": .string(run.baseModel.description), "trainDataset": .string(run.trainDataset.description),
        ]
        if let v = run.validationDataset { o["validationDataset"] = .string(v.description) }
        if let r = run.runtime { o["runtime"] = .string(r.description) }
        return .object(o)
    }

    public static func canonical(_ eval: EvalSpec) -> JSONValue {
        var o: [String: JSONValue] = [
            "kind": .string("Eval"), "handler": .string(eval.handler), "params": .object(eval.params),
            "dataset": .string(eval.dataset.description), "debug": .bool(eval.debug.enabled),
        ]
        if let m = eval.model { o["model"] = .string(m.description) }
        if let r = eval.fromRun { o["fromRun"] = .string(r) }
        if let r = eval.runtime { o["runtime"] = .string(r.description) }
        return .object(o)
    }

    /// What restarts a playground: what it serves and how (not its release limits, which apply to the
    /// running server as recorded).
    public static func canonical(_ p: PlaygroundSpec) -> JSONValue {
        var o: [String: JSONValue] = ["kind": .string("Playground"), "handler": .string(p.handler), "params": .object(p.params)]
        if let m = p.model { o["model"] = .string(m.description) }
        if let r = p.fromRun { o["fromRun"] = .string(r) }
        if let r = p.runtime { o["runtime"] = .string(r.description) }
        if let k = p.apiKeyEnv { o["apiKeyEnv"] = .string(k) }
        return .object(o)
    }

    /// sha256 over the canonical spec plus `inputs` (input key → digest), sorted, plus the digest of the
    /// object's code files (`CodeSnapshot.digest`) when it has any: without code, the digest is the one
    /// hone computed before it recorded code.
    public static func digest(canonical: JSONValue, inputs: [String: String], code: String? = nil) -> String {
        var s = ContentHash()
        var text = JSONWriter(pretty: false, capacity: 512)
        canonical.write(into: &text)
        s.update(text.bytes)
        for k in inputs.keys.sorted() { s.update("\n\(k)=\(inputs[k]!)") }
        if let code { s.update("\ncode=\(code)") }
        return s.finalize()
    }

    /// `lr-small-1-3f9c2b1d7e`: readable, unique per (object, digest, attempt), valid as a folder
    /// and Slurm job name.
    public static func jobID(_ key: ObjectKey, digest: String, attempt: Int) -> String {
        let h = ContentHash.hex("\(key.objectPath)\n\(digest)\n\(attempt)")
        return "\(key.name.prefix(40))-\(attempt)-\(h.prefix(10))"
    }
}
