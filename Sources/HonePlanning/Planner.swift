import Foundation
import HoneLoading
import HoneModel

/// Desired state + recorded state → Plan. Pure: no I/O, no clock (the caller passes `now`).
public struct Planner: Sendable {
    public let desired: DesiredState
    public let recorded: RecordedState
    public let invalidObjects: Set<ObjectKey>
    public let now: Date
    /// Whether this branch publishes or defers publishing to the merge into `publishBranch`.
    public let publishing: PublishScope
    /// Who will publish which model: model name → publishing runs, in name order. Computed once: every
    /// reference to a not-yet-published version asks it.
    let publishers: [String: [ObjectKey]]

    public init(desired: DesiredState, recorded: RecordedState, invalidObjects: Set<ObjectKey> = [], now: Date, publishing: PublishScope = .publishes) {
        self.desired = desired; self.recorded = recorded; self.invalidObjects = invalidObjects; self.now = now; self.publishing = publishing
        var publishers: [String: [ObjectKey]] = [:]
        // Only the publishing runs' keys are sorted: sorting (key, RunSpec) pairs moved every spec around.
        for (k, r) in desired.runs { if let p = r.publish { publishers[p.model, default: []].append(k) } }
        self.publishers = publishers.mapValues { $0.sorted() }
    }

    public init(_ load: LoadResult, now: Date, publishing: PublishScope = .publishes) {
        self.init(desired: load.desired, recorded: load.recorded, invalidObjects: load.invalidObjects, now: now, publishing: publishing)
    }

    public func plan() -> Plan {
        var plan = Plan()
        plan.errors = problems()
        // Each object's decision depends only on read-only inputs: decide them on every core.
        let runKeys = desired.runs.keys.sorted()
        let cycleMembers = Set(findCycles().joined())
        let runResults = Planner.concurrentMap(runKeys.count) { i -> PlannedAction in
            let key = runKeys[i]
            if cycleMembers.contains(key) { return PlannedAction(key: key, action: .blocked, reason: "in a dependency cycle") }
            return self.planRun(self.desired.runs[key]!)
        }
        var runActions: [ObjectKey: PlannedAction] = [:]
        runActions.reserveCapacity(runKeys.count)
        for a in runResults {
            runActions[a.key] = a
            plan.actions.append(a)
        }
        let frozenRunActions = runActions
        // Runs are decided above: what waits for a run's draft model reads their actions.
        for kind in ObjectKey.Kind.allCases {
            switch kind {
            case .run, .view: continue
            case .eval:
                let keys = desired.evals.keys.sorted()
                plan.actions += Planner.concurrentMap(keys.count) { i in self.planEval(self.desired.evals[keys[i]]!, runActions: frozenRunActions) }
            case .playground:
                plan.actions += desired.playgrounds.keys.sorted().map { planPlayground(desired.playgrounds[$0]!, runActions: frozenRunActions) }
            }
        }
        // Recorded objects whose spec is gone (and not merely invalid).
        // Filter before sorting: statuses are large values, and most have a spec.
        let gone = recorded.statuses.keys.filter { !desired.hasSpec($0) && !invalidObjects.contains($0) }
        for key in gone.sorted() {
            let status = recorded.statuses[key]!
            if status.phase.isActive {
                plan.actions.append(PlannedAction(key: key, action: .cancel, reason: "spec deleted while \(status.phase.rawValue.lowercased()): cancel attempt \(status.attempt)", id: status.id, attempt: status.attempt, pool: status.pool))
            } else {
                plan.actions.append(PlannedAction(key: key, action: .prune, reason: "spec deleted: status and results are removed with --prune", id: status.id, attempt: status.attempt, pool: status.pool))
            }
        }
        return plan
    }

    /// The problems only planning finds — dependency cycles, and versions whose digest changed under a
    /// recorded attempt — without deciding any action (no spec digests: cheap). `plan()` reports exactly
    /// these, and `hone validate` prints them beside the loader's, so the two never disagree.
    public func problems() -> [Diagnostic] {
        let cycles = findCycles()
        var out = cycles.map { cycle -> Diagnostic in
            let names = (cycle + [cycle[0]]).map(\.display).joined(separator: " → ")
            let mark = desired.runs[cycle[0]]?.marks["kind"] ?? .none
            return Diagnostic(path: cycle[0].specPath, mark: mark, message: "dependency cycle: \(names) (each waits for a model another publishes)")
        }
        let inCycle = Set(cycles.joined())
        for key in desired.runs.keys.sorted() where !inCycle.contains(key) {
            if let s = recorded.statuses[key], let c = changedVersion(key, status: s, inputs: versionInputs(desired.runs[key]!)) { out.append(c.diagnostic) }
        }
        for key in desired.evals.keys.sorted() {
            if let s = recorded.statuses[key], let c = changedVersion(key, status: s, inputs: versionInputs(desired.evals[key]!)) { out.append(c.diagnostic) }
        }
        for (key, p) in desired.playgrounds.sorted(by: { $0.key < $1.key }) {
            if let s = recorded.statuses[key], let c = changedVersion(key, status: s, inputs: versionInputs([(.model, p.model), (.runtime, p.runtime)])) { out.append(c.diagnostic) }
        }
        return out
    }

    /// The first input of a recorded attempt whose version digest changed since: versions are
    /// immutable, so this is an error, not a rerun.
    func changedVersion(_ key: ObjectKey, status: ObjectStatus, inputs: [String: String]) -> (input: String, diagnostic: Diagnostic)? {
        for (k, recordedDigest) in status.inputs.sorted(by: { $0.key < $1.key }) where !k.hasPrefix("runs/") {
            if let now = inputs[k], now != recordedDigest {
                return (k, Diagnostic(path: k + ".yaml", mark: versionMarks(inputKey: k)["sha256"],
                                      message: "versions are immutable: \(key.display) attempt \(status.attempt) used \(k) with sha256 \(recordedDigest), the file now says \(now); publish a new version instead of changing this one"))
            }
        }
        return nil
    }

    /// Where a version's fields are, by its input key (`models/tiny-char/v1`).
    func versionMarks(inputKey: String) -> SourceMarks {
        let parts = inputKey.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let kind = VersionKind.allCases.first(where: { $0.folder == parts[0] }) else { return SourceMarks() }
        return desired.version(kind, VersionRef(name: String(parts[1]), version: String(parts[2])))?.marks ?? SourceMarks()
    }

    /// The digests of the versions a run reads, by input key (what its status records under `inputs`).
    func versionInputs(_ run: RunSpec) -> [String: String] {
        versionInputs([(.model, run.baseModel), (.dataset, run.trainDataset), (.dataset, run.validationDataset), (.runtime, run.runtime)])
    }

    /// An adapter's base (its version's `base:`) is read by the job too: its digest is an input.
    func versionInputs(_ eval: EvalSpec) -> [String: String] {
        let base = eval.model.flatMap { desired.version(.model, $0)?.base }
        return versionInputs([(.model, eval.model), (.model, base), (.dataset, eval.dataset), (.runtime, eval.runtime)])
    }

    func versionInputs(_ refs: [(VersionKind, VersionRef?)]) -> [String: String] {
        var inputs: [String: String] = [:]
        for (kind, ref) in refs { if let ref, let v = desired.version(kind, ref) { inputs[SpecDigest.inputKey(kind, ref)] = v.digest } }
        return inputs
    }

    /// `(0..<n).map(body)` on every core, results in index order.
    static func concurrentMap<T: Sendable>(_ n: Int, _ body: @Sendable (Int) -> T) -> [T] {
        ParallelMap.map(n, workers: n > 64 ? ProcessInfo.processInfo.activeProcessorCount * 4 : 1) { _, i in body(i) }
    }

    // MARK: Runs

    /// A model version that does not exist yet but a run will publish: the run that publishes it.
    func pendingPublisher(_ ref: VersionRef) -> ObjectKey? {
        guard desired.version(.model, ref) == nil else { return nil }
        return publishers[ref.name]?.first
    }

    func planRun(_ run: RunSpec) -> PlannedAction {
        let key = run.key
        let status = recorded.statuses[key]
        let inputs = versionInputs(run)
        var waits: [String] = []
        if let p = pendingPublisher(run.baseModel) { waits.append("\(run.baseModel), which \(p.display) will publish\(whenMerged)") }
        let spec = SpecParts(canonical: SpecDigest.canonical(run), inputs: inputs, code: desired.code, codePaths: run.code)
        let pool = desired.project?.pools[run.pool]
        var cost: Double? = nil
        var costNote: String? = nil
        if let pool {
            if pool.costPerHour == 0 { cost = 0 }
            else if let h = pool.maxHours { cost = pool.costPerHour * h }
            else { costNote = "unknown: pool \(pool.name) sets no maxHours" }
        }
        let fields: [(String, String?)] = [("handler", run.handler), ("baseModel", run.baseModel.description), ("trainDataset", run.trainDataset.description),
                                           ("validationDataset", run.validationDataset?.description), ("runtime", run.runtime?.description)]
        var action = decide(key: key, status: status, spec: spec, rerun: run.rerun, onChange: run.onChange,
                            waits: waits, pool: run.pool, cost: cost, costNote: costNote, gates: [], publish: run.publish,
                            changed: status.flatMap { Planner.differences($0, fields: fields, params: run.params, inputs: inputs) })
        if let p = run.publish, action.action == .create || action.action == .rerun {
            action.reason += whenMerged.isEmpty ? "; then publishes \(nextVersion(model: p.model)) (nothing if a version of \(p.model) holds the same model)"
                : "; publishes into model \(p.model)\(whenMerged)"
        }
        return action
    }

    // MARK: Evals

    func planEval(_ eval: EvalSpec, runActions: [ObjectKey: PlannedAction]) -> PlannedAction {
        let key = eval.key
        let status = recorded.statuses[key]
        var inputs = versionInputs(eval)
        var waits: [String] = []
        if let m = eval.model, let p = pendingPublisher(m) { waits.append("\(m), which \(p.display) will publish\(whenMerged)") }
        if let runKey = eval.fromRunKey { waitForDraft(of: runKey, runActions: runActions, inputs: &inputs, waits: &waits) }
        let spec = SpecParts(canonical: SpecDigest.canonical(eval), inputs: inputs, code: desired.code, codePaths: eval.code)
        let pool = desired.project?.pools[eval.pool]
        var cost: Double? = nil
        var costNote: String? = nil
        if let pool {
            if pool.costPerHour == 0 { cost = 0 }
            else if let r = eval.autoRelease { cost = pool.costPerHour * Double(r) / 3600 }
            else if let h = pool.maxHours { cost = pool.costPerHour * h }
            else { costNote = "unknown: autoRelease is off and pool \(pool.name) sets no maxHours" }
        }
        let gates = eval.gates.map { "\($0.metric) \($0.expression)" }
        let fields: [(String, String?)] = [("handler", eval.handler), ("dataset", eval.dataset.description), ("runtime", eval.runtime?.description)]
                                           + (eval.model.map { [("model", $0.description)] } ?? [])
        var action = decide(key: key, status: status, spec: spec, rerun: eval.rerun, onChange: eval.onChange,
                            waits: waits, pool: eval.pool, cost: cost, costNote: costNote, gates: gates, publish: nil,
                            changed: status.flatMap { Planner.differences($0, fields: fields, params: eval.params, inputs: inputs) })
        // Auto-release: a job past its release time is cancelled (recorded as AutoReleased).
        if action.action == .poll, let s = status, let r = s.eval?.releaseAt, let at = Timestamp.date(r), at <= now {
            action.action = .cancel
            action.reason = "auto-release time \(r) has passed (autoRelease \(s.eval?.autoRelease.map { DurationText.format($0) } ?? "?"))"
        }
        if action.startsWork, let r = eval.autoRelease {
            action.reason += "; released after \(DurationText.format(r))"
        }
        return action
    }

    /// An object reading a run's draft model waits until the run has succeeded with one; then the draft's
    /// sha256 is one of its inputs.
    func waitForDraft(of runKey: ObjectKey, runActions: [ObjectKey: PlannedAction], inputs: inout [String: String], waits: inout [String]) {
        let runStatus = recorded.statuses[runKey]
        if let a = runActions[runKey], a.action == .create || a.action == .rerun || a.action == .blocked {
            waits.append("run \(runKey.display) (\(a.action.rawValue) pending)")
        } else if let s = runStatus, s.phase == .succeeded, let sha = s.run?.model?.sha256 {
            inputs[SpecDigest.runInputKey(runKey)] = sha
        } else if let s = runStatus, s.phase == .succeeded {
            waits.append("a model from run \(runKey.display): attempt \(s.attempt) succeeded but recorded none")
        } else if let s = runStatus {
            waits.append("run \(runKey.display) to succeed (attempt \(s.attempt) is \(s.phase.rawValue))")
        } else {
            waits.append("run \(runKey.display) to succeed (never run)")
        }
    }

    // MARK: Playgrounds

    /// A playground is an eval-like long job that serves until released: on its auto-release time, or
    /// after `idleRelease` without a chat request (specs/playground.md).
    func planPlayground(_ p: PlaygroundSpec, runActions: [ObjectKey: PlannedAction]) -> PlannedAction {
        let key = p.key
        let status = recorded.statuses[key]
        var inputs = versionInputs([(.model, p.model), (.runtime, p.runtime)])
        var waits: [String] = []
        if let m = p.model, let publisher = pendingPublisher(m) { waits.append("\(m), which \(publisher.display) will publish\(whenMerged)") }
        if let runKey = p.fromRunKey { waitForDraft(of: runKey, runActions: runActions, inputs: &inputs, waits: &waits) }
        let spec = SpecParts(canonical: SpecDigest.canonical(p), inputs: inputs, code: desired.code, codePaths: p.code)
        let pool = desired.project?.pools[p.pool]
        let cost = pool.map { pool in pool.costPerHour == 0 ? 0 : p.autoRelease.map { pool.costPerHour * Double($0) / 3600 } ?? pool.maxHours.map { pool.costPerHour * $0 } ?? 0 }
        var action = decide(key: key, status: status, spec: spec, rerun: p.rerun, onChange: .cancel,
                            waits: waits, pool: p.pool, cost: cost, costNote: nil, gates: [], publish: nil)
        guard action.action == .poll, let s = status, let fields = s.playground else {
            if action.startsWork, let r = p.autoRelease { action.reason += "; released after \(DurationText.format(r))" }
            return action
        }
        if let r = fields.releaseAt, let at = Timestamp.date(r), at <= now {
            action.action = .cancel
            action.reason = "auto-release time \(r) has passed (autoRelease \(fields.autoRelease.map { DurationText.format($0) } ?? "?"))"
        } else if let idle = fields.idleRelease, let since = (fields.lastRequestAt ?? s.startedAt).flatMap(Timestamp.date),
                  since.addingTimeInterval(TimeInterval(idle)) <= now {
            action.action = .cancel
            action.reason = "idle-release: no chat request since \(Timestamp.string(since)) (idleRelease \(DurationText.format(idle)))"
        }
        return action
    }

    // MARK: Shared decision

    func decide(key: ObjectKey, status: ObjectStatus?, spec: SpecParts, rerun: Int, onChange: OnChange,
                waits: [String], pool: String, cost: Double?, costNote: String?, gates: [String], publish: PublishRequest?,
                changed: String? = nil) -> PlannedAction {
        let inputs = spec.inputs
        let digest = spec.digest(recordedCode: status?.code)
        func action(_ a: ActionKind, _ reason: String, attempt: Int? = nil, supersedes: String? = nil) -> PlannedAction {
            let id = attempt.map { SpecDigest.jobID(key, digest: digest, attempt: $0) } ?? status?.id
            var out = PlannedAction(key: key, action: a, reason: reason, id: id, attempt: attempt ?? status?.attempt, specDigest: digest,
                                    inputs: inputs, pool: pool, costEstimate: a == .create || a == .rerun || a == .blocked ? cost : nil,
                                    costNote: costNote, supersedes: supersedes, gates: gates)
            out.code = spec.files
            return out
        }
        // A status that does not decode may record a job that ran, or runs: never launch over it.
        if let path = recorded.unreadable[key] {
            return action(.blocked, "unreadable status: \(path) does not decode (see the error); fix it or restore it with git, hone leaves \(key.display) alone until then")
        }
        guard let status else {
            if !waits.isEmpty { return action(.blocked, "waits for " + waits.joined(separator: "; ")) }
            return action(.create, "new \(key.kind.rawValue): never run", attempt: 1)
        }
        // Versions are immutable: a recorded input whose digest changed is an error (see `problems`), not a rerun.
        if let changed = changedVersion(key, status: status, inputs: inputs) {
            return action(.blocked, "input \(changed.input) changed its digest (versions are immutable)")
        }
        let change = status.specDigest == digest ? SpecChange() : spec.change(from: status, codeAtLaunch: recorded.codeAtLaunch[key])
        let rerunRaised = rerun > status.rerun
        if change.any || rerunRaised {
            // "spec changed" says what changed against the recorded attempt, when the status records it.
            var parts = change.reasons.map { $0 == "spec changed" && changed != nil ? "spec changed (\(changed!))" : $0 }
            if rerunRaised { parts.append(parts.isEmpty ? "rerun raised to \(rerun)" : "rerun raised") }
            let why = parts.joined(separator: " and ")
            // Waiting on an input says more than "changed": without the input the digest cannot match anyway.
            if !waits.isEmpty { return action(.blocked, "waits for " + waits.joined(separator: "; ")) }
            if status.phase.isActive {
                if onChange == .wait {
                    return action(.poll, "\(why); attempt \(status.attempt) is \(status.phase.rawValue.lowercased()) and finishes first (onChange: wait)")
                }
                return action(.rerun, "\(why): cancels running attempt \(status.attempt) (Superseded), then starts attempt \(status.attempt + 1)",
                              attempt: status.attempt + 1, supersedes: status.id)
            }
            return action(.rerun, "\(why) since attempt \(status.attempt) (\(status.phase.rawValue))", attempt: status.attempt + 1)
        }
        if status.phase.isActive {
            return action(.poll, "attempt \(status.attempt) is \(status.phase.rawValue.lowercased())")
        }
        if status.phase == .succeeded, let publish, status.run?.publishedAs == nil {
            if case .deferred = publishing {
                return action(.deferred, "succeeded; publishes into model \(publish.model)\(whenMerged)")
            }
            // Once per distinct artifact: a rerun that made the same model publishes nothing.
            if let sha = status.run?.model?.sha256, let same = publishedVersion(model: publish.model, sha256: sha) {
                var a = action(.publish, "succeeded with the model \(same) already holds (sha256 \(sha.prefix(12))…): records it, publishes nothing")
                a.alreadyPublished = same
                return a
            }
            var a = action(.publish, "succeeded; publish into model \(publish.model) as \(publish.as_ == .new ? "a new model" : "a new version")")
            a.publishAs = nextVersion(model: publish.model)
            return a
        }
        return action(.noop, "attempt \(status.attempt) \(status.phase.rawValue.lowercased()); spec unchanged")
    }

    /// The lowest version of `model` whose artifact has this sha256, if one has.
    public func publishedVersion(model: String, sha256: String) -> VersionRef? {
        (desired.versions[.model] ?? [:]).values.filter { $0.ref.name == model && $0.sha256 == sha256 }
            .min { versionNumber($0.ref) < versionNumber($1.ref) }?.ref
    }

    func versionNumber(_ ref: VersionRef) -> Int { ref.version.hasPrefix("v") ? Int(ref.version.dropFirst()) ?? .max : .max }

    /// What differs between a recorded attempt and the spec now, as the digest sees it: fields (`trainDataset qa@v1 →
    /// qa@v2`), params (`params.lr 0.01 → 0.02`) and inputs whose digest changed (a run's model retrained, say: an
    /// eval's `runs/g/ft`). Nil when nothing recorded differs (an older status without these fields).
    static func differences(_ s: ObjectStatus, fields: [(String, String?)], params: [String: JSONValue], inputs: [String: String]) -> String? {
        var out: [String] = []
        let recorded = s.recordedFields
        for (name, now) in fields {
            let was = recorded[name] ?? nil
            if was != now { out.append("\(name) \(was ?? "none") → \(now ?? "none")") }
        }
        for k in Set(params.keys).union(s.params.keys).sorted() where params[k] != s.params[k] {
            out.append("params.\(k) \(s.params[k]?.display ?? "unset") → \(params[k]?.display ?? "unset")")
        }
        for k in Set(inputs.keys).union(s.inputs.keys).sorted() where inputs[k] != s.inputs[k] && inputs[k] != nil && s.inputs[k] != nil {
            out.append(k.hasPrefix("runs/") ? "the model of run \(k.dropFirst(5)) changed" : "input \(k) changed its digest")
        }
        guard !out.isEmpty else { return nil }
        return out.count > 4 ? out.prefix(4).joined(separator: ", ") + ", and \(out.count - 4) more" : out.joined(separator: ", ")
    }

    /// " when merged into main" on a branch that defers publishing, else "".
    var whenMerged: String {
        if case .deferred(_, let target) = publishing { return " when merged into \(target)" }
        return ""
    }

    /// The version a publish into `model` creates: one past the highest `vN`.
    public func nextVersion(model: String) -> VersionRef {
        let n = (desired.versions[.model] ?? [:]).keys.filter { $0.name == model }
            .compactMap { $0.version.hasPrefix("v") ? Int($0.version.dropFirst()) : nil }.max() ?? 0
        return VersionRef(name: model, version: "v\(n + 1)")
    }

    // MARK: Cycles

    /// Runs that wait on each other through published base models. Each cycle in path order.
    func findCycles() -> [[ObjectKey]] {
        var edges: [ObjectKey: ObjectKey] = [:]
        for (k, r) in desired.runs { if let p = pendingPublisher(r.baseModel) { edges[k] = p } }
        var cycles: [[ObjectKey]] = []
        var done: Set<ObjectKey> = []
        for start in edges.keys.sorted() where !done.contains(start) {
            var path: [ObjectKey] = []
            var cur: ObjectKey? = start
            while let c = cur, !done.contains(c) {
                if let i = path.firstIndex(of: c) { cycles.append(Array(path[i...])); break }
                path.append(c)
                cur = edges[c]
            }
            done.formUnion(path)
        }
        return cycles
    }
}
