import Foundation
import HoneModel
import HonePlanning

public enum CompareFormat: String, CaseIterable, Sendable { case table, json, markdown, html }
public enum RowLayout: String, CaseIterable, Sendable { case split, stacked }

/// A comparison ready to print: the summary metrics, and optionally the per-sample rows.
public struct CompareReport: Sendable {
    public var summary: EvalComparison
    public var rows: RowComparison?
    public var layout: RowLayout
    public var onlyDiff: Bool
    /// Evals the row join leaves out, with why.
    public var rowsSkipped: [(name: String, reason: String)]
    /// The markdown heading.
    public var title = "Eval comparison"

    public init(evals: [RecordedEval], baseline: Int, rows: Bool = false, columns: [String]? = nil, pinned: [String] = [],
                onlyDiff: Bool = false, layout: RowLayout = .split) {
        summary = EvalComparison(evals: evals, baseline: baseline)
        self.layout = layout
        self.onlyDiff = onlyDiff
        rowsSkipped = summary.evals.compactMap { e in e.resultsAbsence.map { (e.name, $0) } }
        if rows {
            let withResults = summary.evals.compactMap { e in e.results.map { (name: e.name, rows: $0) } }
            self.rows = RowComparison.join(withResults, columns: columns, pinned: pinned, onlyDiff: onlyDiff)
        }
    }

    /// Short labels for headers: the eval's name, or its full `G/NAME` when names repeat across groups.
    var labels: [String] { summary.evals.map { label($0.name) } }
    func label(_ display: String) -> String {
        let names = summary.evals.map(\.key.name)
        let unique = Set(names).count == names.count
        guard unique, let e = summary.evals.first(where: { $0.name == display }) else { return display }
        return e.key.name
    }

    public func render(_ format: CompareFormat) -> String {
        switch format {
        case .table: return text()
        case .json: return json().prettyJSON + "\n"
        case .markdown: return markdown()
        case .html: return html()
        }
    }

    static let ruleText = "lower is better when the name contains \(MetricDirection.lowerIsBetterWords.joined(separator: ", ")); higher otherwise"

    var notes: [String] {
        var n: [String] = []
        for e in summary.evals { if let a = e.absence { n.append("\(e.name): \(a)") } }
        for e in summary.evals where !e.badResultLines.isEmpty {
            n.append("\(e.name): results.jsonl lines \(e.badResultLines.prefix(5).map(String.init).joined(separator: ", ")) are not JSON objects (skipped)")
        }
        if let r = rows {
            for (name, count) in r.withoutID.sorted(by: { $0.key < $1.key }) { n.append("\(name): \(count) result rows have no \"id\" (skipped)") }
        }
        return n
    }

    // MARK: text

    func summaryCell(_ cell: MetricCell, isBaseline: Bool) -> String {
        guard let v = cell.value else { return "-" }
        var s = CellText.of(v, limit: 24)
        if cell.isBest { s += " *" }
        if !isBaseline, let d = cell.delta {
            s += " (" + CellText.signed(d) + (cell.deltaPercent.map { ", " + CellText.percent($0) } ?? "") + ")"
        }
        return s
    }

    func text() -> String {
        let evals = summary.evals
        var out = "baseline: \(evals[0].name) (pinned)\n\n"
        if summary.metrics.isEmpty {
            out += "no metrics recorded for any of these evals\n"
        } else {
            var grid = TextGrid(header: ["METRIC", "BETTER"] + evals.enumerated().map { $0.offset == 0 ? "\($0.element.name) (baseline)" : $0.element.name })
            for m in summary.metrics {
                grid.rows.append([m.name, m.direction.rawValue] + m.cells.enumerated().map { summaryCell($0.element, isBaseline: $0.offset == 0) })
            }
            out += grid.render()
            out += "* best value of the metric (\(CompareReport.ruleText)); (delta, relative) against the baseline\n"
        }
        let n = notes
        if !n.isEmpty { out += "\nnotes:\n" + n.map { "  " + $0 + "\n" }.joined() }
        if let r = rows { out += "\n" + rowsText(r) }
        return out
    }

    func rowsHeadline(_ r: RowComparison) -> String {
        var s = "per-sample results joined by id: \(r.total) ids, \(r.differing) differ (compared on: \(r.compared.isEmpty ? "nothing" : r.compared.joined(separator: ", ")))"
        if onlyDiff { s += "; showing only the rows that differ" }
        return s
    }

    func rowsText(_ r: RowComparison) -> String {
        var out = rowsHeadline(r) + "\n"
        for (name, reason) in rowsSkipped { out += "left out: \(name): \(reason)\n" }
        if r.evals.count < 2 { return out + "fewer than two evals have per-sample results: nothing to join\n" }
        if r.rows.isEmpty { return out + (r.total == 0 ? "no rows\n" : "no row differs\n") }
        out += "\n"
        func diff(_ row: RowComparison.Row) -> String {
            var parts = row.differingColumns
            if !row.missingIn.isEmpty { parts.append("missing in " + row.missingIn.map(label).joined(separator: ", ")) }
            return parts.isEmpty ? "" : "≠ " + parts.joined(separator: "; ")
        }
        switch layout {
        case .split:
            var header = ["ID"] + r.shared
            for e in r.evals { for c in r.perEval { header.append("\(label(e)):\(c)") } }
            header.append("DIFF")
            var grid = TextGrid(header: header)
            for row in r.rows {
                let any = row.values.compactMap { $0 }.first
                var cells = [row.id] + r.shared.map { CellText.of(any?[$0]) }
                for v in row.values { for c in r.perEval { cells.append(v == nil ? "(missing)" : CellText.of(v![c])) } }
                cells.append(diff(row))
                grid.rows.append(cells)
            }
            out += grid.render()
        case .stacked:
            var grid = TextGrid(header: ["ID", "EVAL"] + r.columns + ["DIFF"])
            for (i, row) in r.rows.enumerated() {
                if i > 0 { grid.rows.append([]) }
                for (j, v) in row.values.enumerated() {
                    grid.rows.append([j == 0 ? row.id : "", r.evals[j]] + r.columns.map { c in v == nil ? (c == r.columns.first ? "(missing)" : "") : CellText.of(v![c]) }
                                     + [j == 0 ? diff(row) : ""])
                }
            }
            out += grid.render()
        }
        return out
    }

    // MARK: json

    /// The stable JSON shape (specs/cli-compare.md, specs/json.md).
    public func json() -> JSONValue { (try? JSONValue(encoding: CompareDocument(self))) ?? .null }

    // MARK: markdown


    func markdown() -> String {
        let evals = summary.evals
        var out = "### \(title)\n\n" + (evals.count > 1 ? "Baseline (pinned): `\(evals[0].name)`\n\n" : "")
        if summary.metrics.isEmpty {
            out += "_No metrics recorded for any of these evals._\n"
        } else {
            out += "| metric | better | " + evals.enumerated().map { "`\($0.element.name)`" + ($0.offset == 0 ? " (baseline)" : "") }.joined(separator: " | ") + " |\n"
            out += "|---|---|" + evals.map { _ in "---:|" }.joined() + "\n"
            for m in summary.metrics {
                let cells = m.cells.enumerated().map { i, c -> String in
                    guard let v = c.value else { return "–" }
                    var s = Markdown.cell(CellText.of(v, limit: 30))
                    if c.isBest { s = "**\(s)** 🏆" }
                    if i > 0, let d = c.delta { s += " (\(CellText.signed(d))" + (c.deltaPercent.map { ", \(CellText.percent($0))" } ?? "") + ")" }
                    return s
                }
                out += "| \(Markdown.cell(m.name)) | \(m.direction.arrow) \(m.direction.rawValue) | " + cells.joined(separator: " | ") + " |\n"
            }
            out += "\n🏆 best value of the metric (\(CompareReport.ruleText)); (delta, relative) against the baseline.\n"
        }
        let n = notes
        if !n.isEmpty { out += "\n" + n.map { "> ⚠️ \(Markdown.cell($0))\n>\n" }.joined().dropLast(2) + "\n" }
        let charted = summary.metrics.filter { m in m.cells.contains { $0.number != nil } }
        if !charted.isEmpty {
            out += "\n<details><summary>Charts (\(charted.count) metrics)</summary>\n\n"
            for m in charted {
                let pairs = m.cells.enumerated().compactMap { i, c in c.number.map { (labels[i], $0) } }
                out += MermaidChart.bars(title: "\(m.name) (\(m.direction.rawValue) is better)", labels: pairs.map(\.0), values: pairs.map(\.1)) + "\n"
            }
            out += "</details>\n"
        }
        if let r = rows { out += "\n" + rowsMarkdown(r) }
        return out
    }

    func rowsMarkdown(_ r: RowComparison) -> String {
        var out = "<details><summary>Per-sample results: \(r.differing) of \(r.total) ids differ</summary>\n\n"
        out += Markdown.cell(rowsHeadline(r)) + "\n\n"
        for (name, reason) in rowsSkipped { out += "- left out `\(name)`: \(Markdown.cell(reason))\n" }
        if r.evals.count >= 2 && !r.rows.isEmpty {
            func cell(_ v: [String: JSONValue]?, _ c: String, _ row: RowComparison.Row) -> String {
                guard let v else { return "_missing_" }
                let t = Markdown.cell(CellText.of(v[c]))
                return row.differingColumns.contains(c) ? "**\(t)**" : t
            }
            switch layout {
            case .split:
                var header = ["id"] + r.shared
                for e in r.evals { for c in r.perEval { header.append("\(label(e)): \(c)") } }
                out += "\n| " + header.map(Markdown.cell).joined(separator: " | ") + " |\n|" + header.map { _ in "---|" }.joined() + "\n"
                for row in r.rows {
                    let any = row.values.compactMap { $0 }.first
                    var cells = ["`\(row.id)`" + (row.differs ? " ≠" : "")] + r.shared.map { cell(any, $0, row) }
                    for v in row.values { for c in r.perEval { cells.append(cell(v, c, row)) } }
                    out += "| " + cells.joined(separator: " | ") + " |\n"
                }
            case .stacked:
                out += "\n| id | eval | " + r.columns.map(Markdown.cell).joined(separator: " | ") + " |\n|---|---|" + r.columns.map { _ in "---|" }.joined() + "\n"
                for row in r.rows {
                    for (j, v) in row.values.enumerated() {
                        let id = j == 0 ? "`\(row.id)`" + (row.differs ? " ≠" : "") : ""
                        out += "| \(id) | \(label(r.evals[j])) | " + r.columns.map { cell(v, $0, row) }.joined(separator: " | ") + " |\n"
                    }
                }
            }
        }
        return out + "\n</details>\n"
    }

    // MARK: html

    public func htmlBody() -> String {
        let evals = summary.evals
        let h = CellText.html
        var s = "<p>Baseline (pinned): <code>\(h(evals[0].name))</code>. Best values are highlighted (\(h(CompareReport.ruleText))).</p>\n"
        for n in notes { s += "<p class=\"note\">\(h(n))</p>\n" }
        if summary.metrics.isEmpty {
            s += "<p class=\"muted\">No metrics recorded for any of these evals.</p>\n"
        } else {
            let header = ["metric", "better"] + evals.enumerated().map { h($0.element.name) + ($0.offset == 0 ? " <span class=\"muted\">(baseline)</span>" : "") }
            let rowsHTML = summary.metrics.map { m -> [(html: String, cls: String?)] in
                [(h(m.name) + (m.unit.map { " <span class=\"muted\">(\(h($0)))</span>" } ?? ""), nil),
                 (m.kind == .metric ? "\(m.direction.arrow) \(m.direction.rawValue)" : "<span class=\"muted\">\(m.kind.rawValue)</span>", nil)]
                    + m.cells.enumerated().map { i, c in
                    guard let v = c.value else { return ("<span class=\"muted\">–</span>", "num") }
                    var t = h(CellText.of(v, limit: 40))
                    if i > 0, let d = c.delta {
                        let good = d == 0 || m.kind != .metric ? nil : m.direction.prefers(d, over: 0)
                        let cls = good == nil ? "muted" : good! ? "delta-good" : "delta-bad"
                        t += " <span class=\"\(cls)\">(\(h(CellText.signed(d)))\(c.deltaPercent.map { ", " + h(CellText.percent($0)) } ?? ""))</span>"
                    }
                    return (t, c.isBest ? "num best" : "num")
                }
            }
            s += HTMLPage.table(header: header, rows: rowsHTML)
            s += "<div class=\"charts\">\n"
            // Counts and other figures are shown in the table, not charted as if they were quality.
            for m in summary.metrics where m.kind == .metric && m.cells.contains(where: { $0.number != nil }) {
                let best = Set(m.cells.enumerated().filter { $0.element.isBest }.map(\.offset))
                s += "<figure>" + SVGChart.bars(title: "\(m.name) (\(m.direction.rawValue) is better)", labels: labels, values: m.cells.map(\.number),
                                                highlight: best, baseline: 0) + "</figure>\n"
            }
            s += "</div>\n"
        }
        if let r = rows { s += rowsHTML(r) }
        return s
    }

    func rowsHTML(_ r: RowComparison) -> String {
        let h = CellText.html
        var s = "<h2>Per-sample results</h2>\n<p>\(h(rowsHeadline(r)))</p>\n"
        for (name, reason) in rowsSkipped { s += "<p class=\"note\">left out \(h(name)): \(h(reason))</p>\n" }
        guard r.evals.count >= 2, !r.rows.isEmpty else { return s }
        func cell(_ v: [String: JSONValue]?, _ c: String, _ row: RowComparison.Row) -> (html: String, cls: String?) {
            guard let v else { return ("<span class=\"muted\">missing</span>", "diffcell") }
            return (h(CellText.of(v[c], limit: 120)), row.differingColumns.contains(c) ? "diffcell" : nil)
        }
        func diff(_ row: RowComparison.Row) -> String {
            var parts = row.differingColumns
            if !row.missingIn.isEmpty { parts.append("missing in " + row.missingIn.map(label).joined(separator: ", ")) }
            return h(parts.joined(separator: "; "))
        }
        switch layout {
        case .split:
            var header = ["id"] + r.shared.map(h)
            for e in r.evals { for c in r.perEval { header.append(h("\(label(e)): \(c)")) } }
            header.append("differs on")
            let body = r.rows.map { row -> [(html: String, cls: String?)] in
                let any = row.values.compactMap { $0 }.first
                var cells: [(html: String, cls: String?)] = [(h(row.id), nil)] + r.shared.map { cell(any, $0, row) }
                for v in row.values { for c in r.perEval { cells.append(cell(v, c, row)) } }
                cells.append((diff(row), "diff"))
                return cells
            }
            s += HTMLPage.table(header: header, rows: body, rowClasses: r.rows.map { $0.differs ? "differs" : nil })
        case .stacked:
            s += "<table>\n<thead><tr><th>id</th><th>eval</th>" + r.columns.map { "<th>\(h($0))</th>" }.joined() + "<th>differs on</th></tr></thead>\n"
            for row in r.rows {
                s += "<tbody class=\"block\">\n"
                for (j, v) in row.values.enumerated() {
                    s += "<tr>"
                    if j == 0 { s += "<td rowspan=\"\(row.values.count)\">\(h(row.id))</td>" }
                    s += "<td>\(h(label(r.evals[j])))</td>"
                    for c in r.columns { let x = cell(v, c, row); s += "<td\(x.cls.map { " class=\"\($0)\"" } ?? "")>\(x.html)</td>" }
                    if j == 0 { s += "<td rowspan=\"\(row.values.count)\" class=\"diff\">\(diff(row))</td>" }
                    s += "</tr>\n"
                }
                s += "</tbody>\n"
            }
            s += "</table>\n"
        }
        return s
    }

    func html() -> String {
        HTMLPage.document(title: "Eval comparison: " + summary.evals.map(\.name).joined(separator: " vs "), body: htmlBody())
    }
}

/// `hone compare --format json`: evals named by ObjectRef, models by ModelRef, values in the evals' order.
struct CompareDocument: Encodable {
    struct Eval: Encodable {
        var object: ObjectRef
        /// Set when the record is read at another ref than the head's (`compare --base`).
        var recordedAt: String?
        var phase: String?
        var attempt: Int?
        var model: ModelRef?
        var dataset: String?
        var finishedAt: String?
        var resultsRows: Int?
        var note: String?
    }
    struct Value: Encodable { var eval: ObjectRef; var value: JSONValue?; var delta: Double?; var deltaPercent: Double?; var best: Bool }
    struct Metric: Encodable {
        var name: String
        var kind: String
        var better: String
        var unit: String?
        var best: [ObjectRef]
        var values: [Value]
    }
    struct Rows: Encodable {
        struct Item: Encodable {
            struct Side: Encodable { var eval: ObjectRef; var row: [String: JSONValue]? }
            var id: String
            var differs: Bool
            var differingColumns: [String]
            var missingIn: [ObjectRef]
            var values: [Side]
        }
        var layout: String
        var columns, compared, shared: [String]
        var evals: [ObjectRef]
        var total, differing: Int
        var onlyDiff: Bool
        var skipped: [String: String]
        var items: [Item]
    }
    var apiVersion = Documents.apiVersion
    var kind = "Comparison"
    var baseline: ObjectRef
    var rule: String
    var evals: [Eval]
    var metrics: [Metric]
    var rows: Rows?

    init(_ c: CompareReport) {
        let evals = c.summary.evals
        let refs = evals.map { ObjectRef($0.key) }
        let byName = Dictionary(zip(evals.map(\.name), refs), uniquingKeysWith: { a, _ in a })
        baseline = refs[0]
        rule = CompareReport.ruleText
        self.evals = evals.map { e in
            Eval(object: ObjectRef(e.key), recordedAt: e.recordedAt, phase: e.status?.phase.rawValue, attempt: e.status?.attempt, model: e.model,
                 dataset: e.status?.eval?.dataset ?? e.spec?.dataset.description, finishedAt: e.status?.finishedAt,
                 resultsRows: e.results?.count, note: e.absence)
        }
        metrics = c.summary.metrics.map { m in
            Metric(name: m.name, kind: m.kind.rawValue, better: m.direction.rawValue, unit: m.unit,
                   best: m.cells.enumerated().filter { $0.element.isBest }.map { refs[$0.offset] },
                   values: m.cells.enumerated().map { i, cell in
                       Value(eval: refs[i], value: cell.value, delta: cell.delta, deltaPercent: cell.deltaPercent, best: cell.isBest)
                   })
        }
        if let r = c.rows {
            let columns = r.columns
            rows = Rows(layout: c.layout.rawValue, columns: r.columns, compared: r.compared, shared: r.shared,
                        evals: r.evals.compactMap { byName[$0] }, total: r.total, differing: r.differing, onlyDiff: c.onlyDiff,
                        skipped: Dictionary(c.rowsSkipped.map { ($0.name, $0.reason) }, uniquingKeysWith: { a, _ in a }),
                        items: r.rows.map { row in
                            Rows.Item(id: row.id, differs: row.differs, differingColumns: row.differingColumns,
                                      missingIn: row.missingIn.compactMap { byName[$0] },
                                      values: zip(r.evals, row.values).compactMap { name, v in
                                          byName[name].map { Rows.Item.Side(eval: $0, row: v.map { full in full.filter { $0.key == "id" || columns.contains($0.key) } }) }
                                      })
                        })
        }
    }
}
