import Foundation
import HoneModel

/// Which way a metric improves. Lower is better when the name contains one of `lowerIsBetterWords`
/// (case-insensitive: `loss`, `val_loss`, `perplexity`, `ppl`, `error_rate`, `latency_ms`, `cost`); higher otherwise.
public enum MetricDirection: String, Sendable {
    case higher, lower
    public static let lowerIsBetterWords = ["loss", "perplexity", "ppl", "error", "latency", "cost"]
    public static func of(_ metric: String) -> MetricDirection {
        let m = metric.lowercased()
        return lowerIsBetterWords.contains(where: { m.contains($0) }) ? .lower : .higher
    }
    /// What a handler's annotation says, else the name rule.
    public static func of(_ metric: String, annotation: MetricAnnotation?) -> MetricDirection {
        switch annotation?.direction {
        case .min?: return .lower
        case .max?: return .higher
        case nil: return of(metric)
        }
    }
    /// True when `a` is better than `b`.
    public func prefers(_ a: Double, over b: Double) -> Bool { self == .higher ? a > b : a < b }
    public var arrow: String { self == .higher ? "↑" : "↓" }
}

/// One eval's value of one metric, with its difference from the baseline.
public struct MetricCell: Sendable, Equatable {
    public var value: JSONValue?
    public var number: Double? { value?.doubleValue }
    /// value − baseline (nil for the baseline itself, or when either side is not a number).
    public var delta: Double?
    /// delta / |baseline| × 100 (nil when the baseline is 0).
    public var deltaPercent: Double?
    public var isBest: Bool
}

/// Whether a summary value is a quality measure (ranked, charted) or a count or other figure (shown only):
/// the handler's `_meta` annotation, else the name rule for counts.
public enum MetricKindRule {
    /// Names read as counts when no annotation says otherwise: `samples`, `chars`, `tokens`, `examples`,
    /// `rows`, `steps`, `count`, and names starting `num_`/`n_` or ending `_count`, `_samples`, `_tokens`, `_chars`.
    public static let countNames: Set<String> = ["samples", "chars", "characters", "tokens", "examples", "rows", "steps", "count"]
    public static func isCount(_ name: String) -> Bool {
        let n = name.lowercased()
        return countNames.contains(n) || n.hasPrefix("num_") || n.hasPrefix("n_")
            || ["_count", "_samples", "_tokens", "_chars"].contains { n.hasSuffix($0) }
    }

    public static func kind(_ name: String, annotation: MetricAnnotation?) -> MetricAnnotation.Kind {
        annotation?.kind ?? (isCount(name) ? .count : .metric)
    }

    /// The annotation the evals' statuses record for a metric (the first that has one).
    public static func annotation(_ name: String, in evals: [RecordedEval]) -> MetricAnnotation? {
        evals.lazy.compactMap { $0.status?.metricsMeta[name] }.first
    }
}

public struct MetricRow: Sendable {
    public var name: String
    public var direction: MetricDirection
    /// Only `metric` rows are ranked (best marks, coloured deltas) and charted.
    public var kind: MetricAnnotation.Kind = .metric
    public var unit: String? = nil
    /// In the comparison's eval order (baseline first).
    public var cells: [MetricCell]
}

/// Summary metrics of several evals side by side, against a pinned baseline (shown first).
/// The best value of a metric is marked on every eval that has it — unless all values are equal
/// (nothing to choose) or fewer than two evals have a number.
public struct EvalComparison: Sendable {
    public var evals: [RecordedEval]
    public var metrics: [MetricRow]
    public var baseline: RecordedEval { evals[0] }

    /// `baseline` indexes `evals`; the baseline moves to the front, the others keep their order.
    public init(evals: [RecordedEval], baseline: Int = 0) {
        var ordered = evals
        let b = ordered.remove(at: baseline)
        ordered.insert(b, at: 0)
        self.evals = ordered
        let names = Set(ordered.flatMap { $0.metrics.keys }).sorted()
        metrics = names.map { name in
            let annotation = MetricKindRule.annotation(name, in: ordered)
            let direction = MetricDirection.of(name, annotation: annotation)
            let kind = MetricKindRule.kind(name, annotation: annotation)
            let values = ordered.map { $0.metrics[name] }
            let base = values[0]?.doubleValue
            let numbers = values.compactMap { $0?.doubleValue }
            let best: Double? = kind == .metric && numbers.count >= 2 && Set(numbers).count > 1
                ? numbers.reduce(numbers[0]) { direction.prefers($1, over: $0) ? $1 : $0 } : nil
            let cells = values.enumerated().map { i, v -> MetricCell in
                var cell = MetricCell(value: v, delta: nil, deltaPercent: nil, isBest: false)
                if let n = v?.doubleValue {
                    cell.isBest = best == n
                    if i > 0, let base {
                        cell.delta = EvalComparison.tidy(n - base)
                        cell.deltaPercent = base == 0 ? nil : EvalComparison.tidy((n - base) / abs(base) * 100)
                    }
                }
                return cell
            }
            return MetricRow(name: name, direction: direction, kind: kind, unit: annotation?.unit, cells: cells)
        }
    }

    /// Drops floating-point noise (0.6013000000000001 → 0.6013).
    static func tidy(_ d: Double) -> Double { Double(String(format: "%.12g", d)) ?? d }

    /// Names of the evals that hold the best value of `metric`.
    public func best(_ metric: String) -> [String] {
        guard let row = metrics.first(where: { $0.name == metric }) else { return [] }
        return row.cells.enumerated().filter { $0.element.isBest }.map { evals[$0.offset].name }
    }

    /// The eval with the most best marks (ties: the earliest): "the best" of a group in reports.
    public static func leader(of evals: [RecordedEval]) -> Int? {
        let candidates = evals.indices.filter { evals[$0].status?.phase == .succeeded && !evals[$0].metrics.isEmpty }
        guard !candidates.isEmpty else { return nil }
        let c = EvalComparison(evals: evals, baseline: 0)
        // c.evals is evals in the same order (baseline 0 stays first).
        var marks = Array(repeating: 0, count: evals.count)
        for row in c.metrics { for (i, cell) in row.cells.enumerated() where cell.isBest { marks[i] += 1 } }
        return candidates.max { marks[$0] < marks[$1] || (marks[$0] == marks[$1] && $0 > $1) }
    }
}

/// Per-sample results of several evals joined by `id`.
public struct RowComparison: Sendable {
    public struct Row: Sendable {
        public var id: String
        /// Per eval (in `evals` order); nil when that eval has no row with this id.
        public var values: [[String: JSONValue]?]
        /// Compared columns whose values are not all equal.
        public var differingColumns: [String]
        /// Evals without this id.
        public var missingIn: [String]
        public var differs: Bool { !differingColumns.isEmpty || !missingIn.isEmpty }
    }

    public var evals: [String]
    /// Columns shown, in order (pinned first); `id` is implied and always leftmost.
    public var columns: [String]
    /// Columns whose disagreement makes a row differ.
    public var compared: [String]
    public var rows: [Row]
    /// Rows before `--only-diff`, and how many of them differ.
    public var total: Int
    public var differing: Int
    /// Rows without an "id", per eval (skipped).
    public var withoutID: [String: Int]
    /// Columns equal in every eval on every row shown (the sample's text, say): the split layout shows them once.
    public var shared: [String]
    /// The other columns, shown once per eval in the split layout.
    public var perEval: [String] { columns.filter { !shared.contains($0) } }

    /// Joins `results` (name, rows) by id. `columns` chooses and orders the columns (default: every key
    /// but "id", sorted by name); `pinned` keeps some leftmost. A row differs when a compared
    /// column differs (the chosen columns; by default `correct` when the results have it, else every column)
    /// or when an eval lacks the id. Numbers compare by value (1 equals 1.0).
    public static func join(_ results: [(name: String, rows: [[String: JSONValue]])], columns chosen: [String]? = nil,
                            pinned: [String] = [], onlyDiff: Bool = false) -> RowComparison {
        var order: [String] = []
        var seen: Set<String> = []
        var maps: [[String: [String: JSONValue]]] = []
        var withoutID: [String: Int] = [:]
        var allColumns: [String] = []
        var columnSet: Set<String> = []
        for (name, rows) in results {
            var m: [String: [String: JSONValue]] = [:]
            for row in rows {
                for k in row.keys where k != "id" && !columnSet.contains(k) { columnSet.insert(k); allColumns.append(k) }
                guard let idValue = row["id"], idValue != .null else { withoutID[name, default: 0] += 1; continue }
                let id = idValue.stringValue ?? idValue.canonicalJSON
                if m[id] == nil { m[id] = row }
                if !seen.contains(id) { seen.insert(id); order.append(id) }
            }
            maps.append(m)
        }
        let base = chosen ?? allColumns.sorted()
        let columns = pinned.filter(base.contains) + base.filter { !pinned.contains($0) }
        let compared = chosen ?? (columnSet.contains("correct") ? ["correct"] : columns)
        var rows: [Row] = []
        for id in order {
            let values = maps.map { $0[id] }
            let missing = zip(results, values).filter { $0.1 == nil }.map { $0.0.name }
            let present = values.compactMap { $0 }
            let differing = compared.filter { c in
                let vs = present.map { $0[c] ?? .null }
                return vs.contains { !same($0, vs[0]) }
            }
            rows.append(Row(id: id, values: values, differingColumns: differing, missingIn: missing))
        }
        let total = rows.count
        let differing = rows.filter(\.differs).count
        if onlyDiff { rows = rows.filter(\.differs) }
        let shared = results.count < 2 ? [] : columns.filter { c in
            rows.allSatisfy { row in
                let vs = row.values.compactMap { $0 }.map { $0[c] ?? .null }
                return !vs.contains { !same($0, vs[0]) }
            }
        }
        return RowComparison(evals: results.map(\.name), columns: columns, compared: compared, rows: rows, total: total,
                             differing: differing, withoutID: withoutID, shared: shared)
    }

    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }
}
