import Foundation
import Git
import HoneLoading
import HoneModel
import HonePlanning

/// A run's or eval's recorded status across the commits that changed it (newest first).
public struct MetricHistory: Sendable {
    public struct Entry: Sendable {
        public var commit: String
        public var date: String
        public var author: String
        public var subject: String
        /// nil when the status file was removed (or unreadable) in this commit.
        public var attempt: Int?
        public var phase: String?
        public var metrics: [String: JSONValue]
        /// What the recorded attempt was given (`params.lr`, `inputs.<key>`, `handler`, `spec`): what
        /// `changes` compares.
        public var given: [String: JSONValue] = [:]
        /// What differs in `given` from the older row shown below it (empty for the oldest).
        public var changes: [Change] = []
        public init(commit: String, date: String, author: String, subject: String, attempt: Int?, phase: String?, metrics: [String: JSONValue]) {
            self.commit = commit; self.date = date; self.author = author; self.subject = subject
            self.attempt = attempt; self.phase = phase; self.metrics = metrics
        }
        public var shortCommit: String { String(commit.prefix(7)) }
        /// hone's own intermediate records (an attempt Pending or Running).
        var isIntermediate: Bool { phase == Phase.pending.rawValue || phase == Phase.running.rawValue }
    }

    /// One thing an attempt was given that differs from the older row's.
    public struct Change: Sendable, Equatable, Encodable {
        public var field: String
        public var from: JSONValue?
        public var to: JSONValue?
        public var text: String {
            func v(_ x: JSONValue?) -> String { x.map { CellText.of($0, limit: 14) } ?? "none" }
            if field.hasPrefix("inputs.") || field.hasPrefix("code.") || field == "spec" { return field }
            return "\(field) \(v(from))→\(v(to))"
        }
    }

    public var object: String
    public var key: ObjectKey?
    public var entries: [Entry]
    /// Intermediate rows left out (without --all).
    public var hidden = 0
    /// Read from a shallow clone: commits older than where the clone was cut are not there.
    public var shallow = false
    /// Every metric name that appears, sorted.
    public var metricNames: [String] { Set(entries.flatMap { $0.metrics.keys }).sorted() }

    public init(object: String, entries: [Entry]) { self.object = object; self.entries = entries }

    /// Walks the commits reachable from `from` that changed the status file, reading it at each one.
    /// Without `all`, hone's intermediate commits (an attempt Pending or Running) are left out, except the
    /// newest row when that is where the object is now; each row says what it was given that changed.
    public static func read(_ key: ObjectKey, repository: Repository, from: ObjectID, all: Bool = false) throws -> MetricHistory {
        var entries: [Entry] = []
        for c in try repository.history(of: key.statusPath, from: from) {
            var e = Entry(commit: c.id.hex, date: Timestamp.string(c.author.time), author: c.author.name, subject: c.subject,
                          attempt: nil, phase: nil, metrics: [:])
            if let data = try repository.blob(at: key.statusPath, in: c.id) {
                let (status, _) = StatusCodec.decode(key, text: String(decoding: data, as: UTF8.self), path: key.statusPath)
                if let s = status {
                    e.attempt = s.attempt; e.phase = s.phase.rawValue; e.metrics = s.metrics; e.given = given(s)
                } else { e.phase = "(unreadable)" }
            } else {
                e.phase = "(removed)"
            }
            entries.append(e)
        }
        let shown = all ? entries : entries.enumerated().filter { $0.offset == 0 || !$0.element.isIntermediate }.map(\.element)
        var history = MetricHistory(object: key.display, entries: changes(shown))
        history.key = key
        history.hidden = entries.count - shown.count
        history.shallow = repository.isShallow
        return history
    }

    /// What a status says its attempt was given, flattened.
    static func given(_ s: ObjectStatus) -> [String: JSONValue] {
        var g: [String: JSONValue] = [:]
        Flatten.columns("params.", s.params, into: &g)
        for (k, v) in s.inputs { g["inputs." + k] = .string(v) }
        for (file, id) in s.code ?? [:] { g["code." + file] = .string(id) }
        let named = s.recordedFields
        for (k, v) in named { if let v { g[k] = .string(v) } }
        g["spec"] = .string(s.specDigest)
        return g
    }

    /// Each row's changes against the next older row that has a status.
    static func changes(_ entries: [Entry]) -> [Entry] {
        var out = entries
        for i in out.indices where !out[i].given.isEmpty {
            guard let older = out[(i + 1)...].first(where: { !$0.given.isEmpty }) else { continue }
            let a = older.given, b = out[i].given
            var changes = Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] && $0 != "spec" }.map { Change(field: $0, from: a[$0], to: b[$0]) }
            // The spec changed in a way none of the above shows (a field hone hashes, such as the pool).
            if changes.isEmpty, a["spec"] != b["spec"] { changes = [Change(field: "spec", from: a["spec"], to: b["spec"])] }
            out[i].changes = changes
        }
        return out
    }

    // MARK: views

    public func render(_ format: CompareFormat) -> String {
        switch format {
        case .table: return text()
        case .json: return json().prettyJSON + "\n"
        case .markdown: return markdown()
        case .html: return html()
        }
    }

    func text() -> String {
        if entries.isEmpty { return "no commit has recorded a status for \(object) yet\n" }
        let names = metricNames
        var grid = TextGrid(header: ["COMMIT", "DATE", "AUTHOR", "ATTEMPT", "PHASE"] + names + ["CHANGED"])
        for e in entries {
            grid.rows.append([e.shortCommit, e.date, e.author, e.attempt.map(String.init) ?? "-", e.phase ?? "-"]
                             + names.map { CellText.of(e.metrics[$0], limit: 16) } + [changedText(e)])
        }
        return grid.render() + hiddenNote
    }

    func changedText(_ e: Entry) -> String { e.changes.isEmpty ? "" : e.changes.map(\.text).joined(separator: ", ") }

    var hiddenNote: String {
        hidden == 0 ? "" : "(\(hidden) intermediate commit\(hidden == 1 ? "" : "s") (Pending, Running) not shown: --all shows them)\n"
    }

    public func json() -> JSONValue { (try? JSONValue(encoding: HistoryDocument(self))) ?? .null }

    /// Oldest → newest numeric values of a metric, with the commits they come from.
    public func series(_ metric: String) -> [(commit: String, value: Double)] {
        entries.reversed().compactMap { e in e.metrics[metric]?.doubleValue.map { (e.shortCommit, $0) } }
    }

    func markdown() -> String {
        var out = "### History of `\(object)`\n\n"
        if entries.isEmpty { return out + "_No commit has recorded a status for it yet._\n" }
        let names = metricNames
        let trend = names.filter { series($0).count >= 1 }
        if !trend.isEmpty {
            out += "| metric | trend (oldest → newest) | first | latest |\n|---|---|---:|---:|\n"
            for m in trend {
                let s = series(m)
                let values = entries.reversed().compactMap { e in e.metrics[m].flatMap { $0.doubleValue == nil ? nil : $0 } }
                out += "| \(m) | \(SVGChart.textSparkline(s.map(\.value))) | \(CellText.of(values.first)) | \(CellText.of(values.last)) |\n"
            }
            out += "\n"
        }
        out += "| commit | date | author | attempt | phase | " + names.map { $0 + " | " }.joined() + "changed |\n"
        out += "|---|---|---|---:|---|" + names.map { _ in "---:|" }.joined() + "---|\n"
        for e in entries {
            out += "| `\(e.shortCommit)` | \(e.date) | \(Markdown.cell(e.author)) | \(e.attempt.map(String.init) ?? "–") | \(e.phase ?? "–") | "
                + names.map { Markdown.cell(CellText.of(e.metrics[$0], limit: 20)) + " | " }.joined() + Markdown.cell(changedText(e)) + " |\n"
        }
        if hidden > 0 { out += "\n_\(hiddenNote.dropLast())_\n" }
        let charted = trend.filter { series($0).count >= 2 }
        if !charted.isEmpty {
            out += "\n<details><summary>Charts</summary>\n\n"
            for m in charted {
                let s = series(m)
                out += MermaidChart.line(title: m, labels: s.map(\.commit), values: s.map(\.value)) + "\n"
            }
            out += "</details>\n"
        }
        return out
    }

    public func htmlBody() -> String {
        let h = CellText.html
        if entries.isEmpty { return "<p class=\"muted\">No commit has recorded a status for \(h(object)) yet.</p>\n" }
        let names = metricNames
        var s = "<div class=\"charts\">\n"
        for m in names where !series(m).isEmpty {
            s += "<figure>" + SVGChart.sparkline(series(m).map(\.value), width: 160, height: 32, title: m) + "<figcaption>\(h(m))</figcaption></figure>\n"
        }
        s += "</div>\n"
        let rows = entries.map { e -> [(html: String, cls: String?)] in
            [(h(e.shortCommit), nil), (h(e.date), nil), (h(e.author), nil), (e.attempt.map(String.init) ?? "–", "num"), (h(e.phase ?? "–"), nil)]
                + names.map { (h(CellText.of(e.metrics[$0], limit: 20)), "num") } + [(h(changedText(e)), nil)]
        }
        return s + HTMLPage.table(header: ["commit", "date", "author", "attempt", "phase"] + names.map(h) + ["changed"], rows: rows)
            + (hidden > 0 ? "<p class=\"muted\">\(h(String(hiddenNote.dropLast())))</p>\n" : "")
    }

    func html() -> String { HTMLPage.document(title: "History of \(object)", body: htmlBody()) }
}

/// `hone history -o json` (specs/json.md).
struct HistoryDocument: Encodable {
    struct Row: Encodable {
        var commit, date, author, subject: String
        var attempt: Int?
        var phase: String?
        var metrics: [String: JSONValue]
        var changes: [MetricHistory.Change]
    }
    var apiVersion = Documents.apiVersion
    var kind = "History"
    var object: ObjectRef?
    var shallow: Bool
    /// Intermediate commits left out (Pending, Running; `--all` keeps them).
    var hidden: Int
    var entries: [Row]

    init(_ h: MetricHistory) {
        object = h.key.map(ObjectRef.init); shallow = h.shallow; hidden = h.hidden
        entries = h.entries.map { Row(commit: $0.commit, date: $0.date, author: $0.author, subject: $0.subject, attempt: $0.attempt,
                                      phase: $0.phase, metrics: $0.metrics, changes: $0.changes) }
    }
}
