import Foundation
import HoneLoading
import HoneModel
import HonePlanning

/// A static HTML report of a repository: `index.html` (the groups), one page per group (runs with their
/// params, results and training curves; evals with params and metrics; each eval compared with its declared
/// `baseline:`; gate verdicts; links to logs) and one for the evaluation module. Every page stands alone:
/// inline CSS and SVG, no scripts, no network; each says what it was read from.
public enum HTMLReport {
    /// What a report is made from, besides the load: where it was read, and how a page links a log.
    public struct Context {
        /// "commit 1a2b3c4 (main)", "the working tree at /repo (HEAD 1a2b3c4)".
        public var readFrom: String
        /// A repository path (a task log) → a link from the report's folder, or nil when it cannot be opened from there.
        public var link: (String) -> String?
        public init(readFrom: String, link: @escaping (String) -> String? = { _ in nil }) { self.readFrom = readFrom; self.link = link }
    }

    struct ScopeSummary { var scope: Scope; var runs: Int; var evals: Int; var succeeded: Int; var gates: GateTally }
    struct GateTally { var pass = 0, fail = 0, pending = 0 }

    /// File name → page text. The output is deterministic (no generation time), so a re-run only changes what changed.
    public static func pages(load: LoadResult, source: FileSource, context: Context? = nil) throws -> [String: String] {
        let context = context ?? Context(readFrom: "the \(source.label)")
        let d = load.desired, r = load.recorded
        var groups = Set(d.groups.keys)
        for k in Array(d.runs.keys) + Array(d.evals.keys) + Array(r.statuses.keys) { if case .group(let g) = k.scope { groups.insert(g) } }
        let hasModule = d.evals.keys.contains { $0.scope == .evaluations } || r.statuses.keys.contains { $0.scope == .evaluations }
        var scopes: [Scope] = groups.sorted().map { .group($0) }
        if hasModule { scopes.append(.evaluations) }
        let gates = GateEvidence(load: load, plan: Planner(load, now: Date()).plan())
        var pages: [String: String] = [:]
        var summaries: [ScopeSummary] = []
        for scope in scopes {
            let runs = Set(d.runs.keys.filter { $0.scope == scope }).union(r.statuses.keys.filter { $0.scope == scope && $0.kind == .run }).sorted()
            let evalKeys = Set(d.evals.keys.filter { $0.scope == scope }).union(r.statuses.keys.filter { $0.scope == scope && $0.kind == .eval }).sorted()
            let evals = try evalKeys.map { try RecordedEval.read($0, load: load, source: source) }
            let verdicts = gateResults(evalKeys, load, gates)
            var page = ScopePage(scope: scope, load: load, source: source, context: context)
            pages[file(scope)] = try page.render(runs: runs, evals: evals, gates: verdicts, scopes: scopes)
            var tally = GateTally()
            for v in verdicts { switch v.verdict { case .pass: tally.pass += 1; case .fail: tally.fail += 1; case .pending: tally.pending += 1 } }
            summaries.append(ScopeSummary(scope: scope, runs: runs.count, evals: evals.count,
                                          succeeded: evals.filter { $0.status?.phase == .succeeded }.count, gates: tally))
        }
        pages["index.html"] = index(load: load, summaries: summaries, context: context)
        return pages
    }

    static func gateResults(_ keys: [ObjectKey], _ load: LoadResult, _ evidence: GateEvidence) -> [GateResult] {
        keys.flatMap { key -> [GateResult] in
            guard let e = load.desired.evals[key] else { return [] }
            let baseline = e.baseline.map { ObjectKey(scope: key.scope, kind: .eval, name: $0) }
            return e.gates.map { evidence.judge(key, metric: $0.metric, gate: $0.expression, baseline: baseline) }
        }
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

    static func readFrom(_ context: Context) -> String { "<p class=\"muted\">Read from \(CellText.html(context.readFrom)).</p>\n" }

    static func index(load: LoadResult, summaries: [ScopeSummary], context: Context) -> String {
        let h = CellText.html
        let name = load.desired.project?.name ?? "hone repository"
        var body = readFrom(context)
        if summaries.isEmpty { body += "<p class=\"muted\">No groups and no evaluations yet.</p>\n" }
        let rows = summaries.map { s -> [(html: String, cls: String?)] in
            var desc = ""
            if case .group(let g) = s.scope { desc = load.desired.groups[g]?.description ?? "" }
            let g = s.gates
            let gates = g.pass + g.fail + g.pending == 0 ? "<span class=\"muted\">–</span>"
                : "<a href=\"\(h(file(s.scope)))#gates\">\(g.pass) pass, <span class=\"\(g.fail > 0 ? "verdict-FAIL" : "")\">\(g.fail) FAIL</span>, \(g.pending) pending</a>"
            return [("<a href=\"\(h(file(s.scope)))\">\(h(title(s.scope)))</a>", nil), (h(desc), nil), (String(s.runs), "num"),
                    (String(s.evals), "num"), (String(s.succeeded), "num"), (gates, nil)]
        }
        if !rows.isEmpty {
            body += HTMLPage.table(header: ["group", "description", "runs", "evals", "evals succeeded", "gates"], rows: rows)
        }
        return HTMLPage.document(title: "\(name): fine-tune report", nav: nav(summaries.map(\.scope)), body: body)
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
