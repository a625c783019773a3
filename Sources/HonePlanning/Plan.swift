import HoneLoading
import HoneModel

/// What reconcile would do, as plain data (Terraform's `internal/plans`): computed by the pure
/// planner, rendered by separate text / markdown / JSON views, applied by the engine.
public struct Plan: Sendable {
    public var actions: [PlannedAction]
    public var errors: [Diagnostic]
    public var warnings: [Diagnostic]

    public init(actions: [PlannedAction] = [], errors: [Diagnostic] = [], warnings: [Diagnostic] = []) {
        self.actions = actions; self.errors = errors; self.warnings = warnings
    }

    /// Actions that change something (not `noop`).
    public var changes: [PlannedAction] { actions.filter { $0.action != .noop } }
    /// Whether reconciling this branch has something to do (a publish deferred to the merge is not).
    public var hasChanges: Bool { actions.contains { $0.action != .noop && $0.action != .deferred } }

    /// Sum of the known cost bounds of the work this plan starts (create, rerun, blocked).
    public var estimatedCost: Double {
        actions.filter(\.startsWork).compactMap(\.costEstimate).reduce(0, +)
    }
    /// Actions that start work without a known cost bound.
    public var unknownCostCount: Int { actions.filter { $0.startsWork && $0.costEstimate == nil }.count }

    public func count(_ a: ActionKind) -> Int { actions.filter { $0.action == a }.count }
}

public enum ActionKind: String, Sendable, CaseIterable {
    /// `deferred`: a succeeded run's publish, waiting for the merge into `publishBranch` (no manifest on this branch).
    case create, rerun, poll, cancel, publish, deferred, prune, blocked, noop
    public var symbol: String {
        switch self {
        case .create: return "+"
        case .rerun: return "~"
        case .poll: return "…"
        case .cancel: return "x"
        case .publish: return "^"
        case .deferred: return "⇡"
        case .prune: return "-"
        case .blocked: return "!"
        case .noop: return "="
        }
    }
}

/// Whether a plan's branch publishes models: only `publishBranch` (hone.yaml) does; on any other branch (a pull
/// request's) a run's `publish:` waits until its status arrives there with the merge.
public enum PublishScope: Sendable, Equatable {
    case publishes
    /// `branch` (nil: a detached HEAD) is not `publishBranch`.
    case deferred(branch: String?, publishBranch: String)

    /// The scope of a plan of `ref` (nil: HEAD) in a workspace. Without a repository (files only) there is no
    /// branch to defer to: it publishes, as reconcile would there.
    public static func of(ref: String?, in workspace: Workspace, project: Project?) -> PublishScope {
        guard (try? workspace.requireRepository()) != nil else { return .publishes }
        return .of(branch: workspace.plannedBranch(ref: ref), project: project)
    }

    /// The scope of a plan of `branch` (nil when HEAD is detached or the ref is no branch).
    public static func of(branch: String?, project: Project?) -> PublishScope {
        let target = project?.publishBranch ?? "main"
        return branch == target ? .publishes : .deferred(branch: branch, publishBranch: target)
    }
}

public struct PlannedAction: Sendable, Equatable {
    public var key: ObjectKey
    public var action: ActionKind
    public var reason: String
    /// The job id this action launches (create, rerun) or acts on (poll, cancel, publish, prune).
    public var id: String?
    public var attempt: Int?
    public var specDigest: String?
    /// Inputs' digests for the attempt (recorded in its status).
    public var inputs: [String: String]
    public var pool: String?
    /// Upper bound of the cost in the pool's currency; nil when unknown (`costNote` says why).
    public var costEstimate: Double?
    public var costNote: String?
    /// The running attempt this one replaces, cancelled first (onChange: cancel).
    public var supersedes: String?
    /// Gates that `hone check` will evaluate once results exist.
    public var gates: [String]
    /// For publish: the version to write (`support-bot@v2`).
    public var publishAs: VersionRef?
    /// For publish: the existing version that already holds this model (same sha256). Nothing is
    /// written then; the status records it (event `AlreadyPublished`). `publishAs` is nil.
    public var alreadyPublished: VersionRef?
    /// For create and rerun: the code files the attempt runs (file → blob id, recorded in its status); nil
    /// when the code cannot be read (no commit).
    public var code: [String: String]?

    public init(key: ObjectKey, action: ActionKind, reason: String, id: String? = nil, attempt: Int? = nil, specDigest: String? = nil,
                inputs: [String: String] = [:], pool: String? = nil, costEstimate: Double? = nil, costNote: String? = nil,
                supersedes: String? = nil, gates: [String] = [], publishAs: VersionRef? = nil) {
        self.key = key; self.action = action; self.reason = reason; self.id = id; self.attempt = attempt
        self.specDigest = specDigest; self.inputs = inputs; self.pool = pool; self.costEstimate = costEstimate
        self.costNote = costNote; self.supersedes = supersedes; self.gates = gates; self.publishAs = publishAs
    }

    public var kindName: String { key.kind.title }
    public var startsWork: Bool { action == .create || action == .rerun || action == .blocked }
}
