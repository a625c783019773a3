import Foundation
import Git
import HoneLoading
import HoneModel
import HonePlanning
import YAML

/// Loads a repository and plans it; for pull requests, only the objects a change touches.
public struct PlanRequest {
    public var ref: String?
    public var base: String?
    public var now: Date
    /// The environment `hone reconcile` would run in (debug password variables are looked up there).
    public var environment: [String: String]
    public init(ref: String?, base: String?, now: Date = Date(), environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.ref = ref; self.base = base; self.now = now; self.environment = environment
    }
}

public struct PlanOutcome {
    public var plan: Plan
    public var load: LoadResult
    /// With --base: the objects the change touches.
    public var scope: Set<ObjectKey>?
}

extension Workspace {
    public func plan(_ request: PlanRequest) throws -> PlanOutcome {
        let (ref, changedPaths) = try pullRequestChange(base: request.base, ref: request.ref)
        let load: LoadResult
        if let changed = changedPaths, let scopes = PullRequestScope.touchedScopes(changed) {
            // Only the groups the change touches are parsed: a one-file pull request stays fast on a big repository.
            let folders = scopes.flatMap { [$0, "status/" + $0] }
            load = try Loader(source: source(ref: ref), parseOnly: { p in folders.contains { p.hasPrefix($0) } }).load()
        } else {
            load = try self.load(ref: ref)
        }
        var plan = Planner(load, now: request.now, publishing: .of(ref: ref, in: self, project: load.desired.project)).plan()
        // plan() found the planner's problems already (the same `Planner.problems`): not planned twice.
        let problems = try self.problems(load, plannerProblems: plan.errors, ref: ref)
        plan.errors = problems.filter(\.isError)
        plan.warnings = problems.filter { !$0.isError }
        plan.warnings += try debugPasswordWarnings(plan, load, ref: ref, environment: request.environment)
        var scope: Set<ObjectKey>? = nil
        if let changedPaths {
            let s = PullRequestScope.objects(touchedBy: changedPaths, desired: load.desired, recorded: load.recorded)
            scope = s
            plan.actions = plan.actions.filter { s.contains($0.key) }
            let changed = Set(changedPaths)
            let scopePaths = Set(s.map(\.specPath))
            plan.errors = plan.errors.filter { d in changed.contains(d.path) || scopePaths.contains(d.path) || d.path == Layout.projectFile }
        }
        return PlanOutcome(plan: plan, load: load, scope: scope)
    }
}

extension Workspace {
    /// A debug eval about to start whose password variable is unset or empty here would fail at once
    /// (`DebugPasswordMissing`) and stay failed until rerun: said before anything launches, at its
    /// `debug` field. Only the name is looked at, never the value (a short one is `DebugPasswordTooShort`).
    func debugPasswordWarnings(_ plan: Plan, _ load: LoadResult, ref: String?, environment: [String: String]) throws -> [Diagnostic] {
        var out: [Diagnostic] = []
        for a in plan.actions where a.action == .create || a.action == .rerun {
            guard let eval = load.desired.evals[a.key], eval.debug.enabled else { continue }
            let variable = eval.debug.passwordEnv
            guard (environment[variable] ?? "").isEmpty else { continue }
            out.append(Diagnostic(.warning, path: a.key.specPath, mark: eval.marks["debug"],
                                  message: "debug mode is on but \(variable) is not set here: reconcile would fail \(a.key.display) (DebugPasswordMissing) — set \(variable) in the environment of `hone reconcile` (never in git) before reconciling"))
        }
        return try withSourceLines(out, ref: ref)
    }

    /// Every problem of a loaded repository: the loader's diagnostics and what only planning finds
    /// (`Planner.problems`), pointed at their source lines and sorted by path, line and column. `hone
    /// plan` and `hone validate` both report this, so they never disagree.
    public func problems(_ load: LoadResult, ref: String?, now: Date = Date()) throws -> [Diagnostic] {
        try problems(load, plannerProblems: Planner(load, now: now).problems(), ref: ref)
    }

    func problems(_ load: LoadResult, plannerProblems: [Diagnostic], ref: String?) throws -> [Diagnostic] {
        let all = load.diagnostics + (try withSourceLines(plannerProblems, ref: ref))
        return all.enumerated()
            .sorted { ($0.element.path, $0.element.line, $0.element.column, $0.offset) < ($1.element.path, $1.element.line, $1.element.column, $1.offset) }
            .map(\.element)
    }

    /// The planner's diagnostics carry their place (from the specs' marks); this adds the text of the
    /// line they point at, so they read like every other diagnostic.
    func withSourceLines(_ diagnostics: [Diagnostic], ref: String?) throws -> [Diagnostic] {
        let src = try source(ref: ref)
        var lines: [String: [UInt8]] = [:]
        return diagnostics.map { d in
            // A refused file (a link, too large) was reported by the loader: the diagnostic stays as it is.
            guard d.line > 0, d.sourceLine == nil else { return d }
            if lines[d.path] == nil { lines[d.path] = (try? src.read(d.path, limit: ReadLimit.specFile)) ?? nil }
            guard let bytes = lines[d.path] else { return d }
            var out = d
            out.sourceLine = Loader.line(d.line, of: bytes)
            return out
        }
    }
}
