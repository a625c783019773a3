import Foundation
import HoneLoading
import HoneModel

/// A static HTML report of a repository: `index.html` (the groups), one page per group (runs with
/// their training curves, evals with metrics, a comparison against the group's best eval) and one for
/// the evaluation module. Every page stands alone: inline CSS and SVG, no scripts, no network.
public enum HTMLReport {
    /// File name → page text. The output is deterministic (no generation time), so a re-run only changes what changed.
    public static func pages(load: LoadResult, source: FileSource) throws -> [String: String] {
        let d = load.desired, r = load.recorded
        var groups = Set(d.groups.keys)
        for k in Array(d.runs.keys) + Array(d.evals.keys) + Array(r.statuses.keys) { if case .group(let g) = k.scope { groups.insert(g) } }
        let hasModule = d.evals.keys.contains { $0.scope == .evaluations } || r.statuses.keys.contains { $0.scope == .evaluations }
        var scopes: [Scope] = groups.sorted().map { .group($0) }
        if hasModule { scopes.append(.evaluations) }
        var pages: [String: String] = [:]
        var summaries: [(scope: Scope, runs: Int, evals: Int, succeeded: Int, leader: String?)] = []
        for scope in scopes {
            let runs = Set(d.runs.keys.filter { $0.scope == scope }).union(r.statuses.keys.filter { $0.scope == scope && $0.kind == .run }).sorted()
            let evalKeys = Set(d.evals.keys.filter { $0.scope == scope }).union(r.statuses.keys.filter { $0.scope == scope && $0.kind == .eval }).sorted()
            let evals = try evalKeys.map { try RecordedEval.read($0, load: load, source: source) }
            let leader = EvalComparison.leader(of: evals)
            pages[file(scope)] = try scopePage(scope, runs: runs, evals: evals, leader: leader, load: load, source: source, scopes: scopes)
            summaries.append((scope, runs.count, evals.count, evals.filter { $0.status?.phase == .succeeded }.count, leader.map { evals[$0].key.name }))
        }
        pages["index.html"] = index(load: load, summaries: summaries, source: source)
        return pages
    }

    public static func file(_ scope: Scope) -> String {
        switch scope {
        case .group(let g): return "group-\(g).html"
        case .evaluations: return "evaluations.html"
        }
    }

    static func title(_ scope: Scope) -> String {
        switch scope {
        case .group(let g): return "Group \(g)"
        case .evaluations: return "Evaluation module"
        }
    }

    static func nav(_ scopes: [Scope]) -> [(label: String, href: String)] {
        [("Index", "index.html")] + scopes.map { (title($0), file($0)) }
    }

    static func index(load: LoadResult, summaries: [(scope: Scope, runs: Int, evals: Int, succeeded: Int, leader: String?)], source: FileSource) -> String {
        let h = CellText.html
        let name = load.desired.project?.name ?? "hone repository"
        var body = "<p class=\"muted\">Read from the \(h(source.label)).</p>\n"
        if summaries.isEmpty { body += "<p class=\"muted\">No groups and no evaluations yet.</p>\n" }
        let rows = summaries.map { s -> [(html: String, cls: String?)] in
            var desc = ""
            if case .group(let g) = s.scope { desc = load.desired.groups[g]?.description ?? "" }
            return [("<a href=\"\(h(file(s.scope)))\">\(h(title(s.scope)))</a>", nil), (h(desc), nil), (String(s.runs), "num"),
                    (String(s.evals), "num"), (String(s.succeeded), "num"),
                    (s.leader.map { "<a href=\"\(h(file(s.scope)))#eval-\(h($0))\">\(h($0))</a>" } ?? "<span class=\"muted\">–</span>", nil)]
        }
        if !rows.isEmpty {
            body += HTMLPage.table(header: ["group", "description", "runs", "evals", "evals succeeded", "best eval"], rows: rows)
        }
        return HTMLPage.document(title: "\(name): fine-tune report", nav: nav(summaries.map(\.scope)), body: body)
    }

    static func scopePage(_ scope: Scope, runs: [ObjectKey], evals: [RecordedEval], leader: Int?, load: LoadResult,
                          source: FileSource, scopes: [Scope]) throws -> String {
        let h = CellText.html
        var body = ""
        if case .group(let g) = scope, let desc = load.desired.groups[g]?.description { body += "<p>\(h(desc))</p>\n" }
        if case .group = scope {
            body += "<h2>Runs</h2>\n"
            if runs.isEmpty { body += "<p class=\"muted\">No runs.</p>\n" }
            var curves: [String: [(name: String, points: [(x: Double, y: Double)])]] = [:]
            var runRows: [[(html: String, cls: String?)]] = []
            let metricNames = Set(runs.flatMap { load.recorded.statuses[$0]?.metrics.keys.map { $0 } ?? [] }).sorted()
            for k in runs {
                let spec = load.desired.runs[k], s = load.recorded.statuses[k]
                let model = s?.run?.model.map { m in m.published ? "\(s?.run?.publishedAs ?? "\(m.name)@\(m.version)") (published)" : "\(m.name)@\(m.version) (draft)" }
                runRows.append([("<span id=\"run-\(h(k.name))\">\(h(k.name))</span>", nil), (h(s?.phase.rawValue ?? "not run"), nil),
                                (s.map { String($0.attempt) } ?? "–", "num"),
                                (h(s?.run?.baseModel ?? spec?.baseModel.description ?? "–"), nil),
                                (h(s?.run?.trainDataset ?? spec?.trainDataset.description ?? "–"), nil),
                                (h(s?.durationSeconds.map { DurationText.span($0) } ?? "–"), "num"), (h(model ?? "–"), nil)]
                               + metricNames.map { (h(CellText.of(s?.metrics[$0], limit: 20)), "num") })
                if let bytes = try source.read(k.statusFolder + "metrics.jsonl") {
                    let rows = RecordedEval.parseJSONLines(Data(bytes)).rows
                    for (i, row) in rows.enumerated() {
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
            }
            if !runRows.isEmpty {
                body += HTMLPage.table(header: ["run", "phase", "attempt", "base model", "train dataset", "duration", "model"] + metricNames.map(h), rows: runRows)
            }
            if !curves.isEmpty {
                body += "<h3>Training curves</h3>\n<div class=\"charts\">\n"
                let order = curves.keys.sorted { (rank($0), $0) < (rank($1), $1) }
                for key in order { body += "<figure>" + SVGChart.lines(title: key, series: curves[key]!) + "</figure>\n" }
                body += "</div>\n"
            } else if !runs.isEmpty {
                body += "<p class=\"muted\">No training curves recorded (metrics.jsonl).</p>\n"
            }
        }
        body += "<h2>Evals</h2>\n"
        if evals.isEmpty { body += "<p class=\"muted\">No evals.</p>\n" }
        let metricNames = Set(evals.flatMap { $0.metrics.keys }).sorted()
        let evalRows = evals.enumerated().map { i, e -> [(html: String, cls: String?)] in
            let s = e.status
            var model = h(s?.eval?.model ?? e.spec?.model?.description ?? "–")
            if let r = e.spec?.fromRun { model += " <span class=\"muted\">(from run <a href=\"#run-\(h(r))\">\(h(r))</a>)</span>" }
            let name = "<span id=\"eval-\(h(e.key.name))\">\(h(e.key.name))</span>" + (i == leader ? " ★" : "")
                + (e.spec?.syncedFrom.map { " <span class=\"muted\">(synced from \(h($0)))</span>" } ?? "")
            return [(name, nil), (model, nil), (h(s?.eval?.dataset ?? e.spec?.dataset.description ?? "–"), nil), (h(s?.phase.rawValue ?? "not run"), nil),
                    (s.map { String($0.attempt) } ?? "–", "num"), (h(s?.finishedAt ?? "–"), nil),
                    (h(s?.durationSeconds.map { DurationText.span($0) } ?? "–"), "num")]
                + metricNames.map { (h(CellText.of(e.metrics[$0], limit: 20)), "num") }
        }
        if !evalRows.isEmpty {
            body += HTMLPage.table(header: ["eval", "model", "dataset", "phase", "attempt", "finished", "duration"] + metricNames.map(h), rows: evalRows)
        }
        if let leader, evals.count >= 2 {
            body += "<h2>Compared with the best eval: \(h(evals[leader].key.name))</h2>\n"
            body += "<p class=\"muted\">The best eval holds the most best values (ties: the first by name).</p>\n"
            body += CompareReport(evals: evals, baseline: leader).htmlBody()
        }
        return HTMLPage.document(title: title(scope), nav: nav(scopes), body: body)
    }

    /// Losses first in the chart order, then the rest by name.
    static func rank(_ key: String) -> Int { key.lowercased().contains("loss") ? 0 : 1 }

    /// Writes the pages into `dir` (created), replacing same-named files; returns the paths written.
    public static func write(_ pages: [String: String], to dir: URL) throws -> [String] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var written: [String] = []
        for (name, text) in pages.sorted(by: { $0.key < $1.key }) {
            let url = dir.appendingPathComponent(name)
            try Workspace.atomicWrite(url, Data(text.utf8))
            written.append(url.path)
        }
        return written
    }
}
