import Foundation
import Git
import HoneExecutors
import HoneLoading
import HoneModel
import HonePlanning
import YAML

public struct ReconcileOptions {
    public var ref: String?
    public var wait = false
    public var timeout: TimeInterval?
    public var push: String?
    public var noCommit = false
    public var prune = false
    public var lockTimeout: TimeInterval = 30
    public var pollInterval: TimeInterval = 1
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    public init() {}
}

public struct ReconcileSummary {
    public var commits: [ObjectID] = []
    public var launched: [String] = []
    public var finished: [String: Phase] = [:]
    public var errors: [Diagnostic] = []
    /// Uploads to or downloads from a remote store that failed (after retries); the outputs stay in the local store.
    public var storeErrors: [String] = []
    public var timedOut = false
    /// `--wait` stopped on request (Ctrl-C) with work still going on.
    public var interrupted = false
}

/// A request to stop waiting, set from a signal handler's thread and read by the wait loop.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    public init() {}
    public func request() { lock.withLock { set = true } }
    public var isSet: Bool { lock.withLock { set } }
}

/// `hone reconcile`: load → plan → record intent → launch → poll → collect → commit, step by step,
/// never recording state past an action that was not confirmed (gitops-engine / Flux style).
public final class Reconciler {
    let workspace: Workspace
    let repository: Repository
    let options: ReconcileOptions
    let progress: (String) -> Void
    let recorder: Recorder
    let branch: String
    var executors: [String: Executor] = [:]
    /// The active attempts the last pass left (what `reconcile --wait` shows: `progressOfActiveJobs`).
    var lastActive: [ObjectStatus] = []
    /// Set from another thread (Ctrl-C): the wait loop stops after its pass, committing what it collected.
    public let stopRequest = StopRequest()
    /// Called after each pass while `--wait` keeps going (the progress display).
    public var onWaitPass: (() -> Void)?
    private var summary = ReconcileSummary()
    private var waitingNoted: Set<String> = []
    /// Attempts claimed by another reconciler that this one has said it leaves alone.
    var claimNoted: Set<String> = []
    /// Who this reconciler is in `claimedBy`: its host and its clone's folder.
    lazy var claimant = Reconciler.identity(root: workspace.root)
    private var authors: [ObjectKey: String] = [:]
    /// Attempt ids this reconciler polled as never launched and has not launched since.
    private var notLaunched: Set<String> = []
    /// Set by a pass that launched or collected local jobs only: the next pass comes soon.
    private var quickRepoll = false
    /// Local jobs launched or adopted and still active after the last pass: the pause before the next pass
    /// ends as soon as one of them ends.
    private var watchedLocalJobs: [String] = []
    /// Parsed spec and status files by blob id: a pass re-parses only what the last commits changed.
    private let parseCache = ParseCache()
    private var lastLoad: (commit: ObjectID, result: LoadResult)?
    /// The snapshots the `src/` of the jobs this reconciler prepared were copied from: recycled once collected.
    private var snapshotKeys: [String: SourceSnapshot] = [:]
    /// With --wait: step changes (launch, start, collect…) not committed yet, the statuses they hold (laid over
    /// what each pass loads), and since when they wait.
    /// Committed at most once per poll interval, always before an intent commit and at the end. Not committing
    /// them at once loses nothing if hone dies: the executor still knows what was launched (adopted next time)
    /// and a job's folder, which proves it ran, stays (collected again next time; only its `src/` is recycled
    /// at collect, which no collect reads).
    private var unrecorded = ChangeSet()
    private var unrecordedStatuses: [ObjectKey: ObjectStatus] = [:]
    private var unrecordedSince: Date?
    /// How long the last step commit took: step changes wait at least four times that (see `pass`).
    private var lastStepCommit: TimeInterval = 0
    /// HONE_TIMINGS: passes, passes that changed nothing, milliseconds per phase.
    private var passes = 0, idlePasses = 0
    private var timingTotals: [String: Double] = [:]
    /// When the current HONE_TIMINGS lap began.
    private var lapStarted = Date()
    private let snapshotIndex = SnapshotIndex()
    /// Jobs this reconciler collected whose folder nothing holds any more (not a kept debug folder).
    private var collectedJobs: Set<String> = []
    /// `gc.keepFinishedJobs` of the last pass's hone.yaml.
    private var keepFinishedJobs = Project.defaultKeepFinishedJobs

    public init(workspace: Workspace, options: ReconcileOptions, progress report: @escaping (String) -> Void) throws {
        self.workspace = workspace
        self.options = options
        repository = try workspace.requireRepository()
        let current = try repository.currentBranch()
        if let ref = options.ref {
            // Reconcile records onto a branch: --ref must name one (or be its tip).
            if (try? repository.referenceTarget("refs/heads/\(ref)")) != nil { branch = ref }
            else if let c = current, let tip = try repository.headCommit(), (try? repository.resolve(ref)) == tip { branch = c }
            else { throw HoneError("reconcile records statuses onto a branch: --ref \(ref) is neither a branch nor the tip of the checked-out branch") }
        } else {
            guard let c = current else { throw HoneError("HEAD is detached: check out the branch to reconcile (reconcile commits statuses onto it)") }
            branch = c
        }
        let recorder = Recorder(workspace: workspace, repository: repository, branch: branch, syncWorkTree: branch == current,
                                noCommit: options.noCommit, push: options.push,
                                secrets: SecretScope(environment: options.environment, repository: repository, remotes: [options.push]),
                                progress: report)
        self.recorder = recorder
        progress = { recorder.progress($0) }  // every line redacted
    }

    /// The secrets in scope (for printing what this reconciler returns).
    public var redactor: SecretRedactor { recorder.secrets.redactor }

    public func run() throws -> ReconcileSummary {
        let lock = try RepositoryLock(root: workspace.root, timeout: options.lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        guard recorder.tip != nil else { throw HoneError("branch \(branch) has no commits yet: commit the repository's files first") }
        if recorder.syncWorkTree { try checkWorkTree() }
        let deadline = options.timeout.map { Date().addingTimeInterval($0) }
        var reloads = 0
        var nap = options.pollInterval
        while true {
            recorder.rebased = false
            try lock.reassert()  // `rm -rf .hone` removes the lock file too
            let busy = try pass()
            // The remote moved under a push: act again on the new tip (also without --wait), a bounded number of times.
            if recorder.rebased && reloads < 5 { reloads += 1; continue }
            if !options.wait || !busy { break }
            if stopRequest.isSet { summary.interrupted = true; break }
            onWaitPass?()
            if let d = deadline, Date() >= d {
                summary.timedOut = true
                progress("timeout reached with work still running: a later `hone reconcile` collects it")
                break
            }
            // Local jobs may last milliseconds: after a pass that launched or collected some, look again
            // soon, backing off to the poll interval while nothing changes (a pass costs little then).
            nap = quickRepoll ? min(options.pollInterval, 0.002) : min(options.pollInterval, nap * 2)
            let pauseStarted = Date()
            // Local jobs: a whole poll interval, cut short by the first of them to end (their start is seen
            // at the next pass either way). Otherwise (Slurm, or no pidfds): a plain sleep.
            if watchedLocalJobs.isEmpty || !waitForLocalJobs(timeout: options.pollInterval) {
                Thread.sleep(forTimeInterval: nap)
            }
            timingTotals["sleep", default: 0] += Date().timeIntervalSince(pauseStarted) * 1000
        }
        try flush()
        summary.commits = recorder.commits
        pruneJobFolders()
        if Recorder.timings {
            // One line for benchmarks: where a whole reconcile spent its time.
            let phases = ["load", "plan and intent", "intent commit", "poll", "launch and collect", "step commit", "sleep"]
            progress("timing: total: \(passes) passes (\(idlePasses) without changes), \(recorder.commits.count) commits; "
                     + phases.map { String(format: "%@ %.0f ms", $0, timingTotals[$0] ?? 0) }.joined(separator: ", "))
        }
        return summary
    }

    /// The bounded gc of reconcile (specs/cli-gc.md): the folders of this branch's finished jobs (recorded
    /// final and not held by a debug eval, or collected by this reconciler) beyond the newest `keepFinishedJobs`.
    func pruneJobFolders() {
        var finished = collectedJobs
        for s in (lastLoad?.result.recorded.statuses.values).map(Array.init) ?? [] where s.phase.isFinal && s.eval?.debugWorkdir == nil {
            finished.insert(s.id)
        }
        let removed = GarbageCollection.pruneFinishedJobs(root: workspace.root, finished: finished, keep: keepFinishedJobs)
        if removed > 0 { progress("removed \(removed) finished job folder\(removed == 1 ? "" : "s") (gc.keepFinishedJobs: \(keepFinishedJobs))") }
    }

    /// Refuses uncommitted spec edits (reconcile acts on commits); repairs status files that a killed
    /// reconciler left between a commit and the working tree.
    func checkWorkTree() throws {
        if !options.noCommit, try recorder.recoverInterruptedSync() > 0 {
            progress("a previous reconcile stopped between a commit and the working tree: brought its files in line with \(branch)")
        }
        let specPrefixes = ["hone.yaml", "models", "datasets", "runtimes", "groups", "evaluations"]
        let dirty = try repository.changedPaths(under: specPrefixes).filter { !$0.hasPrefix(".hone/") }
        if !dirty.isEmpty && !options.noCommit {
            throw HoneError("""
            uncommitted changes to spec files:
            \(dirty.prefix(10).map { "  \($0)" }.joined(separator: "\n"))\(dirty.count > 10 ? "\n  … and \(dirty.count - 10) more" : "")
            reconcile acts on commits, never on uncommitted edits: commit them (git add … && git commit) or stash them, then run it again
            """)
        }
        let statusDirty = try repository.changedPaths(under: ["status"])
        guard !statusDirty.isEmpty, let tip = recorder.tip, !options.noCommit else { return }
        var restore: [String: FileChange] = [:]
        for p in statusDirty {
            if let data = try repository.blob(at: p, in: tip) { restore[p] = .write(data) } else { restore[p] = .delete }
        }
        progress("restoring \(statusDirty.count) status file(s) in the working tree to match \(branch) (hone owns status/)")
        try recorder.writeWorkTree(restore, matching: tip)
    }

    func executor(for poolName: String, project: Project?) throws -> Executor {
        if let e = executors[poolName] { return e }
        guard let pool = project?.pools[poolName] else { throw HoneError("pool \(poolName) is not defined in hone.yaml") }
        let e = Executors.make(pool.backend, repositoryRoot: workspace.root, environment: options.environment)
        executors[poolName] = e
        return e
    }

    func load() throws -> LoadResult {
        if options.noCommit { return try Loader(source: WorkingTreeSource(root: workspace.root)).load() }
        let tip = recorder.tip!
        // Nothing committed since the last pass (its changes wait in `unrecorded`): the same commit loads the same.
        if let last = lastLoad, last.commit == tip { return last.result }
        let result = try Loader(source: CommitSource(repository: repository, commit: tip), cache: parseCache).load()
        lastLoad = (tip, result)
        return result
    }

    // MARK: One pass

    /// What one pass works on: loaded once, then changed by its steps in order.
    struct PassState {
        let load: LoadResult
        let project: Project?
        let store: ArtifactStore
        let now: Date
        /// The statuses as the steps leave them (laid over what was loaded).
        var statuses: [ObjectKey: ObjectStatus]
        /// Jobs of each pool that are pending or running: a free slot is one under its `maxParallel`.
        var running: [String: Int] = [:]
        /// Attempts given a free slot in this pass: launched once claimed.
        var toClaim: [ObjectStatus] = []
        var launchSeconds = 0.0, collectSeconds = 0.0
    }

    /// One pass: intent (new attempts, cancels, publishes, prunes; committed before anything runs), then
    /// advance every active attempt (poll; collect what ended; launch what got a slot), then record the step
    /// changes. Returns whether work is still going on (jobs running or queued, or evals waiting on them).
    func pass() throws -> Bool {
        lapStarted = Date()
        passes += 1
        try workspace.privateFolder()  // someone may have removed .hone/ since the last pass
        var load = try load()
        recorder.secrets.learn(passwordVariables: load.desired.evals.values.map(\.debug.passwordEnv) + load.desired.playgrounds.values.compactMap(\.apiKeyEnv))
        for (key, status) in unrecordedStatuses { load.recorded.statuses[key] = status }
        lap("load")
        let now = Date()
        let publishing = PublishScope.of(branch: branch, project: load.desired.project)
        let plan = Planner(load, now: now, publishing: publishing).plan()
        keepFinishedJobs = load.desired.project?.keepFinishedJobs ?? Project.defaultKeepFinishedJobs
        var p = PassState(load: load, project: load.desired.project,
                          store: ArtifactStore(project: load.desired.project, repositoryRoot: workspace.root)
                            .connected(environment: options.environment, redactor: recorder.secrets.redactor),
                          now: now, statuses: load.recorded.statuses)
        let intent = try recordIntent(plan, &p)
        // Our intent landed on a newer remote tip: the statuses loaded above may be stale (the remote may
        // hold a newer attempt), so launch nothing on them; the next pass reloads.
        if recorder.rebased { return true }

        var step = ChangeSet()
        let active = p.statuses.values.filter { $0.phase.isActive }.sorted { ($0.createdAt ?? "", $0.key) < ($1.createdAt ?? "", $1.key) }
        // Poll every attempt first, so that slots freed by jobs that ended are filled in this same pass.
        let polled = try poll(active, &p)
        lap("poll", "\(active.count) attempts")
        for (s, state) in polled { try advance(s, state, &p, into: &step) }
        try launchClaimed(&p, into: &step)
        releaseDebugFolders(&p.statuses, now: now, into: &step)
        lap("launch and collect", String(format: "launches %.1f ms, collects %.1f ms", p.launchSeconds * 1000, p.collectSeconds * 1000))
        try recordSteps(step, intent: intent, active: active, p)
        return try workRemains(p)
    }

    /// Adds the time since the last lap to `phase` (HONE_TIMINGS).
    func lap(_ phase: String, _ detail: String = "") {
        guard Recorder.timings else { return }
        let ms = Date().timeIntervalSince(lapStarted) * 1000
        timingTotals[phase, default: 0] += ms
        progress(String(format: "timing: %@%@ %.1f ms", phase, detail.isEmpty ? "" : " (\(detail))", ms))
        lapStarted = Date()
    }

    // MARK: Step 1: intent

    /// Statuses for new attempts, cancellations, publishes and prunes, committed before anything is launched.
    func recordIntent(_ plan: Plan, _ p: inout PassState) throws -> ChangeSet {
        // What is recorded next is committed at once (before any launch): with what waits, in order.
        if plan.actions.contains(where: { [.create, .rerun, .cancel, .publish, .prune].contains($0.action) }) { try flush() }
        let specCommit = recorder.tip?.hex
        for e in p.load.errors + plan.errors where !summary.errors.contains(e) {
            summary.errors.append(e)
            progress(e.description)
        }
        let starting = plan.actions.filter { ($0.action == .create || $0.action == .rerun)
            && (p.load.desired.runs[$0.key]?.owner ?? p.load.desired.evals[$0.key]?.owner) == nil }.map(\.key)
        authors = lastAuthors(starting)
        var intent = ChangeSet()
        for a in plan.actions {
            switch a.action {
            case .create, .rerun: try intendAttempt(a, specCommit: specCommit, &p, into: &intent)
            case .cancel: try intendCancel(a, &p, into: &intent)
            case .publish: try publish(a, &p, into: &intent)
            case .prune: try prune(a, &p, into: &intent)
            case .poll, .blocked, .deferred, .noop: continue
            }
        }
        lap("plan and intent")
        try recorder.record(intent, subject: "hone: " + describe(intent))
        lap("intent commit")
        if !intent.isEmpty { CrashPoint.hit("after-intent-commit") }
        return intent
    }

    /// A new attempt's status; the attempt it supersedes is cancelled first, for sure, or the new one waits.
    func intendAttempt(_ a: PlannedAction, specCommit: String?, _ p: inout PassState, into intent: inout ChangeSet) throws {
        if let old = a.supersedes, var previous = p.statuses[a.key] {
            if let why = cancelUnconfirmed(previous, id: old, project: p.project) {
                try recordCancelFailure(&previous, id: old, why: why, now: p.now, into: &intent)
                p.statuses[a.key] = previous
                return
            }
            progress("cancelled \(a.key.display) attempt \(previous.attempt): superseded by a spec change")
        }
        var s = newStatus(a, load: p.load, specCommit: specCommit, previous: p.statuses[a.key], now: p.now)
        if let old = a.supersedes, let previous = p.statuses[a.key] {
            s.events.insert(contentsOf: previous.events, at: 0)
            s.events.append(StatusEvent(at: Timestamp.string(p.now), type: .warning, reason: "Superseded",
                                        message: "attempt \(previous.attempt) (\(old)) cancelled: the spec changed (onChange: cancel)"))
        }
        p.statuses[a.key] = s
        try writeStatus(s, into: &intent)
        intent.action(a.action.rawValue, a.key, id: s.id, line: "\(a.action.rawValue) \(a.key.display) attempt \(s.attempt): \(a.reason)")
    }

    /// A deleted spec's or an auto-released eval's attempt, cancelled (confirmed by the executor) and recorded.
    func intendCancel(_ a: PlannedAction, _ p: inout PassState, into intent: inout ChangeSet) throws {
        guard var s = p.statuses[a.key] else { return }
        let released = a.reason.hasPrefix("auto-release")
        // Released already by its own watchdog (local pools): collected below, with its outputs.
        if released, case .finished(let end)? = try? executor(for: s.pool, project: p.project).poll(id: s.id), end.outcome == .released {
            return
        }
        if let why = cancelUnconfirmed(s, id: s.id, project: p.project) {
            try recordCancelFailure(&s, id: s.id, why: why, now: p.now, into: &intent)
            p.statuses[a.key] = s
            return
        }
        try collectLogs(&s, store: p.store, project: p.project, into: &intent)
        uploadLogs(of: s, store: p.store)
        finish(&s, phase: .cancelled, at: p.now, project: p.project)
        s.events.append(Reconciler.releaseEvent(s, reason: a.reason, at: p.now))
        if released { summary.finished[a.key.display] = s.phase }
        p.statuses[a.key] = s
        try writeStatus(s, into: &intent)
        intent.action("cancel", a.key, id: s.id, line: "cancel \(a.key.display): \(a.reason)")
    }

    /// A run's model published under its `publishAs` name (the manifest and the status, in the intent commit).
    func publish(_ a: PlannedAction, _ p: inout PassState, into intent: inout ChangeSet) throws {
        guard var s = p.statuses[a.key], let run = p.load.desired.runs[a.key] else { return }
        if let same = a.alreadyPublished {
            Publisher.recordAlreadyPublished(status: &s, as: same, at: p.now)
            p.statuses[a.key] = s
            try writeStatus(s, into: &intent)
            intent.action("publish", a.key, id: s.id, line: "\(a.key.display): the same model as \(same), nothing published")
            progress("\(a.key.display): attempt \(s.attempt) made the same model as \(same) (sha256 \(s.run?.model?.sha256?.prefix(12) ?? "?")…): nothing published")
            return
        }
        guard let to = a.publishAs else { return }
        if let missing = p.store.missingModel(of: s) {
            // Never a manifest naming bytes nobody can read: the run's model is in another runner's store.
            let d = Diagnostic(path: a.key.statusPath, mark: .none,
                               message: "cannot publish \(a.key.display) as \(to): \(missing); nothing is written under models/ (docs/ci.md: a store every runner reaches)")
            if !summary.errors.contains(d) { summary.errors.append(d); progress(d.description) }
            return
        }
        let contents = s.run?.model.flatMap { ModelContents.of($0, run: run, store: p.store, desired: p.load.desired) }
        try Publisher.publish(run: run, status: &s, as: to, at: p.now, redactor: recorder.secrets.redactor, contents: contents, into: &intent)
        p.statuses[a.key] = s
        try writeStatus(s, into: &intent)
        intent.action("publish", a.key, id: s.id, line: "publish \(a.key.display) as \(to)")
        progress("published \(a.key.display) → \(to)")
    }

    /// With --prune: a deleted spec's status folder goes.
    func prune(_ a: PlannedAction, _ p: inout PassState, into intent: inout ChangeSet) throws {
        guard options.prune, let s = p.statuses[a.key] else { return }
        intent.delete(a.key.statusPath)
        for path in try repository.tree(of: recorder.tip!, under: a.key.statusFolder).map(\.path) { intent.delete(path) }
        p.statuses[a.key] = nil
        intent.action("prune", a.key, id: s.id, line: "prune \(a.key.display): spec deleted")
    }

    // MARK: Step 2: advance

    /// What the executors say of every active attempt, counting the pools' busy slots.
    func poll(_ active: [ObjectStatus], _ p: inout PassState) throws -> [(ObjectStatus, JobState)] {
        var polled: [(ObjectStatus, JobState)] = []
        for s in active {
            let exec = try executor(for: s.pool, project: p.project)
            // Another clone's local job runs on its machine, out of our sight: its statuses are that clone's to record.
            if isClaimedByOther(s) && exec.capabilities.contains(.runsOnThisMachine) { noteClaimedByOther(s); continue }
            let state: JobState
            if notLaunched.contains(s.id) && s.tasks.first?.executorId == nil && s.phase == .pending {
                // Polled as never launched by this reconciler (which holds the lock, so nobody else
                // launches): still not launched, no need to look again.
                state = .notFound
            } else {
                do { state = vanishedStillRunning(s, exec, try exec.poll(id: s.id)) } catch {
                    progress("cannot poll \(s.key.display) (\(s.id)): \(error)")
                    if s.phase == .running || s.tasks.first?.executorId != nil { p.running[s.pool, default: 0] += 1 }
                    continue
                }
            }
            switch state {
            case .pending, .running: p.running[s.pool, default: 0] += 1
            case .notFound:
                // Another clone may launch what it claimed: only our own unlaunched attempts stay unlaunched.
                if s.tasks.first?.executorId == nil && s.phase == .pending && !isClaimedByOther(s) { notLaunched.insert(s.id) }
            case .finished: break
            }
            polled.append((s, state))
        }
        return polled
    }

    /// One attempt moved on by what its executor said; a changed status is written into `step` with its trailer.
    func advance(_ polled: ObjectStatus, _ state: JobState, _ p: inout PassState, into step: inout ChangeSet) throws {
        var s = polled
        var verb: String   // the trailer's verb when this step changes the status
        switch state {
        case .notFound:
            guard let v = try advanceUnlaunched(&s, &p) else { return }
            verb = v
        case .pending(let executorId, let reason):
            if s.tasks.first?.executorId == nil { s.tasks[0].executorId = executorId }
            verb = "adopt"
            if !waitingNoted.contains(s.id) {
                waitingNoted.insert(s.id)
                progress("\(s.key.display): pending on \(s.pool) (\(reason))")
            }
        case .running(let executorId, let startedAt):
            verb = "update"
            if s.phase != .running { markRunning(&s, executorId: executorId, startedAt: startedAt ?? p.now); verb = "start" }
            try advancePlayground(&s, exec: try executor(for: s.pool, project: p.project), project: p.project, now: p.now, into: &step)
            try releaseIfDue(&s, p, into: &step)
        case .finished(let end):
            verb = "update"
            guard try collectEnded(&s, end, &p, into: &step) else { return }
        }
        guard s != polled else { return }
        p.statuses[s.key] = s
        try writeStatus(s, into: &step)
        // Every change carries its trailer (one per object and step).
        if !step.keys.contains(s.key) {
            step.action(verb, s.key, id: s.id, line: "\(s.key.display) is \(s.phase.rawValue.lowercased())\(verb == "queue" ? " (queued: the pool is full)" : "")")
        }
    }

    /// An attempt its executor does not know: lost when it was launched, else queued or given a slot.
    /// Returns the trailer's verb, nil when nothing is recorded now (another clone's claim; a slot given).
    func advanceUnlaunched(_ s: inout ObjectStatus, _ p: inout PassState) throws -> String? {
        // Claimed by another reconciler that has not launched it yet (or launched it where we cannot see):
        // adopt its claim, launch nothing, record nothing.
        if isClaimedByOther(s) { noteClaimedByOther(s); return nil }
        if s.phase == .running || s.tasks.first?.executorId != nil {
            // Launched before, and now without a trace: the job is lost.
            finish(&s, phase: .failed, at: p.now, project: p.project)
            s.events.append(StatusEvent(at: Timestamp.string(p.now), type: .warning, reason: "Lost", message: "the executor has no trace of job \(s.id)", task: s.tasks.first?.name))
            return "lost"
        }
        let limit = p.project?.pools[s.pool]?.maxParallel ?? 1
        if p.running[s.pool, default: 0] >= limit {
            if !s.events.contains(where: { $0.reason == "Queued" }) {
                s.events.append(StatusEvent(at: Timestamp.string(p.now), reason: "Queued", message: "pool \(s.pool) runs at most \(limit) job\(limit == 1 ? "" : "s") at a time: waiting for a free slot"))
                progress("\(s.key.display): queued (pool \(s.pool) runs at most \(limit) job\(limit == 1 ? "" : "s") at a time)")
            }
            return "queue"
        }
        p.toClaim.append(s)
        p.running[s.pool, default: 0] += 1
        return nil
    }

    /// A running eval past its `releaseAt` is cancelled (confirmed by the executor) and recorded AutoReleased.
    func releaseIfDue(_ s: inout ObjectStatus, _ p: PassState, into step: inout ChangeSet) throws {
        guard let r = s.releaseAt, let at = Timestamp.date(r), at <= p.now else { return }
        if let why = cancelUnconfirmed(s, id: s.id, project: p.project) {
            try recordCancelFailure(&s, id: s.id, why: why, now: p.now, into: &step)
            return
        }
        try collectLogs(&s, store: p.store, project: p.project, into: &step)
        uploadLogs(of: s, store: p.store)
        finish(&s, phase: .cancelled, at: p.now, project: p.project)
        s.events.append(StatusEvent(at: Timestamp.string(p.now), type: .warning, reason: "AutoReleased",
                                    message: "released after \(s.autoRelease.map { DurationText.format($0) } ?? "?"): job cancelled", task: s.tasks.first?.name))
        summary.finished[s.key.display] = s.phase
        step.action("cancel", s.key, id: s.id, line: "auto-release \(s.key.display)")
        progress("auto-released \(s.key.display) (\(s.id))")
    }

    // MARK: Step 3: collect

    /// A job that ended: its outcome, log and outputs into the status; its `src/` recycled. False when nothing
    /// of it may be recorded yet (its outputs could not reach the remote store: the next pass collects again).
    func collectEnded(_ s: inout ObjectStatus, _ end: JobEnd, _ p: inout PassState, into step: inout ChangeSet) throws -> Bool {
        CrashPoint.hit("before-collect")
        let exec = try executor(for: s.pool, project: p.project)
        if s.tasks.first?.executorId == nil { s.tasks[0].executorId = end.executorId }
        if s.startedAt == nil { s.startedAt = Timestamp.string(end.startedAt ?? p.now) }
        // Never seen running (it ended between two passes, or the reconciler that launched it died): the
        // task's start comes from the job's own record too.
        if s.tasks[0].startedAt == nil { s.tasks[0].startedAt = end.startedAt.map(Timestamp.string) ?? s.startedAt }
        let dir = exec.jobDirectory(for: s.id)
        let started = Date()
        var collected = ChangeSet()
        try collect(&s, end: end, finishedAt: end.finishedAt ?? p.now, directory: dir, logFile: exec.logFile(for: s.id),
                    store: p.store, project: p.project, into: &collected)
        p.collectSeconds += Date().timeIntervalSince(started)
        // A remote store holds what the status references before the status is committed. If it cannot
        // be written, nothing of the collect is recorded: the job's files stay (the job folder and the
        // local store) and the next pass collects and uploads again.
        do { try p.store.upload(referencedBy: s) } catch let e as RemoteStoreError {
            noteStoreFailure("\(s.key.display): its outputs are kept in the local store, not recorded yet: \(e)")
            return false
        }
        step.merge(collected)
        // The job has ended and its outcome is read: its src/ can serve the next job of its snapshot
        // now (a job launched later in this very pass). The rest of the folder stays: it proves the
        // job ran until the commit that records the outcome. A failed debug eval keeps it all.
        if !(s.eval?.debugEnabled == true && s.phase == .failed) {
            JobPreparation.recycleSource(dir.appendingPathComponent("src"), from: snapshotKeys.removeValue(forKey: s.id),
                                         repositoryRoot: workspace.root)
            collectedJobs.insert(s.id)
        }
        step.action("collect", s.key, id: s.id, line: "\(s.key.display) \(s.phase.rawValue.lowercased())")
        summary.finished[s.key.display] = s.phase
        progress("\(s.key.display): \(s.phase.rawValue)\(s.tasks.first?.exitCode.map { " (exit \($0))" } ?? "")")
        return true
    }

    /// The attempts given a slot, launched once this reconciler's claim on them is pushed.
    func launchClaimed(_ p: inout PassState, into step: inout ChangeSet) throws {
        let started = Date()
        for var s in try claim(p.toClaim, now: p.now) {
            notLaunched.remove(s.id)
            try launch(&s, exec: try executor(for: s.pool, project: p.project), load: p.load, statuses: p.statuses, store: p.store, now: p.now, project: p.project)
            p.statuses[s.key] = s
            try writeStatus(s, into: &step)
            let verb = s.phase == .failed ? "fail" : "launch"
            step.action(verb, s.key, id: s.id, line: "\(s.key.display) is \(s.phase.rawValue.lowercased())")
        }
        p.launchSeconds += Date().timeIntervalSince(started)
    }

    // MARK: Step 4: record

    /// The step changes: committed now, or (with --wait, jobs on this machine only) gathered a while.
    func recordSteps(_ step: ChangeSet, intent: ChangeSet, active: [ObjectStatus], _ p: PassState) throws {
        func onThisMachine(_ s: ObjectStatus) -> Bool {
            (try? executor(for: s.pool, project: p.project))?.capabilities.contains(.runsOnThisMachine) ?? false
        }
        let localOnly = active.allSatisfy(onThisMachine)
        quickRepoll = localOnly && !Set(step.verbs).isDisjoint(with: ["launch", "collect", "lost", "fail"])
        watchedLocalJobs = p.statuses.values.filter { $0.phase.isActive && $0.tasks.first?.executorId != nil && onThisMachine($0) }.map(\.id)
        if step.isEmpty && intent.isEmpty { idlePasses += 1 }
        unrecorded.merge(step)
        for key in step.keys { unrecordedStatuses[key] = p.statuses[key] }
        if !step.isEmpty && unrecordedSince == nil { unrecordedSince = Date() }
        // Only local jobs wait (they last milliseconds; Slurm submissions are recorded at once).
        // Many short jobs ending one after the other: commits wait long enough that committing takes at most a
        // fifth of the time (four times the last commit's duration, at most 2 s), and never less than a poll interval.
        let pace = max(options.pollInterval, min(4 * lastStepCommit, 2))
        if !options.wait || !localOnly || unrecordedSince.map({ Date().timeIntervalSince($0) >= pace }) == true {
            try flush()
            lap("step commit")
        } else {
            lap("step commit", "deferred")
        }
    }

    /// Whether a next pass has work: our attempts still active, or runs and evals the planner would start.
    func workRemains(_ p: PassState) throws -> Bool {
        let statuses = p.statuses
        // Another clone's jobs are not ours to wait for: it records them (a pass still collects a Slurm job of
        // theirs that it sees end).
        lastActive = statuses.values.filter { $0.phase.isActive && !$0.isServing && !isClaimedByOther($0) }
        if !lastActive.isEmpty { return true }
        // Blocked evals whose run is still going, or runs/evals the planner would start next pass.
        let replan = Planner(desired: p.load.desired, recorded: RecordedState(statuses: statuses, unreadable: p.load.recorded.unreadable),
                             invalidObjects: p.load.invalidObjects, now: p.now,
                             publishing: PublishScope.of(branch: branch, project: p.load.desired.project)).plan()
        return replan.actions.contains { $0.action == .create || $0.action == .rerun || $0.action == .publish
            || ($0.action == .cancel && !(statuses[$0.key].map(isClaimedByOther) ?? false)) }
    }

    func waitForLocalJobs(timeout: TimeInterval) -> Bool {
        guard let local = executors.values.first(where: { $0.capabilities.contains(.runsOnThisMachine) }) else { return false }
        // Every local pool keeps its jobs under the same .hone/jobs: one executor can watch them all.
        return local.waitForAnyEnd(ids: watchedLocalJobs, timeout: timeout)
    }

    /// Commits the step changes that wait.
    func flush() throws {
        if !unrecorded.isEmpty {
            let started = Date()
            try recorder.record(unrecorded, subject: "hone: " + describe(unrecorded))
            lastStepCommit = Date().timeIntervalSince(started)
            carryLoad(over: unrecorded, statuses: unrecordedStatuses)
        }
        unrecorded = ChangeSet()
        unrecordedStatuses = [:]
        unrecordedSince = nil
    }

    /// After our commit of status files on top of the commit last loaded, the new tip loads exactly as that
    /// load with the statuses we encoded laid over it: the next pass need not read and parse the branch again.
    /// (The commit holds them redacted; what passes act on — phases, ids, digests, times — holds no secret.)
    func carryLoad(over changes: ChangeSet, statuses: [ObjectKey: ObjectStatus]) {
        guard !options.noCommit, var last = lastLoad, let tip = recorder.tip, recorder.commits.last == tip,
              recorder.lastParent == last.commit, !recorder.rebased,
              changes.files.allSatisfy({ path, change in
                  guard path.hasPrefix("status/"), case .write = change else { return false }
                  // Every status file written is one of the statuses laid over.
                  return !path.hasSuffix(".yaml") || statuses.keys.contains { $0.statusPath == path }
              })
        else { return }
        for (key, status) in statuses {
            if last.result.recorded.statuses[key] == nil {
                // `files` stays in path order, as the loader lists them.
                let path = key.statusPath
                last.result.files.insert(path, at: last.result.files.firstIndex { $0 > path } ?? last.result.files.endIndex)
            }
            last.result.recorded.statuses[key] = status
        }
        lastLoad = (tip, last.result)
    }

    /// A failed debug eval keeps its job folder for inspection until its release time; after that the
    /// folder goes and the status says so.
    func releaseDebugFolders(_ statuses: inout [ObjectKey: ObjectStatus], now: Date, into step: inout ChangeSet) {
        for (key, var s) in statuses.filter({ $0.value.eval?.debugWorkdir != nil }).sorted(by: { $0.key < $1.key }) where s.phase.isFinal {
            guard let dir = s.eval?.debugWorkdir, let r = s.releaseAt, let at = Timestamp.date(r), at <= now,
                  !step.files.keys.contains(key.statusPath) else { continue }
            try? FileManager.default.removeItem(atPath: dir)
            s.eval?.debugWorkdir = nil
            s.events.append(StatusEvent(at: Timestamp.string(now), reason: "DebugReleased", message: "debug mode: release time \(r) passed: removed the kept folder \(dir)"))
            statuses[key] = s
            try? writeStatus(s, into: &step)
            step.action("release", key, id: s.id, line: "\(key.display): removed the debug folder kept until \(r)")
            progress("\(key.display): removed the debug folder \(dir) (release time \(r) passed)")
        }
    }

    func describe(_ c: ChangeSet) -> String {
        var counts: [String: Int] = [:]
        for verb in c.verbs { counts[verb, default: 0] += 1 }
        return counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", ")
    }

    // MARK: Status transitions

    func newStatus(_ a: PlannedAction, load: LoadResult, specCommit: String?, previous: ObjectStatus?, now: Date) -> ObjectStatus {
        let key = a.key
        var s = ObjectStatus(key: key, id: a.id!, phase: .pending, pool: a.pool ?? "local", handler: "", attempt: a.attempt ?? 1, specDigest: a.specDigest ?? "")
        s.createdAt = Timestamp.string(now)
        s.specCommit = specCommit
        s.inputs = a.inputs
        s.code = a.code
        let task: String
        if let run = load.desired.runs[key] {
            task = "train"
            s.handler = run.handler; s.params = run.params; s.rerun = run.rerun
            s.owner = run.owner ?? authors[key] ?? lastAuthor(key) ?? load.desired.project?.owner
            s.run?.baseModel = run.baseModel.description; s.run?.trainDataset = run.trainDataset.description
            s.run?.validationDataset = run.validationDataset?.description; s.runtime = run.runtime?.description
        } else if let eval = load.desired.evals[key] {
            task = "evaluate"
            s.handler = eval.handler; s.params = eval.params; s.rerun = eval.rerun
            s.owner = eval.owner ?? authors[key] ?? lastAuthor(key) ?? load.desired.project?.owner
            if let m = eval.model { s.eval?.model = m.description }
            else if let r = eval.fromRunKey, let rs = load.recorded.statuses[r] {
                let draft = rs.run?.model
                s.eval?.model = "\(draft?.name ?? r.name)@\(draft?.version ?? "draft") (draft of \(r.display) attempt \(rs.attempt))"
            }
            s.eval?.dataset = eval.dataset.description; s.runtime = eval.runtime?.description
            s.eval?.autoRelease = eval.autoRelease; s.eval?.debugEnabled = eval.debug.enabled
        } else if let p = load.desired.playgrounds[key] {
            task = "serve"
            s.handler = p.handler; s.params = p.params; s.rerun = p.rerun; s.runtime = p.runtime?.description
            s.owner = p.owner ?? authors[key] ?? lastAuthor(key) ?? load.desired.project?.owner
            s.playground?.model = p.model?.description ?? p.fromRunKey.map { r in
                let draft = load.recorded.statuses[r]?.run?.model
                return "\(draft?.name ?? r.name)@\(draft?.version ?? "draft") (draft of \(r.display))"
            }
            s.playground?.autoRelease = p.autoRelease; s.playground?.idleRelease = p.idleRelease
        } else { task = "task" }
        s.tasks = [TaskStatus(name: task, phase: .pending, log: key.statusFolder + "\(task).log")]
        s.events = [StatusEvent(at: Timestamp.string(now), reason: a.action == .create ? "Scheduled" : "Rescheduled",
                                message: "attempt \(s.attempt) (\(s.id)) scheduled on pool \(s.pool): \(a.reason)")]
        return s
    }

    /// Authors of the last commits that changed these specs: one walk of the history for many specs
    /// (a revwalk per spec is quadratic when thousands start at once).
    func lastAuthors(_ keys: [ObjectKey]) -> [ObjectKey: String] {
        guard keys.count > 8, let tip = recorder.tip else { return [:] }
        var wanted = Dictionary(keys.map { ($0.specPath, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [ObjectKey: String] = [:]
        for prefix in ["groups", "evaluations"] where !wanted.isEmpty {
            guard let commits = try? repository.history(of: prefix, from: tip) else { continue }
            for c in commits where !wanted.isEmpty {
                guard let diff = try? repository.diff(from: c.parents.first, to: c.id) else { continue }
                for d in diff { if let p = d.newPath, let k = wanted.removeValue(forKey: p) { out[k] = c.author.name } }
            }
        }
        return out
    }

    func lastAuthor(_ key: ObjectKey) -> String? {
        guard let tip = recorder.tip, let c = try? repository.lastCommit(touching: key.specPath, from: tip) else { return nil }
        return c.author.name
    }

    func launch(_ s: inout ObjectStatus, exec: Executor, load: LoadResult, statuses: [ObjectKey: ObjectStatus], store: ArtifactStore, now: Date, project: Project?) throws {
        try workspace.privateFolder()
        let dir = exec.jobDirectory(for: s.id)
        var prep = JobPreparation(repository: repository, desired: load.desired, recorded: statuses, store: store, environment: options.environment,
                                  index: snapshotIndex)
        prep.stagesInputs = project?.pools[s.pool]?.executor == .slurm
        do {
            var key: SourceSnapshot?
            var job = try prep.prepare(s, directory: dir, source: &key)
            job.environmentPolicy = recorder.secrets.jobPolicy
            key?.barrier()  // src/ is complete: what changes in it from now on is the job's doing
            snapshotKeys[s.id] = key
            let executorId = try exec.launch(job)
            CrashPoint.hit("after-launch")
            summary.launched.append(s.id)
            progress("launched \(s.key.display) attempt \(s.attempt) (\(s.id)) on pool \(s.pool)")
            s.tasks[0].executorId = executorId
            if let host = job.environment["HONE_LISTEN_HOST"], let port = job.environment["HONE_LISTEN_PORT"] { s.playground?.endpoint = "http://\(host):\(port)" }
            s.events.append(StatusEvent(at: Timestamp.string(now), reason: "Launched", message: "\(s.tasks[0].name) submitted to \(s.pool) as \(executorId)", task: s.tasks[0].name))
            if let state = try? exec.poll(id: s.id), case .running(_, let startedAt) = state {
                markRunning(&s, executorId: executorId, startedAt: startedAt ?? now)
            }
        } catch let f as PreparationFailure {
            // Not verified, so not used: a corrected sha256 in that version is not a change to a used version.
            if let input = f.unverifiedInput { s.inputs[input] = nil }
            finish(&s, phase: .failed, at: now, project: project)
            s.events.append(StatusEvent(at: Timestamp.string(now), type: .warning, reason: f.reason, message: f.message, task: s.tasks[0].name))
            progress("\(s.key.display) failed before starting: \(f.message)")
        } catch let e as RemoteStoreError {
            // The store is unreachable: the attempt stays pending, to be prepared again at the next pass.
            noteStoreFailure("\(s.key.display) not launched: its inputs could not be fetched: \(e)")
        } catch let e as ExecutorError {
            finish(&s, phase: .failed, at: now, project: project)
            s.events.append(StatusEvent(at: Timestamp.string(now), type: .warning, reason: "LaunchFailed", message: e.description, task: s.tasks[0].name))
            progress("\(s.key.display) could not be launched: \(e)")
        }
    }

    /// A cancelled job's full log goes to a remote store when it can; the cancel is recorded either way
    /// (the log's tail is in git), the full log staying in the local store.
    func uploadLogs(of s: ObjectStatus, store: ArtifactStore) {
        do { try store.upload(referencedBy: s) } catch {
            noteStoreFailure("\(s.key.display): its full log stays in the local store: \(error)")
        }
    }

    /// A remote store could not be read or written: said now, and in the summary (reconcile exits 1).
    func noteStoreFailure(_ message: String) {
        let text = recorder.secrets.redactor.redact(message)
        progress(text)
        if !summary.storeErrors.contains(text) { summary.storeErrors.append(text) }
    }

    func markRunning(_ s: inout ObjectStatus, executorId: String, startedAt: Date) {
        s.phase = .running
        s.startedAt = s.startedAt ?? Timestamp.string(startedAt)
        s.tasks[0].phase = .running
        s.tasks[0].executorId = executorId
        s.tasks[0].startedAt = s.startedAt
        if let r = s.autoRelease, let st = Timestamp.date(s.startedAt!) {
            s.releaseAt = Timestamp.string(st.addingTimeInterval(TimeInterval(r)))
        }
        s.events.append(StatusEvent(at: Timestamp.string(startedAt), reason: "Started", message: "\(s.tasks[0].name) is running (\(executorId))", task: s.tasks[0].name))
    }

    func finish(_ s: inout ObjectStatus, phase: Phase, at: Date, project: Project?) {
        s.phase = phase
        s.finishedAt = Timestamp.string(at)
        if let st = s.startedAt.flatMap(Timestamp.date) {
            s.durationSeconds = max(0, (at.timeIntervalSince(st) * 10).rounded() / 10)
            if let rate = project?.pools[s.pool]?.costPerHour { s.cost = rate * s.durationSeconds! / 3600 }
        } else { s.durationSeconds = 0; s.cost = 0 }
        for i in s.tasks.indices where s.tasks[i].phase.isActive {
            s.tasks[i].phase = phase
            s.tasks[i].finishedAt = s.finishedAt
        }
    }

    func collect(_ s: inout ObjectStatus, end: JobEnd, finishedAt: Date, directory: URL, logFile: URL,
                 store: ArtifactStore, project: Project?, into changes: inout ChangeSet) throws {
        var phase = Reconciler.phase(of: end.outcome)
        let task = s.tasks[0].name
        let at = Timestamp.string(finishedAt)
        s.tasks[0].exitCode = end.exitCode.map(Int.init)
        // An eval that ended before any poll saw it running has no release time yet.
        if s.releaseAt == nil, let r = s.autoRelease, let st = s.startedAt.flatMap(Timestamp.date) {
            s.releaseAt = Timestamp.string(st.addingTimeInterval(TimeInterval(r)))
        }
        try collectLogs(&s, store: store, project: project, into: &changes, logFile: logFile, at: finishedAt)
        var outputs = JobOutputs(jobDirectory: directory, store: store, id: s.id)
        collectOutputs(&s, outputs: &outputs, at: at, into: &changes)
        if phase == .succeeded && s.key.kind.producesModel {
            if let stored = try store.storeModel(jobDirectory: directory, refused: &outputs.refused) {
                let name = s.run?.model?.name ?? s.key.name
                let attempt = s.attempt
                s.run?.model = ModelOutput(name: name, version: "draft-\(attempt)", uri: stored.uri, sha256: stored.sha256, published: false)
            } else {
                phase = .failed
                s.events.append(StatusEvent(at: at, type: .warning, reason: "NoModel", message: "the handler exited 0 but wrote no model file into outputDir", task: task))
            }
        }
        if let e = outputs.refusalEvent(at: at, task: task) { s.events.append(e) }
        finish(&s, phase: phase, at: finishedAt, project: project)
        s.events.append(endEvent(s, end: end, phase: phase, at: at, store: store, logFile: logFile))
        if phase == .failed, s.eval?.debugEnabled == true {
            s.eval?.debugWorkdir = directory.path
            s.events.append(StatusEvent(at: at, reason: "DebugKept",
                                        message: "debug mode: the job's folder \(directory.path) is kept until \(s.releaseAt ?? "the release time")", task: task))
        }
    }

    /// The phase a job's outcome records (a run that succeeded still needs its model: see `collect`).
    static func phase(of outcome: JobOutcome) -> Phase {
        switch outcome {
        case .succeeded: return .succeeded
        case .failed, .timedOut, .lost: return .failed
        case .cancelled, .preempted, .released: return .cancelled
        }
    }

    /// The event that says how the job ended: `Succeeded`, `Cancelled`, `TimeLimit` or `Failed` (with the
    /// log's last lines).
    func endEvent(_ s: ObjectStatus, end: JobEnd, phase: Phase, at: String, store: ArtifactStore, logFile: URL) -> StatusEvent {
        let task = s.tasks[0].name
        switch (phase, end.outcome) {
        case (.succeeded, _):
            return StatusEvent(at: at, reason: "Succeeded", message: "\(task) exited 0 after \(DurationText.span(s.durationSeconds ?? 0))", task: task)
        case (_, .cancelled(let reason)):
            return StatusEvent(at: at, type: .warning, reason: "Cancelled", message: "the executor cancelled the job (\(reason))", task: task)
        case (_, .preempted):
            return StatusEvent(at: at, type: .warning, reason: "Cancelled", message: "the executor cancelled the job (preempted for other work)", task: task)
        case (_, .released):
            return StatusEvent(at: at, type: .warning, reason: "AutoReleased",
                               message: "released after \(s.autoRelease.map { DurationText.format($0) } ?? "?"): the job ended itself at its release time", task: task)
        default: break
        }
        var logReader = JobOutputs(jobDirectory: logFile.deletingLastPathComponent(), store: store, id: s.id)
        let tail = logReader.logTail(logFile.lastPathComponent, lines: 8)
        let status = end.exitCode.map { "exited with status \($0)" }
        let why: String
        switch end.outcome {
        case .failed(Int32(JobScript.runtimeFailedExitCode)?, _): why = "the runtime environment could not be created"
        case .failed(let code?, let detail): why = "\(task) exited with status \(code)" + (detail.map { " (\($0))" } ?? "")
        case .failed(nil, let detail): why = "\(task) ended without an exit status (\(detail ?? "the executor does not know it"))"
        case .timedOut: why = "\(task) \(status ?? "ended") at the pool's time limit"
        case .lost: why = "\(task) ended without an exit status (lost: gone without a recorded end)"
        case .succeeded, .cancelled, .preempted, .released: why = "\(task) \(status ?? "ended")"  // a run that exited 0 without a model
        }
        return StatusEvent(at: at, type: .warning, reason: end.outcome == .timedOut ? "TimeLimit" : "Failed",
                           message: why + (tail.isEmpty ? "" : "; last lines of the log:\n" + tail), task: task)
    }

    /// Metrics, the curve and results, committed beside the status (see JobOutputs for the caps), with a
    /// Warning event for each thing that is wrong with them.
    func collectOutputs(_ s: inout ObjectStatus, outputs: inout JobOutputs, at: String, into changes: inout ChangeSet) {
        let task = s.tasks[0].name
        func warn(_ reason: String, _ message: String) { s.events.append(StatusEvent(at: at, type: .warning, reason: reason, message: message, task: task)) }
        let summary = outputs.small("out/summary.json", cap: JobOutputs.summaryCap)
        if let problem = summary.problem { warn("BadSummary", problem + ": metrics left empty") }
        if let data = summary.data {
            let read = JobOutputs.metrics(fromSummary: data)
            if let m = read.metrics { s.metrics = m; s.metricsMeta = JobOutputs.annotations(fromSummary: data) } else { warn("BadSummary", (read.problem ?? "summary.json is unreadable") + ": metrics left empty") }
            if !read.nonFinite.isEmpty {
                let names = read.nonFinite.prefix(10).joined(separator: ", ") + (read.nonFinite.count > 10 ? " (and \(read.nonFinite.count - 10) more)" : "")
                warn("NonFiniteMetrics", "summary.json holds NaN or Infinity for \(names): left out; the finite metrics are kept")
            }
        }
        if let curve = outputs.lines("out/metrics.jsonl", storeAs: "metrics.jsonl", checkRows: false) {
            changes.write(s.key.statusFolder + "metrics.jsonl", data: curve.committed)
            if curve.isCut { warn("OutputCut", Reconciler.cutMessage("metrics.jsonl", curve)) }
        }
        var results: JSONLines? = nil
        if s.key.kind.recordsResults, let r = outputs.lines("out/results.jsonl", storeAs: "results.jsonl", checkRows: true) {
            results = r
            changes.write(s.key.statusFolder + "results.jsonl", data: r.committed)
            let path = s.key.statusFolder + "results.jsonl"
            s.eval?.resultsPath = path
            s.eval?.resultsRows = r.committedRows
            if r.hasBadRows { warn("BadResults", Reconciler.badRowsMessage(r)) }
            if r.isCut { warn("OutputCut", Reconciler.cutMessage("results.jsonl", r)) }
        }
        if s.key.kind.recordsResults, summary.data == nil, summary.problem == nil, results == nil {
            warn("NoOutputs", "the handler wrote neither summary.json nor results.jsonl into outputDir: the eval has no metrics and no results")
        }
    }

    static func cutMessage(_ name: String, _ l: JSONLines) -> String {
        "\(name) is \(l.totalBytes) bytes (\(l.rows) rows): its first \(l.committedRows) rows (\(l.committedBytes) bytes, at most \(JobOutputs.attachmentCap / (1 << 20)) MiB) are committed; the full file is \(l.storedURI ?? "(not stored)")"
    }

    static func badRowsMessage(_ r: JSONLines) -> String {
        var parts: [String] = []
        if r.notObjects > 0 { parts.append("\(r.notObjects) not a JSON object") }
        if r.withoutId > 0 { parts.append("\(r.withoutId) without \"id\"") }
        if r.duplicates > 0 { parts.append("\(r.duplicates) with an id seen before (\(r.duplicateSamples.map { "\"\($0)\"" }.joined(separator: ", ")))") }
        let lines = r.badLines.isEmpty ? "" : " (lines \(r.badLines.map(String.init).joined(separator: ", "))\(r.notObjects + r.withoutId > r.badLines.count ? ", …" : ""))"
        let unchecked = r.rows > r.committedRows ? " (the \(r.rows - r.committedRows) rows past the committed part are not checked)" : ""
        return "results.jsonl: of \(r.committedRows) rows, " + parts.joined(separator: ", ") + lines + unchecked
    }

    /// The capped log into git (tail kept), the full log into the store.
    func collectLogs(_ s: inout ObjectStatus, store: ArtifactStore, project: Project?, into changes: inout ChangeSet, logFile: URL? = nil,
                     at: Date = Date()) throws {
        let task = s.tasks.first?.name ?? "task"
        let file: URL
        if let logFile { file = logFile } else {
            guard let e = try? executor(for: s.pool, project: project) else { return }
            file = e.logFile(for: s.id)
        }
        var reader = JobOutputs(jobDirectory: file.deletingLastPathComponent(), store: store, id: s.id)
        let text = reader.committedLog(file.lastPathComponent, task: task)
        if let e = reader.refusalEvent(at: Timestamp.string(at), task: task) { s.events.append(e) }
        guard let text else { return }
        let path = s.key.statusFolder + "\(task).log"
        changes.write(path, data: text)
        s.tasks[0].log = path
    }

    static func lastLines(_ text: String, _ n: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(n + 1).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func writeStatus(_ s: ObjectStatus, into changes: inout ChangeSet) throws {
        // Redacted as a tree: a metric that is a whole secret becomes a quoted "***", still valid YAML.
        changes.write(s.key.statusPath, try YAMLEmitter.emit(recorder.secrets.redactor.redact(StatusCodec.encode(s))))
    }
}

extension RecordedState {
    init(statuses: [ObjectKey: ObjectStatus], unreadable: [ObjectKey: String] = [:]) {
        self.init()
        self.statuses = statuses
        self.unreadable = unreadable
    }
}
