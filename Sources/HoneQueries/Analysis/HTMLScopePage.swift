import Foundation
import HoneLoading
import HoneModel

/// One group's page of the report (or the evaluation module's), section by section.
struct ScopePage {
    typealias Cell = (html: String, cls: String?)
    let scope: Scope
    let load: LoadResult
    let source: FileSource
    let context: HTMLReport.Context
    let h = CellText.html

    mutating func render(runs: [ObjectKey], evals: [RecordedEval], gates: [GateResult], scopes: [Scope]) throws -> String {
        var body = HTMLReport.readFrom(context)
        if case .group(let g) = scope, let desc = load.desired.groups[g]?.description { body += "<p>\(h(desc))</p>\n" }
        if case .group = scope {
            body += runsSection(runs)
            body += try curvesSection(runs)
        }
        body += evalsSection(evals)
        body += baselineSection(evals)
        body += gatesSection(gates)
        return HTMLPage.document(title: HTMLReport.title(scope), nav: HTMLReport.nav(scopes), body: body)
    }

    /// `params.lr`… columns: every flattened param any of the objects has, sorted.
    static func paramColumns(_ params: [[String: JSONValue]]) -> [String] {
        Set(params.flatMap { p -> [String] in var flat: [String: JSONValue] = [:]; Flatten.columns("", p, into: &flat); return Array(flat.keys) }).sorted()
    }

    func flat(_ p: [String: JSONValue]) -> [String: JSONValue] { var f: [String: JSONValue] = [:]; Flatten.columns("", p, into: &f); return f }

    /// Links to an object's task logs (when the report's folder can reach them), else their paths.
    func logs(_ s: ObjectStatus?) -> String {
        let paths = (s?.tasks ?? []).compactMap(\.log)
        if paths.isEmpty { return "<span class=\"muted\">–</span>" }
        return paths.map { p in
            let name = h((p as NSString).lastPathComponent)
            return context.link(p).map { "<a href=\"\(h($0))\">\(name)</a>" } ?? "<code title=\"\(h(p))\">\(name)</code>"
        }.joined(separator: " ")
    }

    func runsSection(_ runs: [ObjectKey]) -> String {
        var body = "<h2>Runs</h2>\n"
        if runs.isEmpty { return body + "<p class=\"muted\">No runs.</p>\n" }
        let params = runs.map { load.desired.runs[$0]?.params ?? load.recorded.statuses[$0]?.params ?? [:] }
        let paramNames = ScopePage.paramColumns(params)
        let metricNames = Set(runs.flatMap { load.recorded.statuses[$0]?.metrics.keys.map { $0 } ?? [] }).sorted()
        let rows = runs.enumerated().map { i, k -> [Cell] in
            let spec = load.desired.runs[k], s = load.recorded.statuses[k]
            let model = s?.run?.model.map { m in m.published ? "\(s?.run?.publishedAs ?? "\(m.name)@\(m.version)") (published)" : "\(m.name)@\(m.version) (draft)" }
            let p = flat(params[i])
            return [("<span id=\"run-\(h(k.name))\">\(h(k.name))</span>", nil), (h(s?.phase.rawValue ?? "not run"), nil),
                    (h(s?.run?.baseModel ?? spec?.baseModel.description ?? "–"), nil),
                    (h(s?.run?.trainDataset ?? spec?.trainDataset.description ?? "–"), nil),
                    (h(s?.durationSeconds.map { DurationText.span($0) } ?? "–"), "num"), (h(model ?? "–"), nil)]
                + paramNames.map { (h(CellText.of(p[$0], limit: 20)), "num param") }
                + metricNames.map { (h(CellText.of(s?.metrics[$0], limit: 20)), "num") }
                + [(logs(s), nil)]
        }
        let header = ["run", "phase", "base model", "train dataset", "duration", "model"] + paramNames.map { "params." + h($0) }
            + metricNames.map(h) + ["logs"]
        return body + HTMLPage.table(header: header, rows: rows)
    }

    func curvesSection(_ runs: [ObjectKey]) throws -> String {
        var curves: [String: [(name: String, points: [(x: Double, y: Double)])]] = [:]
        for k in runs {
            guard let bytes = try source.read(k.statusFolder + "metrics.jsonl") else { continue }
            for (i, row) in RecordedEval.parseJSONLines(Data(bytes)).rows.enumerated() {
                let x = row["step"]?.doubleValue ?? Double(i)
                for (key, v) in row where key != "step" {
                    guard let y = v.doubleValue else { continue }
                    var list = curves[key] ?? []
                    if list.last?.name != k.name { list.append((k.name, [])) }
                    list[list.count - 1].points.append((x, y))
                    curves[key] = list
                }
            }
        }
        if curves.isEmpty { return runs.isEmpty ? "" : "<p class=\"muted\">No training curves recorded (metrics.jsonl).</p>\n" }
        var body = "<h3>Training curves</h3>\n<div class=\"charts\">\n"
        let order = curves.keys.sorted { (HTMLReport.rank($0), $0) < (HTMLReport.rank($1), $1) }
        for key in order { body += "<figure>" + SVGChart.lines(title: key, series: curves[key]!) + "</figure>\n" }
        return body + "</div>\n"
    }

    func evalsSection(_ evals: [RecordedEval]) -> String {
        var body = "<h2>Evals</h2>\n"
        if evals.isEmpty { return body + "<p class=\"muted\">No evals.</p>\n" }
        let params = evals.map { $0.spec?.params ?? $0.status?.params ?? [:] }
        let paramNames = ScopePage.paramColumns(params)
        let metricNames = Set(evals.flatMap { $0.metrics.keys }).sorted()
        let rows = evals.enumerated().map { i, e -> [Cell] in
            let s = e.status
            // `name@version`, without the recorded note on where a draft came from (the run is linked instead).
            let recorded = (s?.eval?.model).map { String($0.prefix { $0 != " " }) }
            var model = h(recorded ?? e.spec?.model?.description ?? "–")
            if let r = e.spec?.fromRun { model += " <span class=\"muted\">(from run <a href=\"#run-\(h(r))\">\(h(r))</a>)</span>" }
            let name = "<span id=\"eval-\(h(e.key.name))\">\(h(e.key.name))</span>"
                + (e.spec?.syncedFrom.map { " <span class=\"muted\">(synced from \(h($0)))</span>" } ?? "")
            let p = flat(params[i])
            return [(name, nil), (model, nil), (h(s?.eval?.dataset ?? e.spec?.dataset.description ?? "–"), nil),
                    (h(s?.phase.rawValue ?? "not run"), nil), (h(e.spec?.baseline ?? "–"), nil),
                    (h(s?.durationSeconds.map { DurationText.span($0) } ?? "–"), "num")]
                + paramNames.map { (h(CellText.of(p[$0], limit: 20)), "num param") }
                + metricNames.map { (h(CellText.of(e.metrics[$0], limit: 20)), "num") }
                + [(logs(s), nil)]
        }
        let header = ["eval", "model", "dataset", "phase", "baseline", "duration"] + paramNames.map { "params." + h($0) } + metricNames.map(h) + ["logs"]
        return body + HTMLPage.table(header: header, rows: rows)
    }

    /// Each eval against the baseline it declares (`baseline:`), the evals of one baseline in one comparison.
    func baselineSection(_ evals: [RecordedEval]) -> String {
        let byName = Dictionary(evals.map { ($0.key.name, $0) }, uniquingKeysWith: { a, _ in a })
        var groups: [String: [RecordedEval]] = [:]
        for e in evals { if let b = e.spec?.baseline, byName[b] != nil { groups[b, default: []].append(e) } }
        if groups.isEmpty { return "" }
        var body = ""
        for b in groups.keys.sorted() {
            body += "<h2 id=\"baseline-\(h(b))\">Against the baseline \(h(b))</h2>\n"
            body += "<p class=\"muted\">The evals that declare <code>baseline: \(h(b))</code>; deltas are against it.</p>\n"
            body += CompareReport(evals: [byName[b]!] + groups[b]!, baseline: 0).htmlBody()
        }
        return body
    }

    func gatesSection(_ gates: [GateResult]) -> String {
        if gates.isEmpty { return "" }
        func number(_ d: Double?) -> Cell { (d.map { h(JSONValue.formatNumber($0)) } ?? "–", "num") }
        let rows = gates.map { r -> [Cell] in
            [("<a href=\"#eval-\(h(r.eval.name))\">\(h(r.eval.name))</a>", nil), (h(r.metric), nil), (h(r.expression), nil), number(r.value),
             number(r.bound), (r.baseline.map { h($0.name) } ?? "–", nil), number(r.baselineValue),
             ("<span class=\"verdict-\(r.verdict.rawValue)\">\(r.verdict.rawValue)</span>", nil), (h(r.note ?? ""), nil)]
        }
        return "<h2 id=\"gates\">Gates</h2>\n<p class=\"muted\">What <code>hone check</code> says of each gate (pending: no current results).</p>\n"
            + HTMLPage.table(header: ["eval", "metric", "gate", "value", "bound", "baseline", "baseline value", "result", "note"], rows: rows)
    }
}
