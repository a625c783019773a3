import Foundation
import HoneLoading
import HoneModel

/// The JSON documents of the read commands (`get`, `describe`, `compare`, `diff`, `history`, `check`), each
/// a struct written down once (specs/json.md). Every document carries `apiVersion` and `kind`; objects are
/// named the same way everywhere (`ObjectRef`), models likewise (`ModelRef`).
public enum Documents {
    public static let apiVersion = "hone/v1"

    /// A document as the text every command prints (sorted keys, two-space indent, final newline).
    public static func text<T: Encodable>(_ document: T) -> String {
        ((try? JSONValue(encoding: document)) ?? .null).prettyJSON + "\n"
    }
}

/// How a run, eval or view is identified in every JSON document.
public struct ObjectRef: Encodable, Sendable, Equatable {
    public var group: String
    public var name: String
    /// Its spec file (which also says the kind: `groups/g/runs/x.yaml`).
    public var path: String
    public init(_ key: ObjectKey) { group = key.scope.name; name = key.name; path = key.specPath }
}

/// A model as a structured value: a published version (`draft: false`), or the draft output of a run.
public struct ModelRef: Encodable, Sendable, Equatable {
    public var name: String?
    public var version: String?
    /// True for a run's output that is not (yet) a published version.
    public var draft: Bool
    public var digest: String?
    public var uri: String?
    /// The run whose output this is (drafts, and published versions that say where they came from).
    public var run: ObjectRef?

    public init(name: String?, version: String?, draft: Bool, digest: String?, uri: String?, run: ObjectRef? = nil) {
        self.name = name; self.version = version; self.draft = draft; self.digest = digest; self.uri = uri; self.run = run
    }

    /// A version the repository declares (models/NAME/VERSION.yaml), with its digest and URI when known.
    public static func version(_ ref: VersionRef, _ load: LoadResult) -> ModelRef {
        let spec = load.desired.versions[.model]?[ref]
        let from = spec?.publishedFrom.flatMap { try? ObjectAddress.parse($0) }
            .map { ObjectKey(scope: $0.scope, kind: .run, name: $0.name) }
        return ModelRef(name: ref.name, version: ref.version, draft: false, digest: spec?.sha256, uri: spec?.uri, run: from.map(ObjectRef.init))
    }

    /// `name@version` as recorded in a status (a spec since deleted): the version, or only a name.
    static func recorded(_ text: String, _ load: LoadResult) -> ModelRef {
        if let r = VersionRef.parse(text) { return version(r, load) }
        return ModelRef(name: text, version: nil, draft: false, digest: nil, uri: nil)
    }

    /// What an eval reads: its `model:` version, or the draft of its `fromRun:` run.
    public static func of(eval key: ObjectKey, _ load: LoadResult) -> ModelRef? {
        if let spec = load.desired.evals[key] {
            if let m = spec.model { return version(m, load) }
            if let run = spec.fromRunKey { return output(of: run, load) ?? ModelRef(name: nil, version: nil, draft: true, digest: nil, uri: nil, run: ObjectRef(run)) }
        }
        return load.recorded.statuses[key]?.eval?.model.map { recorded($0, load) }
    }

    /// The model a run made, as its status records it.
    public static func output(of run: ObjectKey, _ load: LoadResult) -> ModelRef? {
        guard let m = load.recorded.statuses[run]?.run?.model else { return nil }
        return ModelRef(name: m.name, version: m.version, draft: !m.published, digest: m.sha256, uri: m.uri, run: ObjectRef(run))
    }
}

/// `get -o json`: `{"apiVersion", "kind": "RunList", "items": [...]}`. Items do not depend on the view
/// (a view picks rows with its filter and sort, and the table's columns).
public struct ListDocument: Encodable {
    public var apiVersion = Documents.apiVersion
    public var kind: String
    public var items: [JSONValue]
}

/// One run of `get runs`.
public struct RunItem: Encodable {
    public var object: ObjectRef
    public var phase: String
    public var baseModel: ModelRef?
    public var trainDataset: String?
    public var validationDataset: String?
    public var pool: String?
    public var owner: String?
    public var createdAt: String?
    public var finishedAt: String?
    public var durationSeconds: Double?
    public var attempt: Int?
    public var params: [String: JSONValue]
    /// The run's summary metrics (summary.json), as recorded.
    public var metrics: [String: JSONValue]
    /// The model the run made (draft or published).
    public var output: ModelRef?
}

/// One eval of `get evals`.
public struct EvalItem: Encodable {
    public var object: ObjectRef
    public var phase: String
    public var model: ModelRef?
    public var dataset: String?
    public var runtime: String?
    public var handler: String?
    public var pool: String?
    public var owner: String?
    public var cost: Double?
    public var createdAt: String?
    public var finishedAt: String?
    public var durationSeconds: Double?
    public var attempt: Int?
    public var baseline: ObjectRef?
    public var params: [String: JSONValue]
    public var metrics: [String: JSONValue]
}

/// Nested values (`params: {lora: {r: 8}}`) as the dotted columns of tables (`params.lora.r`).
enum Flatten {
    static func columns(_ prefix: String, _ values: [String: JSONValue], into row: inout [String: JSONValue]) {
        for (k, v) in values {
            if case .object(let o) = v, !o.isEmpty { columns(prefix + k + ".", o, into: &row) } else { row[prefix + k] = v }
        }
    }
}
