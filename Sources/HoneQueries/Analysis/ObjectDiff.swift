import Foundation
import HoneLoading
import HoneModel
import HonePlanning

/// `hone diff A B`: two runs (or two evals) side by side — what they were given (inputs, params) and
/// what they recorded (summary metrics), with the metrics' deltas (dvc `params diff` + `metrics diff`).
public struct ObjectDiff: Sendable {
    public enum Section: String, Sendable, Encodable { case input, param, metric }

    public struct Row: Sendable, Encodable {
        public var section: Section
        public var name: String
        public var a: JSONValue?
        public var b: JSONValue?
        /// b − a, when both are numbers.
        public var delta: Double?
        /// The delta relative to a (percent), when a is a non-zero number.
        public var deltaPercent: Double?
        public var changed: Bool
    }

    public var a: ObjectKey
    public var b: ObjectKey
    public var rows: [Row]

    public init(_ load: LoadResult, _ a: ObjectKey, _ b: ObjectKey) {
        self.a = a; self.b = b
        let va = ObjectDiff.values(load, a), vb = ObjectDiff.values(load, b)
        var rows: [Row] = []
        for section in [Section.input, .param, .metric] {
            let x = va[section] ?? [:], y = vb[section] ?? [:]
            for name in Set(x.keys).union(y.keys).sorted() {
                rows.append(ObjectDiff.row(section, name, x[name], y[name]))
            }
        }
        self.rows = rows
    }

    static func row(_ section: Section, _ name: String, _ x: JSONValue?, _ y: JSONValue?) -> Row {
        var r = Row(section: section, name: name, a: x, b: y, delta: nil, deltaPercent: nil, changed: x != y)
        if let p = x?.doubleValue, let q = y?.doubleValue {
            r.delta = EvalComparison.tidy(q - p)
            if p != 0 { r.deltaPercent = EvalComparison.tidy((q - p) / abs(p) * 100) }
            r.changed = p != q
        }
        return r
    }

    /// Inputs (the versions and handler used), params (flattened: `lora.r`) and summary metrics of an
    /// object: the spec's inputs and params when it has one, else what its status recorded.
    static func values(_ load: LoadResult, _ key: ObjectKey) -> [Section: [String: JSONValue]] {
        let s = load.recorded.statuses[key]
        func str(_ v: String?) -> JSONValue? { v.map(JSONValue.string) }
        var inputs: [String: JSONValue?] = [:]
        var params: [String: JSONValue] = s?.params ?? [:]
        switch key.kind {
        case .run:
            let spec = load.desired.runs[key]
            inputs = ["baseModel": str(spec?.baseModel.description ?? s?.run?.baseModel), "trainDataset": str(spec?.trainDataset.description ?? s?.run?.trainDataset),
                      "validationDataset": str(spec?.validationDataset?.description ?? s?.run?.validationDataset),
                      "runtime": str(spec?.runtime?.description ?? s?.runtime), "handler": str(spec?.handler ?? s?.handler)]
            if let p = spec?.params { params = p }
        case .eval:
            let spec = load.desired.evals[key]
            inputs = ["model": str(s?.eval?.model ?? spec.map(Describe.modelText)), "dataset": str(spec?.dataset.description ?? s?.eval?.dataset),
                      "runtime": str(spec?.runtime?.description ?? s?.runtime), "handler": str(spec?.handler ?? s?.handler)]
            if let p = spec?.params { params = p }
        case .playground:
            let spec = load.desired.playgrounds[key]
            inputs = ["model": str(s?.playground?.model ?? spec?.model?.description ?? spec?.fromRun.map { "draft of run \($0)" }),
                      "runtime": str(spec?.runtime?.description ?? s?.runtime), "handler": str(spec?.handler ?? s?.handler)]
            if let p = spec?.params { params = p }
        case .view:
            break
        }
        var flatParams: [String: JSONValue] = [:], flatMetrics: [String: JSONValue] = [:]
        Flatten.columns("", params, into: &flatParams)
        Flatten.columns("", s?.metrics ?? [:], into: &flatMetrics)
        return [.input: inputs.compactMapValues { $0 }, .param: flatParams, .metric: flatMetrics]
    }
}

// MARK: - Renderings

public enum DiffFormat: String, CaseIterable, Sendable { case table, json, markdown }

extension ObjectDiff {
    /// The rows shown: every metric; inputs and params only where they differ unless `all`.
    public func shown(all: Bool) -> [Row] { rows.filter { all || $0.changed || $0.section == .metric } }

    public func render(_ format: DiffFormat, all: Bool) -> String {
        switch format {
        case .table: return table(all: all)
        case .markdown: return markdown(all: all)
        case .json: return Documents.text(DiffDocument(self, all: all))
        }
    }

    static func cell(_ v: JSONValue?) -> String { v.map { CellText.of($0) } ?? "-" }

    static func deltaText(_ r: Row) -> String {
        guard let d = r.delta else { return r.changed && r.section != .metric ? "changed" : "" }
        if d == 0 { return "±0" }
        // Whole numbers (epochs, ranks) keep reading as whole numbers.
        if case .int? = r.a, case .int? = r.b { return (d > 0 ? "+" : "") + String(Int(d)) + (r.deltaPercent.map { " (\(CellText.percent($0)))" } ?? "") }
        return CellText.signed(d) + (r.deltaPercent.map { " (\(CellText.percent($0)))" } ?? "")
    }

    func table(all: Bool) -> String {
        let rows = shown(all: all)
        var grid = TextGrid(header: ["", a.display, b.display, "delta"])
        for r in rows { grid.rows.append(["\(r.section == .input ? "" : r.section.rawValue + "s.")\(r.name)", ObjectDiff.cell(r.a), ObjectDiff.cell(r.b), ObjectDiff.deltaText(r)]) }
        var out = grid.render()
        let same = self.rows.filter { !$0.changed && $0.section != .metric }.count
        if !all && same > 0 { out += "(\(same) input\(same == 1 ? "" : "s") and param\(same == 1 ? "" : "s") equal in both: --all shows them)\n" }
        if rows.isEmpty { out = "\(a.display) and \(b.display) have the same inputs and params, and no metrics\n" }
        return out
    }

    func markdown(all: Bool) -> String {
        var out = "| | \(Markdown.cell(a.display)) | \(Markdown.cell(b.display)) | delta |\n|---|---|---|---|\n"
        for r in shown(all: all) {
            let name = (r.section == .input ? "" : r.section.rawValue + "s.") + r.name
            out += "| \(Markdown.cell(name)) | \(Markdown.cell(ObjectDiff.cell(r.a))) | \(Markdown.cell(ObjectDiff.cell(r.b))) | \(ObjectDiff.deltaText(r)) |\n"
        }
        return out
    }
}

/// `hone diff -o json` (specs/json.md).
struct DiffDocument: Encodable {
    var apiVersion = Documents.apiVersion
    var kind = "Diff"
    var a: ObjectRef
    var b: ObjectRef
    var inputs: [ObjectDiff.Row]
    var params: [ObjectDiff.Row]
    var metrics: [ObjectDiff.Row]

    init(_ d: ObjectDiff, all: Bool) {
        a = ObjectRef(d.a); b = ObjectRef(d.b)
        let rows = d.shown(all: all)
        inputs = rows.filter { $0.section == .input }
        params = rows.filter { $0.section == .param }
        metrics = rows.filter { $0.section == .metric }
    }
}

extension EvalAnalysis {
    /// Two objects of the same kind, read from the working tree or `ref`.
    public static func diff(_ ws: Workspace, ref: String?, _ first: String, _ second: String) throws -> ObjectDiff {
        let load = try ws.load(ref: ref)
        let a = try ObjectAddress.parse(first).resolve(in: load)
        let b = try ObjectAddress.parse(second).resolve(in: load, only: a.kind)
        if a == b { throw HoneError("\(a.display) is named twice: name two runs (or two evals) to diff") }
        return ObjectDiff(load, a, b)
    }
}
