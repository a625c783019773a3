import Foundation
import HoneLoading
import HoneModel

/// The phase shown for an object that has a spec but no recorded status yet.
public let neverRunPhase = "never run"

/// `hone get groups|runs|evals`: tables over desired state (the specs) joined with recorded state
/// (status/), so an object that has never run is listed too.
public enum Listings {
    public static let groupColumns = ["name", "description", "runs", "evals", "playgrounds", "lastActivity"]
    public static let playgroundColumns = ["name", "group", "model", "endpoint", "ready", "phase", "pool", "owner", "startedAt", "releaseAt",
                                          "lastRequestAt", "attempt"]
    public static let runColumns = ViewSpec.runColumns

    public static func groups(_ load: LoadResult) -> Table {
        let names = Set(load.desired.groups.keys)
        let rows: [[String: JSONValue]] = names.sorted().map { g in
            let scope = Scope.group(g)
            let runs = keys(load, kind: .run, scope: scope), evals = keys(load, kind: .eval, scope: scope)
            let playgrounds = keys(load, kind: .playground, scope: scope)
            let activity = (runs + evals + playgrounds).compactMap { load.recorded.statuses[$0].flatMap(lastActivity) }.max()
            return ["name": .string(g), "description": load.desired.groups[g]?.description.map(JSONValue.string) ?? .null,
                    "runs": .int(runs.count), "evals": .int(evals.count), "playgrounds": .int(playgrounds.count), "lastActivity": activity.map(JSONValue.string) ?? .null]
        }
        var t = Table(columns: groupColumns, rows: rows)
        t.documentKind = "GroupList"
        t.narrow = ["name", "runs", "evals", "active", "description"]
        t.ages = ["active": "lastActivity"]
        return t
    }

    /// Runs, newest first (never-run ones last, by name), each with its params and summary metrics as
    /// columns (`params.lr`, `metrics.val_loss`); through `view` (a `for: runs` view) when given.
    public static func runs(_ load: LoadResult, group: String?, view: ViewSpec? = nil) -> Table {
        let ks = keys(load, kind: .run, scope: group.map(Scope.group))
        var rows = ks.map { runRow(load, $0) }
        let results = resultColumns(rows)
        if let view { rows = rows.filter { ViewQuery.matches($0, view.filter) } }
        ViewQuery.sort(&rows, by: view?.sortBy ?? "createdAt", order: view?.sortOrder ?? ViewSortOrder.desc)
        var t = Table(columns: view?.columns ?? runColumns + results, rows: rows, pinned: view?.pinned ?? [])
        t.spanColumns = ["duration"]
        t.documentKind = "RunList"
        if view == nil {
            t.narrow = ["name", "group", "phase", "age", "duration"] + results
            t.ages = ["age": "createdAt"]
        }
        return t
    }

    /// The `params.*` then `metrics.*` columns some row has, each group sorted.
    static func resultColumns(_ rows: [[String: JSONValue]]) -> [String] {
        let keys = Set(rows.flatMap(\.keys))
        return keys.filter { $0.hasPrefix("params.") }.sorted() + keys.filter { $0.hasPrefix("metrics.") }.sorted()
    }

    /// Playgrounds (all, or one group's), newest first: where each serves and until when.
    public static func playgrounds(_ load: LoadResult, group: String?) -> Table {
        var rows = keys(load, kind: .playground, scope: group.map(Scope.group)).map { playgroundRow(load, $0) }
        ViewQuery.sort(&rows, by: "createdAt", order: ViewSortOrder.desc)
        var t = Table(columns: playgroundColumns, rows: rows)
        t.documentKind = "PlaygroundList"
        t.narrow = ["name", "group", "model", "phase", "ready", "endpoint", "releaseAt"]
        return t
    }

    static func playgroundRow(_ load: LoadResult, _ key: ObjectKey) -> [String: JSONValue] {
        let spec = load.desired.playgrounds[key], s = load.recorded.statuses[key], p = s?.playground
        func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        var row: [String: JSONValue] = [
            "name": .string(key.name), "group": .string(key.scope.name),
            "model": str(p?.model ?? spec?.model?.description ?? spec?.fromRun.map { "draft of run \($0)" }),
            // A released or failed server no longer listens: its endpoint is history, not an address.
            "endpoint": str(s?.phase == .running ? p?.endpoint : nil), "ready": .bool(s?.phase == .running && p?.ready == true),
            "pool": str(s?.pool ?? spec?.pool), "owner": str(s?.owner ?? spec?.owner),
            "releaseAt": str(p?.releaseAt), "lastRequestAt": str(p?.lastRequestAt),
        ]
        common(s, into: &row)
        return row
    }

    /// Evals (all, or one scope's), through `view` when given: its filter, sort, columns and pinned.
    /// Without a view: every column, newest first.
    public static func evals(_ load: LoadResult, scope: Scope?, view: ViewSpec?) -> Table {
        var rows = keys(load, kind: .eval, scope: scope).map { evalRow(load, $0) }
        let metricKeys = Set(rows.flatMap { $0.keys.filter { $0.hasPrefix("metrics.") } }).sorted()
        let all = ViewSpec.builtinColumns + metricKeys
        if let view { rows = rows.filter { ViewQuery.matches($0, view.filter) } }
        ViewQuery.sort(&rows, by: view?.sortBy ?? "createdAt", order: view?.sortOrder ?? .desc)
        var t = Table(columns: view?.columns ?? all, rows: rows, pinned: view?.pinned ?? [])
        t.spanColumns = ["duration"]
        t.documentKind = "EvalList"
        // A view picks its own columns; without one the narrow table keeps what tells evals apart.
        if view == nil {
            t.narrow = ["name", "group", "model", "phase", "age", "duration"] + metricKeys
            t.ages = ["age": "createdAt"]
        }
        return t
    }

    /// The runs or evals of a scope (or all): every spec, plus statuses whose spec was deleted.
    static func keys(_ load: LoadResult, kind: ObjectKey.Kind, scope: Scope?) -> [ObjectKey] {
        let specs: [ObjectKey]
        switch kind {
        case .run: specs = Array(load.desired.runs.keys)
        case .eval: specs = Array(load.desired.evals.keys)
        case .view: specs = Array(load.desired.views.keys)
        case .playground: specs = Array(load.desired.playgrounds.keys)
        }
        let all = Set(specs + load.recorded.statuses.keys.filter { $0.kind == kind })
        return all.filter { scope == nil || $0.scope == scope }.sorted()
    }

    static func lastActivity(_ s: ObjectStatus) -> String? {
        ([s.createdAt, s.startedAt, s.finishedAt].compactMap { $0 } + s.events.map(\.at)).max()
    }

    static func common(_ s: ObjectStatus?, into row: inout [String: JSONValue]) {
        func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        row["phase"] = .string(s?.shownPhase ?? neverRunPhase)
        row["createdAt"] = str(s?.createdAt)
        row["finishedAt"] = str(s?.finishedAt)
        row["duration"] = s?.durationSeconds.map(JSONValue.double) ?? .null
        row["attempt"] = s.map { .int($0.attempt) } ?? .null
    }

    static func runRow(_ load: LoadResult, _ key: ObjectKey) -> [String: JSONValue] {
        let spec = load.desired.runs[key], s = load.recorded.statuses[key]
        func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        // The spec says what the run is now; the status what the recorded attempt used (for a deleted spec).
        var row: [String: JSONValue] = [
            "name": .string(key.name), "group": .string(key.scope.name),
            "baseModel": str(spec?.baseModel.description ?? s?.run?.baseModel),
            "trainDataset": str(spec?.trainDataset.description ?? s?.run?.trainDataset),
            "validationDataset": str(spec.map { $0.validationDataset?.description } ?? s?.run?.validationDataset),
            "pool": str(s?.pool ?? spec?.pool),
            "owner": str(s?.owner ?? spec?.owner),
        ]
        common(s, into: &row)
        let params = spec?.params ?? s?.params ?? [:], metrics = s?.metrics ?? [:]
        Flatten.columns("params.", params, into: &row)
        Flatten.columns("metrics.", metrics, into: &row)
        let item = RunItem(object: ObjectRef(key), phase: s?.phase.rawValue ?? neverRunPhase,
                           baseModel: (spec?.baseModel).map { ModelRef.version($0, load) } ?? s?.run?.baseModel.map { ModelRef.recorded($0, load) },
                           trainDataset: row["trainDataset"]?.stringValue, validationDataset: row["validationDataset"]?.stringValue,
                           pool: row["pool"]?.stringValue, owner: row["owner"]?.stringValue, createdAt: s?.createdAt, finishedAt: s?.finishedAt,
                           durationSeconds: s?.durationSeconds, attempt: s?.attempt, params: params, metrics: metrics,
                           output: ModelRef.output(of: key, load))
        row[Table.itemKey] = try? JSONValue(encoding: item)
        return row
    }

    static func evalRow(_ load: LoadResult, _ key: ObjectKey) -> [String: JSONValue] {
        let spec = load.desired.evals[key], s = load.recorded.statuses[key]
        func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        var row: [String: JSONValue] = [
            "name": .string(key.name), "group": .string(key.scope.name),
            "model": str(s?.eval?.model ?? spec.map(Describe.modelText)),
            "dataset": str(s?.eval?.dataset ?? spec?.dataset.description),
            "runtime": str(s?.runtime ?? spec?.runtime?.description),
            "handler": str((s?.handler).flatMap { $0.isEmpty ? nil : $0 } ?? spec?.handler),
            "pool": str(s?.pool ?? spec?.pool),
            "owner": str(s?.owner ?? spec?.owner),
            "cost": s?.cost.map(JSONValue.double) ?? .null,
        ]
        common(s, into: &row)
        for (k, v) in s?.metrics ?? [:] { row["metrics." + k] = v }
        let item = EvalItem(object: ObjectRef(key), phase: s?.phase.rawValue ?? neverRunPhase, model: ModelRef.of(eval: key, load),
                            dataset: row["dataset"]?.stringValue, runtime: row["runtime"]?.stringValue, handler: row["handler"]?.stringValue,
                            pool: row["pool"]?.stringValue, owner: row["owner"]?.stringValue, cost: s?.cost, createdAt: s?.createdAt,
                            finishedAt: s?.finishedAt, durationSeconds: s?.durationSeconds, attempt: s?.attempt,
                            baseline: spec?.baseline.map { ObjectRef(ObjectKey(scope: key.scope, kind: .eval, name: $0)) },
                            params: spec?.params ?? s?.params ?? [:], metrics: s?.metrics ?? [:])
        row[Table.itemKey] = try? JSONValue(encoding: item)
        return row
    }
}

/// `hone view list`: the saved views of a scope.
extension Listings {
    /// The views of a scope as a table (hidden ones only with `includeHidden`).
    public static func views(_ ws: Workspace, scope: Scope, includeHidden: Bool) throws -> Table {
        let load = try ws.load(ref: nil, includeStatus: false)
        try ObjectAddress.checkScope(scope, in: load)
        let views = load.desired.views.values.filter { $0.key.scope == scope && (includeHidden || $0.visible) }.sorted { $0.key < $1.key }
        let rows: [[String: JSONValue]] = views.map { v in
            ["name": .string(v.key.name), "default": .bool(v.isDefault), "visible": .bool(v.visible),
             "columns": .string(v.columns?.joined(separator: ",") ?? "(all)"), "pinned": .string(v.pinned.joined(separator: ",")),
             "filter": .string(v.filter.map(filterText).joined(separator: " ")), "sort": .string("\(v.sortBy):\(v.sortOrder.rawValue)")]
        }
        return Table(columns: ["name", "default", "visible", "columns", "pinned", "filter", "sort"], rows: rows)
    }

    static func filterText(_ c: FilterClause) -> String {
        c.column + (c.op == .glob ? "=" : c.op.rawValue) + c.value
    }
}

/// Filtering and sorting rows the way views say (specs/view.md).
public enum ViewQuery {
    static let numericColumns: Set<String> = ["duration", "cost", "attempt"]
    static let dateColumns: Set<String> = ["createdAt", "finishedAt"]

    static func isNumeric(_ c: String) -> Bool { numericColumns.contains(c) || c.hasPrefix("metrics.") || c.hasPrefix("params.") }

    public static func matches(_ row: [String: JSONValue], _ clauses: [FilterClause]) -> Bool {
        clauses.allSatisfy { matches(row, $0) }
    }

    public static func matches(_ row: [String: JSONValue], _ clause: FilterClause) -> Bool {
        let value = row[clause.column] ?? .null
        let text: String? = value == .null ? nil : (value.stringValue ?? value.display)
        switch clause.op {
        case .eq, .ne:
            var equal: Bool
            if let text {
                if isNumeric(clause.column), let a = value.doubleValue ?? Double(text), let b = Double(clause.value) { equal = a == b }
                else { equal = text == clause.value }
            } else { equal = false }
            return clause.op == .eq ? equal : !equal
        case .glob:
            guard let text else { return false }
            return glob(clause.value, text)
        case .lt, .le, .gt, .ge:
            let order: ComparisonResult?
            if isNumeric(clause.column) {
                guard let a = value.doubleValue ?? text.flatMap(Double.init), let b = Double(clause.value) else { return false }
                order = a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
            } else if dateColumns.contains(clause.column) {
                guard let a = text.flatMap(Timestamp.date), let b = Timestamp.date(clause.value) ?? Timestamp.date(clause.value + "T00:00:00Z") else { return false }
                order = a.compare(b)
            } else {
                guard let text else { return false }
                order = text.compare(clause.value)
            }
            switch (clause.op, order) {
            case (.lt, .orderedAscending?), (.gt, .orderedDescending?): return true
            case (.le, let o?): return o != .orderedDescending
            case (.ge, let o?): return o != .orderedAscending
            default: return false
            }
        }
    }

    /// `*` any run of characters, `?` one character; everything else literal.
    public static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) { pi += 1; ti += 1 }
            else if pi < p.count && p[pi] == "*" { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Sorts by a column; rows without a value go last whatever the order; ties by group, then name.
    public static func sort(_ rows: inout [[String: JSONValue]], by column: String, order: ViewSortOrder) {
        func compare(_ a: JSONValue, _ b: JSONValue) -> ComparisonResult {
            if let x = a.doubleValue, let y = b.doubleValue { return x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame }
            if dateColumns.contains(column), let x = a.stringValue.flatMap(Timestamp.date), let y = b.stringValue.flatMap(Timestamp.date) {
                return x.compare(y)
            }
            return a.display.compare(b.display)
        }
        func tie(_ a: [String: JSONValue], _ b: [String: JSONValue]) -> Bool {
            (a["group"]?.display ?? "", a["name"]?.display ?? "") < (b["group"]?.display ?? "", b["name"]?.display ?? "")
        }
        rows.sort { a, b in
            let x = a[column] ?? .null, y = b[column] ?? .null
            if x == .null || y == .null { return x == y ? tie(a, b) : y == .null }
            switch compare(x, y) {
            case .orderedSame: return tie(a, b)
            case .orderedAscending: return order == .asc
            case .orderedDescending: return order == .desc
            }
        }
    }
}
