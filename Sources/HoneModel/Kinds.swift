import Foundation
import YAML

/// Where an object lives: in a group, or in the project-wide evaluation module.
public enum Scope: Sendable, Hashable, Comparable {
    case group(String)
    case evaluations

    public var folder: String {
        switch self {
        case .group(let g): return "groups/\(g)"
        case .evaluations: return "evaluations"
        }
    }
    public var name: String {
        switch self {
        case .group(let g): return g
        case .evaluations: return "evaluations"
        }
    }
}

/// The identity of a run, eval or view: its path (specs/layout.md).
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Every kind of object. Switched over exhaustively (no `default:`), so a new case makes the compiler
    /// name each place that must learn about it (Sources/README.md, "Add a kind").
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case run, eval, view, playground

        /// The spec file's `kind:` and how plans and listings name it: `Run`, `Eval`, `View`.
        public var title: String {
            switch self {
            case .run: return "Run"
            case .eval: return "Eval"
            case .view: return "View"
            case .playground: return "Playground"
            }
        }
        /// `a run`, `an eval`, `a view`.
        public var withArticle: String {
            switch self {
            case .run: return "a run"
            case .eval: return "an eval"
            case .view: return "a view"
            case .playground: return "a playground"
            }
        }
        /// Whether a succeeded job of this kind leaves a (draft) model in the store.
        public var producesModel: Bool {
            switch self {
            case .run: return true
            case .eval, .view, .playground: return false
            }
        }
        /// Whether its jobs write per-sample results (`out/results.jsonl`) that hone commits.
        public var recordsResults: Bool {
            switch self {
            case .eval: return true
            case .run, .view, .playground: return false
            }
        }
        /// Whether objects of this kind run jobs: they have a handler and a status.
        public var runsJobs: Bool {
            switch self {
            case .run, .eval, .playground: return true
            case .view: return false
            }
        }
        /// The kind whose specs live in `groups/<g>/<folder>/`.
        public init?(folder: some StringProtocol) {
            guard let k = Kind.allCases.first(where: { $0.folder == folder }) else { return nil }
            self = k
        }
        /// The kind whose statuses live in `status/groups/<g>/<folder>/`, if any.
        public static func withStatus(folder: some StringProtocol) -> Kind? {
            allCases.first { $0.runsJobs && $0.folder == folder }
        }
        /// The folder of a group holding this kind's specs: `runs`, `evals`, `views`.
        public var folder: String { rawValue + "s" }
    }
    public var scope: Scope
    public var kind: Kind
    public var name: String

    public init(scope: Scope, kind: Kind, name: String) { self.scope = scope; self.kind = kind; self.name = name }

    /// `groups/support/runs/lora-r8.yaml`, `evaluations/e.yaml`, `evaluations/views/v.yaml`.
    public var specPath: String {
        switch (scope, kind) {
        case (.evaluations, .eval): return "evaluations/\(name).yaml"
        case (.evaluations, .view): return "evaluations/views/\(name).yaml"
        case (.evaluations, .run): return "evaluations/runs/\(name).yaml"
        case (.evaluations, .playground): return "evaluations/playgrounds/\(name).yaml"
        case (.group(let g), _): return "groups/\(g)/\(kind.folder)/\(name).yaml"
        }
    }
    /// `groups/support/runs/lora-r8` (the plan's "object" field).
    public var objectPath: String { String(specPath.dropLast(5)) }
    /// `support/lora-r8` or `evaluations/e`: how users name it on the command line.
    public var display: String { "\(scope.name)/\(name)" }
    public var description: String { display }
    /// `status/groups/support/runs/lora-r8.yaml`.
    public var statusPath: String { "status/" + specPath }
    /// `status/groups/support/runs/lora-r8/` (logs, metrics, results).
    public var statusFolder: String { "status/" + objectPath + "/" }

    /// Scope, then kind, then name: the order of their paths, without building the paths (plans sort 10,000s).
    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        if a.scope != b.scope { return a.scope < b.scope }
        if a.kind != b.kind { return a.kind.rawValue < b.kind.rawValue }
        return a.name < b.name
    }
}

/// `name@version`.
public struct VersionRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var name: String
    public var version: String
    public init(name: String, version: String) { self.name = name; self.version = version }
    public var description: String { "\(name)@\(version)" }
    public static func < (a: VersionRef, b: VersionRef) -> Bool { (a.name, a.version) < (b.name, b.version) }

    /// Parses `name@version`; nil when malformed. Works on the UTF-8 bytes (10,000 runs have 40,000 of these).
    public static func parse(_ s: String) -> VersionRef? {
        var s = s
        return s.withUTF8 { b -> VersionRef? in
            guard let at = b.firstIndex(of: UInt8(ascii: "@")) else { return nil }
            let name = UnsafeBufferPointer(rebasing: b[..<at]), version = UnsafeBufferPointer(rebasing: b[(at + 1)...])
            guard Names.isValid(bytes: name), Names.isValid(bytes: version) else { return nil }  // a second @ is invalid
            return VersionRef(name: String(decoding: name, as: UTF8.self), version: String(decoding: version, as: UTF8.self))
        }
    }
}

/// The name rule (specs/layout.md): `[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?`.
public enum Names {
    public static let pattern = "[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?"
    public static func isValid(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { isValid(bytes: $0) }
    }

    public static func isValid(bytes u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = u.first, let last = u.last, u.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        guard alnum(first), alnum(last) else { return false }
        for c in u where !(alnum(c) || c == 46 || c == 95 || c == 45) { return false }
        return true
    }
}

/// hone.yaml.
public struct Project: Sendable, Equatable {
    public var name: String
    public var owner: String?
    public var store: String
    /// The branch whose reconcile publishes models (`publishBranch`); elsewhere publishing waits for the merge.
    public var publishBranch: String
    public var pools: [String: Pool]
    /// Pool used when a spec names none (`defaults.pool`, else `local`, else the only pool).
    public var defaultPool: String
    /// `gc.keepFinishedJobs`: finished jobs' folders a reconcile keeps, newest first (specs/cli-gc.md).
    public var keepFinishedJobs = Project.defaultKeepFinishedJobs
    public static let defaultKeepFinishedJobs = 20
    public init(name: String, owner: String? = nil, store: String = ".hone/store", publishBranch: String = "main", pools: [String: Pool], defaultPool: String) {
        self.name = name; self.owner = owner; self.store = store; self.publishBranch = publishBranch; self.pools = pools; self.defaultPool = defaultPool
    }
}

/// What kind of registry entry a version file is.
public enum VersionKind: String, Sendable, CaseIterable {
    case model = "ModelVersion", dataset = "DatasetVersion", runtime = "RuntimeVersion"
    public var folder: String {
        switch self { case .model: return "models"; case .dataset: return "datasets"; case .runtime: return "runtimes" }
    }
    public var noun: String {
        switch self { case .model: return "model"; case .dataset: return "dataset"; case .runtime: return "runtime" }
    }
}

/// A model, dataset or runtime version (`models/<m>/<v>.yaml`, …). Immutable once used.
public struct VersionSpec: Sendable, Equatable {
    public var kind: VersionKind
    public var ref: VersionRef
    public var uri: String?
    public var sha256: String?
    public var description: String?
    // RuntimeVersion
    public var python: String
    public var requirements: [String]
    public var env: [String: String]
    public var systemSitePackages: Bool
    // Published ModelVersion (written by hone)
    public var publishedFrom: String?
    public var publishedAt: String?
    public var lineage: JSONValue?
    public var metrics: [String: JSONValue]
    /// A ModelVersion that is an adapter (PEFT LoRA): the base model it is applied to, and that base's
    /// sha256 when it was trained (`base: {model: name@version, sha256: …}`; specs/versions.md).
    public var base: VersionRef?
    public var baseSha256: String?
    /// A published ModelVersion's files (`[{path, sha256, size}]`) and total size in bytes, as hone stored them.
    public var files: JSONValue?
    public var size: Int?
    /// The file's own digest (sha256 of its canonical form): what "the digest of a version" means for specs.
    public var digest: String
    /// Where `kind` and `sha256` are in the file.
    public var marks = SourceMarks()

    public init(kind: VersionKind, ref: VersionRef, uri: String? = nil, sha256: String? = nil, description: String? = nil,
                python: String = "python3", requirements: [String] = [], env: [String: String] = [:], systemSitePackages: Bool = false,
                publishedFrom: String? = nil, publishedAt: String? = nil, lineage: JSONValue? = nil, metrics: [String: JSONValue] = [:], digest: String = "") {
        self.kind = kind; self.ref = ref; self.uri = uri; self.sha256 = sha256; self.description = description
        self.python = python; self.requirements = requirements; self.env = env; self.systemSitePackages = systemSitePackages
        self.publishedFrom = publishedFrom; self.publishedAt = publishedAt; self.lineage = lineage; self.metrics = metrics; self.digest = digest
    }
    public var path: String { "\(kind.folder)/\(ref.name)/\(ref.version).yaml" }
    public var isPublished: Bool { publishedFrom != nil }
}

public struct GroupSpec: Sendable, Equatable {
    public var name: String
    public var description: String?
    public init(name: String, description: String? = nil) { self.name = name; self.description = description }
}

extension Collection where Element == VersionSpec {
    /// Whether `run` created the model these are the versions of: hone published every one, and the
    /// first (lowest `vN`) from `run`. Then `publish.as: new` in that run stays true after other runs
    /// add versions.
    public func modelCreated(by run: String) -> Bool {
        guard !isEmpty, allSatisfy(\.isPublished) else { return false }
        func number(_ v: VersionSpec) -> Int {
            v.ref.version.hasPrefix("v") ? Int(v.ref.version.dropFirst()) ?? .max : .max
        }
        return self.min { number($0) < number($1) }?.publishedFrom == run
    }
}

public enum PublishAs: String, Sendable { case new, version }
public struct PublishRequest: Sendable, Equatable {
    public var model: String
    public var as_: PublishAs
    public init(model: String, as: PublishAs) { self.model = model; self.as_ = `as` }
}

public enum OnChange: String, Sendable { case cancel, wait }

/// A fine-tune run (`groups/<g>/runs/<r>.yaml`).
public struct RunSpec: Sendable, Equatable {
    public var key: ObjectKey
    public var description: String?
    public var pool: String
    public var baseModel: VersionRef
    public var trainDataset: VersionRef
    public var validationDataset: VersionRef?
    public var runtime: VersionRef?
    public var handler: String
    public var params: [String: JSONValue]
    public var owner: String?
    public var rerun: Int
    public var onChange: OnChange
    public var publish: PublishRequest?
    /// Where `kind` is in the file.
    public var marks = SourceMarks()
    /// Repository paths (files or folders) whose committed content the run depends on (`code:`, default: the
    /// folder of the handler's script; specs/run.md).
    public var code: [String]

    public init(key: ObjectKey, description: String? = nil, pool: String, baseModel: VersionRef, trainDataset: VersionRef,
                validationDataset: VersionRef? = nil, runtime: VersionRef? = nil, handler: String, params: [String: JSONValue] = [:],
                owner: String? = nil, rerun: Int = 0, onChange: OnChange = .cancel, publish: PublishRequest? = nil, code: [String] = []) {
        self.key = key; self.description = description; self.pool = pool; self.baseModel = baseModel
        self.trainDataset = trainDataset; self.validationDataset = validationDataset; self.runtime = runtime
        self.handler = handler; self.params = params; self.owner = owner; self.rerun = rerun; self.onChange = onChange; self.publish = publish
        self.code = code
    }
}

public struct DebugSettings: Sendable, Equatable {
    public var enabled: Bool
    public var passwordEnv: String
    public init(enabled: Bool = false, passwordEnv: String = "HONE_DEBUG_PASSWORD") { self.enabled = enabled; self.passwordEnv = passwordEnv }
}

/// An evaluation (`groups/<g>/evals/<e>.yaml` or `evaluations/<e>.yaml`).
public struct EvalSpec: Sendable, Equatable {
    public var key: ObjectKey
    public var description: String?
    public var pool: String
    /// Exactly one of `model` and `fromRun`.
    public var model: VersionRef?
    public var fromRun: String?
    public var handler: String
    public var dataset: VersionRef
    public var runtime: VersionRef?
    public var params: [String: JSONValue]
    /// Seconds; nil = never released.
    public var autoRelease: Int?
    public var debug: DebugSettings
    public var rerun: Int
    public var onChange: OnChange
    public var owner: String?
    /// `metrics.accuracy` → `">= baseline - 0.01"`, in file order.
    public var gates: [(metric: String, expression: String)]
    public var baseline: String?
    /// Where a synced copy came from (`support/e` or `evaluations/e`), set by `hone sync`.
    public var syncedFrom: String?
    /// Where `kind` and `debug` are in the file.
    public var marks = SourceMarks()
    /// Repository paths whose committed content the eval depends on (as `RunSpec.code`).
    public var code: [String]

    public init(key: ObjectKey, description: String? = nil, pool: String, model: VersionRef? = nil, fromRun: String? = nil, handler: String,
                dataset: VersionRef, runtime: VersionRef? = nil, params: [String: JSONValue] = [:], autoRelease: Int? = 3600,
                debug: DebugSettings = DebugSettings(), rerun: Int = 0, onChange: OnChange = .cancel, owner: String? = nil,
                gates: [(metric: String, expression: String)] = [], baseline: String? = nil, syncedFrom: String? = nil, code: [String] = []) {
        self.code = code
        self.key = key; self.description = description; self.pool = pool; self.model = model; self.fromRun = fromRun
        self.handler = handler; self.dataset = dataset; self.runtime = runtime; self.params = params; self.autoRelease = autoRelease
        self.debug = debug; self.rerun = rerun; self.onChange = onChange; self.owner = owner; self.gates = gates; self.baseline = baseline
        self.syncedFrom = syncedFrom
    }

    public static func == (a: EvalSpec, b: EvalSpec) -> Bool {
        a.key == b.key && a.description == b.description && a.pool == b.pool && a.model == b.model && a.fromRun == b.fromRun
            && a.handler == b.handler && a.dataset == b.dataset && a.runtime == b.runtime && a.params == b.params
            && a.autoRelease == b.autoRelease && a.debug == b.debug && a.rerun == b.rerun && a.onChange == b.onChange
            && a.owner == b.owner && a.gates.map { "\($0.metric)=\($0.expression)" } == b.gates.map { "\($0.metric)=\($0.expression)" }
            && a.baseline == b.baseline && a.syncedFrom == b.syncedFrom && a.code == b.code
    }

    /// The run whose draft model this eval reads, when `fromRun` is set.
    public var fromRunKey: ObjectKey? {
        guard let r = fromRun else { return nil }
        return ObjectKey(scope: key.scope, kind: .run, name: r)
    }
}

/// A model served for people to try until it is released (`groups/<g>/playgrounds/<p>.yaml`, specs/playground.md).
public struct PlaygroundSpec: Sendable, Equatable {
    public var key: ObjectKey
    public var description: String?
    public var pool: String
    /// Exactly one of `model` and `fromRun`.
    public var model: VersionRef?
    public var fromRun: String?
    public var runtime: VersionRef?
    public var handler: String
    /// Defaults the handler applies to requests that leave them out.
    public var params: [String: JSONValue]
    /// Seconds from the start until the server is stopped; nil = never (default 3600).
    public var autoRelease: Int?
    /// Seconds without a chat request until the server is stopped; nil = no idle limit.
    public var idleRelease: Int?
    /// The name of the environment variable (where hone runs) holding the bearer key; never the key.
    public var apiKeyEnv: String?
    public var owner: String?
    public var rerun: Int
    public var code: [String]
    /// Where `kind` is in the file.
    public var marks = SourceMarks()

    public init(key: ObjectKey, description: String? = nil, pool: String, model: VersionRef? = nil, fromRun: String? = nil,
                runtime: VersionRef? = nil, handler: String, params: [String: JSONValue] = [:], autoRelease: Int? = 3600,
                idleRelease: Int? = nil, apiKeyEnv: String? = nil, owner: String? = nil, rerun: Int = 0, code: [String] = []) {
        self.key = key; self.description = description; self.pool = pool; self.model = model; self.fromRun = fromRun
        self.runtime = runtime; self.handler = handler; self.params = params; self.autoRelease = autoRelease
        self.idleRelease = idleRelease; self.apiKeyEnv = apiKeyEnv; self.owner = owner; self.rerun = rerun; self.code = code
    }

    /// The run whose draft model this playground serves, when `fromRun` is set.
    public var fromRunKey: ObjectKey? {
        guard let r = fromRun else { return nil }
        return ObjectKey(scope: key.scope, kind: .run, name: r)
    }
}

/// One filter clause of a view: `phase: Succeeded`, `metrics.accuracy: ">=0.5"`, `model: "support-bot@*"`.
public struct FilterClause: Sendable, Equatable {
    public enum Op: String, Sendable { case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=", glob = "~" }
    public var column: String
    public var op: Op
    public var value: String
    public init(column: String, op: Op, value: String) { self.column = column; self.op = op; self.value = value }
}

public enum ViewSortOrder: String, Sendable { case asc, desc }

/// A saved list of evals (`groups/<g>/views/<v>.yaml`, `evaluations/views/<v>.yaml`).
public struct ViewSpec: Sendable, Equatable {
    /// What a view lists (`for:`): a group's evals (the default) or its runs.
    public enum Target: String, Sendable, CaseIterable { case evals, runs }
    public var key: ObjectKey
    public var target: Target = .evals
    /// nil = every column.
    public var columns: [String]?
    public var pinned: [String]
    public var filter: [FilterClause]
    public var sortBy: String
    public var sortOrder: ViewSortOrder
    public var isDefault: Bool
    public var visible: Bool
    public init(key: ObjectKey, columns: [String]? = nil, pinned: [String] = [], filter: [FilterClause] = [], sortBy: String = "createdAt",
                sortOrder: ViewSortOrder = .desc, isDefault: Bool = false, visible: Bool = true) {
        self.key = key; self.columns = columns; self.pinned = pinned; self.filter = filter; self.sortBy = sortBy
        self.sortOrder = sortOrder; self.isDefault = isDefault; self.visible = visible
    }

    /// Built-in columns of an eval list (plus `metrics.<key>`).
    public static let builtinColumns = ["name", "group", "model", "dataset", "runtime", "handler", "pool", "phase", "owner",
                                        "createdAt", "finishedAt", "duration", "attempt", "cost"]
    public static func isKnownColumn(_ c: String) -> Bool {
        builtinColumns.contains(c) || (c.hasPrefix("metrics.") && c.count > "metrics.".count)
    }
    /// Built-in columns of a run list (plus `params.<key>` and `metrics.<key>`, nested keys dotted).
    public static let runColumns = ["name", "group", "baseModel", "trainDataset", "validationDataset", "phase", "pool", "owner",
                                    "createdAt", "finishedAt", "duration", "attempt"]
    public static func isKnownColumn(_ c: String, for target: Target) -> Bool {
        switch target {
        case .evals: return isKnownColumn(c)
        case .runs:
            return runColumns.contains(c) || ["metrics.", "params."].contains { c.hasPrefix($0) && c.count > $0.count }
        }
    }
    public static func columns(for target: Target) -> [String] {
        switch target {
        case .evals: return builtinColumns
        case .runs: return runColumns
        }
    }
}

/// Everything the files ask for, keyed by identity.
public struct DesiredState: Sendable {
    public var project: Project?
    public var versions: [VersionKind: [VersionRef: VersionSpec]] = [:]
    public var groups: [String: GroupSpec] = [:]
    public var runs: [ObjectKey: RunSpec] = [:]
    public var evals: [ObjectKey: EvalSpec] = [:]
    public var views: [ObjectKey: ViewSpec] = [:]
    public var playgrounds: [ObjectKey: PlaygroundSpec] = [:]
    /// The committed content of every path a run's or eval's `code:` names (specs/run.md, "Code").
    public var code = CodeSnapshot()
    public init() {}

    public func version(_ kind: VersionKind, _ ref: VersionRef) -> VersionSpec? { versions[kind]?[ref] }

    /// Whether the object's spec is loaded (valid).
    public func hasSpec(_ key: ObjectKey) -> Bool {
        switch key.kind {
        case .run: return runs[key] != nil
        case .eval: return evals[key] != nil
        case .view: return views[key] != nil
        case .playground: return playgrounds[key] != nil
        }
    }
}
