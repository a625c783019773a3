import Foundation
import Git
import HoneLoading
import HoneModel
import HonePlanning

/// What `hone check` evaluates: the `gates:` of evals, on a commit or the working tree, optionally
/// only for the evals a change touches (a pull request's check).
public struct GateCheckRequest {
    public var ref: String?
    public var base: String?
    public var now: Date
    public init(ref: String?, base: String?, now: Date = Date()) { self.ref = ref; self.base = base; self.now = now }
}

public enum GateVerdict: String, Sendable {
    case pass, fail = "FAIL", pending
}

/// One gate of one eval, evaluated.
public struct GateResult: Sendable {
    public var eval: ObjectKey
    public var metric: String
    public var expression: String
    public var value: Double?
    public var bound: Double?
    /// The eval the gate compares with (gates written against `baseline` only).
    public var baseline: ObjectKey?
    public var baselineValue: Double?
    public var verdict: GateVerdict
    /// Why a gate is pending or failed without a comparison (no results yet, eval failed, metric missing).
    public var note: String?
    /// With --base: the base ref whose records gave the baseline's value (nil: the head's, when the change touches the baseline).
    public var baselineAt: String? = nil
}

public struct GateReport: Sendable {
    public var results: [GateResult]
    /// Load errors (invalid files): a check on an invalid repository fails.
    public var errors: [Diagnostic]
    /// With --base: the evals the change touches (whether or not they have gates).
    public var scope: [ObjectKey]?

    public func count(_ v: GateVerdict) -> Int { results.filter { $0.verdict == v }.count }
}

extension Workspace {
    /// Evaluates eval gates against recorded metrics. An eval's results count only when they are
    /// current: the eval Succeeded and the plan has nothing left to do for it (a recorded result of an
    /// older spec is not evidence for the new one). The baseline's value must be current likewise.
    public func checkGates(_ request: GateCheckRequest) throws -> GateReport {
        let (ref, changedPaths) = try pullRequestChange(base: request.base, ref: request.ref)
        let load = try self.load(ref: ref)
        var evidence = GateEvidence(load: load, plan: Planner(load, now: request.now, publishing: .of(ref: ref, in: self, project: load.desired.project)).plan())
        let desired = load.desired

        var selected = desired.evals.keys.sorted()
        var scopeList: [ObjectKey]? = nil
        if let changedPaths {
            let touched = PullRequestScope.objects(touchedBy: changedPaths, desired: desired, recorded: load.recorded)
            // A pull request is judged against the baseline's result as its base records it (specs/cli-check.md).
            if let base = request.base { evidence.base = try baseRecords(base: base, touched: touched) }
            // An eval whose baseline changed is judged against a new value: it is in scope too.
            selected = selected.filter { k in
                touched.contains(k) || desired.evals[k]!.baseline.map { touched.contains(ObjectKey(scope: k.scope, kind: .eval, name: $0)) } == true
            }
            scopeList = selected
        }
        var results: [GateResult] = []
        for key in selected {
            let eval = desired.evals[key]!
            let baselineKey = eval.baseline.map { ObjectKey(scope: key.scope, kind: .eval, name: $0) }
            for (metric, text) in eval.gates {
                results.append(evidence.judge(key, metric: metric, gate: text, baseline: baselineKey))
            }
        }
        var errors = load.errors
        if let changedPaths {
            // Like plan --base: only errors in what the change touches (and the project file) concern it.
            let relevant = Set(changedPaths).union(selected.map(\.specPath)).union([Layout.projectFile])
            errors = errors.filter { relevant.contains($0.path) }
        }
        return GateReport(results: results, errors: errors, scope: scopeList)
    }
}

/// What the recorded state says about an eval's gates: its current metrics, or why there are none.
struct GateEvidence {
    enum Evidence { case metrics([String: JSONValue]), pending(String), failed(String) }
    let recorded: RecordedState
    let actions: [ObjectKey: PlannedAction]
    /// With --base: where baselines are read (unless the change touches them).
    var base: BaseRecords?

    init(load: LoadResult, plan: Plan) {
        recorded = load.recorded
        actions = Dictionary(plan.actions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func evidence(_ key: ObjectKey) -> Evidence {
        guard let status = recorded.statuses[key] else { return .pending("\(key.display) has not run yet") }
        if let a = actions[key], a.action != .noop {
            switch a.action {
            case .blocked: return .pending("\(key.display) waits: \(a.reason)")
            case .create, .rerun: return .pending("\(key.display) will run again (\(a.action.rawValue)): recorded results are for an older spec")
            default: return .pending("\(key.display): attempt \(status.attempt) is \(status.phase.rawValue)")
            }
        }
        switch status.phase {
        case .succeeded: return .metrics(status.metrics)
        case .pending, .running: return .pending("\(key.display): attempt \(status.attempt) is \(status.phase.rawValue)")
        case .failed, .cancelled: return .failed("\(key.display) \(status.phase.rawValue) (attempt \(status.attempt)): no results")
        }
    }

    /// A baseline's evidence: as the base records it (with --base, unless the change touches it), and that ref.
    func baselineEvidence(_ key: ObjectKey) -> (evidence: Evidence, at: String?) {
        guard let records = base, let recordedOnBase = records.status(of: key) else { return (evidence(key), nil) }
        let on = "on \(records.base)"
        guard let s = recordedOnBase else { return (.pending("\(key.display) has no results \(on)"), records.base) }
        switch s.phase {
        case .succeeded: return (.metrics(s.metrics), records.base)
        case .pending, .running: return (.pending("\(key.display) \(on): attempt \(s.attempt) is \(s.phase.rawValue)"), records.base)
        case .failed, .cancelled: return (.failed("\(key.display) \(s.phase.rawValue) \(on) (attempt \(s.attempt)): no results"), records.base)
        }
    }

    /// `metrics.rouge.l` → metrics["rouge.l"], else the nested metrics["rouge"]["l"].
    static func value(_ metrics: [String: JSONValue], _ gateMetric: String) -> JSONValue? {
        let name = gateMetric.hasPrefix("metrics.") ? String(gateMetric.dropFirst("metrics.".count)) : gateMetric
        if let v = metrics[name] { return v }
        var parts = name.split(separator: ".").map(String.init)
        guard parts.count > 1, var v = metrics[parts.removeFirst()] else { return nil }
        for p in parts { guard let next = v[p] else { return nil }; v = next }
        return v
    }

    /// A number the gate reads from evidence, or the verdict and note that stand instead.
    enum Reading { case value(Double), verdict(GateVerdict, String) }

    static func read(_ e: Evidence, _ metric: String, who: String, prefix: String) -> Reading {
        switch e {
        case .pending(let why): return .verdict(.pending, prefix + why)
        case .failed(let why): return .verdict(.fail, prefix + why)
        case .metrics(let m):
            guard let v = value(m, metric) else { return .verdict(.fail, "\(who) recorded no \(metric)") }
            guard let d = v.doubleValue else { return .verdict(.fail, "\(prefix)\(metric) is \(v.display), not a number") }
            return .value(d)
        }
    }

    /// One gate of one eval, judged.
    func judge(_ key: ObjectKey, metric: String, gate text: String, baseline baselineKey: ObjectKey?) -> GateResult {
        let parsed = GateExpression.parse(text)
        let relative = parsed?.relativeToBaseline ?? false
        var r = GateResult(eval: key, metric: metric, expression: text, value: nil, bound: nil, baseline: relative ? baselineKey : nil,
                           baselineValue: nil, verdict: .pending, note: nil)
        guard let gate = parsed else { r.verdict = .fail; r.note = "cannot parse gate \"\(text)\""; return r }
        let baseline = relative ? baselineKey.map(baselineEvidence) : nil
        let base = baseline?.evidence
        r.baselineAt = baseline?.at
        if let base, case .value(let bv) = GateEvidence.read(base, metric, who: "", prefix: "") { r.baselineValue = bv }
        switch GateEvidence.read(evidence(key), metric, who: key.display, prefix: "") {
        case .verdict(let v, let note): r.verdict = v; r.note = note; return r
        case .value(let d): r.value = d
        }
        if relative {
            guard let baselineKey, let base else { r.verdict = .fail; r.note = "the gate needs a baseline, but the eval names none"; return r }
            switch GateEvidence.read(base, metric, who: "baseline \(baselineKey.display)", prefix: "baseline ") {
            case .verdict(let v, let note): r.verdict = v; r.note = note; return r
            case .value(let d): r.baselineValue = d
            }
        }
        r.bound = gate.bound(baseline: r.baselineValue)
        r.verdict = gate.passes(r.value!, baseline: r.baselineValue) == true ? .pass : .fail
        return r
    }
}

/// Renderings of a gate report: a table (terminal, markdown) and one JSON document.
public enum GateViews {
    public static let columns = ["eval", "metric", "gate", "value", "bound", "baseline", "baseline value", "result", "note"]

    public static func table(_ report: GateReport) -> Table {
        func number(_ d: Double?) -> JSONValue { d.map { .string(JSONValue.formatNumber($0)) } ?? .null }
        let rows: [[String: JSONValue]] = report.results.map { r in
            [
                "eval": .string(r.eval.display),
                "metric": .string(r.metric),
                "gate": .string(r.expression),
                "value": number(r.value),
                "bound": number(r.bound),
                "baseline": r.baseline.map { .string($0.display + (r.baselineAt.map { " @ \($0)" } ?? "")) } ?? .null,
                "baseline value": number(r.baselineValue),
                "result": .string(r.verdict.rawValue),
                "note": r.note.map(JSONValue.string) ?? .null,
            ]
        }
        return Table(columns: columns, rows: rows)
    }

    /// "3 gates: 2 pass, 1 FAIL, 0 pending".
    public static func summary(_ report: GateReport) -> String {
        let n = report.results.count
        return "\(n) gate\(n == 1 ? "" : "s"): \(report.count(.pass)) pass, \(report.count(.fail)) FAIL, \(report.count(.pending)) pending"
    }

    public static func markdown(_ report: GateReport, requireResults: Bool) -> String {
        var out = "### hone check\n\n"
        if !report.errors.isEmpty {
            out += "#### ❌ Errors\n\n```\n" + report.errors.map(\.headline).joined(separator: "\n") + "\n```\n\n"
        }
        if report.results.isEmpty {
            return out + "No gates to check\(report.scope != nil ? " among the evals this change touches" : "").\n"
        }
        let verdict = report.count(.fail) > 0 ? "❌ " : report.count(.pending) > 0 ? (requireResults ? "❌ " : "⏳ ") : "✅ "
        out += "**\(verdict)\(summary(report))**\n\n"
        if report.count(.pending) > 0 {
            out += requireResults
                ? "Pending gates fail this check (`--require-results`): their evals have no current results yet.\n\n"
                : "Pending gates do not fail this check: their evals have no current results yet.\n\n"
        }
        return out + table(report).render(.markdown)
    }

    public static func json(_ report: GateReport) -> JSONValue { (try? JSONValue(encoding: GateCheckDocument(report))) ?? .null }
}

/// `hone check --format json` (specs/json.md).
struct GateCheckDocument: Encodable {
    struct Gate: Encodable {
        var eval: ObjectRef
        var metric, gate, result: String
        var value, bound, baselineValue: Double?
        var baseline: ObjectRef?
        /// With --base: the ref whose records gave the baseline's value.
        var baselineAt: String?
        var note: String?
    }
    struct Problem: Encodable { var path: String; var line: Int; var column: Int; var message: String }
    var apiVersion = Documents.apiVersion
    var kind = "GateCheck"
    var passed, failed, pending: Int
    var gates: [Gate]
    var errors: [Problem]
    var scope: [ObjectRef]?

    init(_ report: GateReport) {
        passed = report.count(.pass); failed = report.count(.fail); pending = report.count(.pending)
        gates = report.results.map { r in
            Gate(eval: ObjectRef(r.eval), metric: r.metric, gate: r.expression, result: r.verdict.rawValue, value: r.value, bound: r.bound,
                 baselineValue: r.baseline == nil ? nil : r.baselineValue, baseline: r.baseline.map(ObjectRef.init),
                 baselineAt: r.baseline == nil ? nil : r.baselineAt, note: r.note)
        }
        errors = report.errors.map { Problem(path: $0.path, line: $0.line, column: $0.column, message: $0.message) }
        scope = report.scope.map { $0.map(ObjectRef.init) }
    }
}
