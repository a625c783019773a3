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
        public init(commit: String, date: String, author: String, subject: String, attempt: Int?, phase: String?, metrics: [String: JSONValue]) {
            self.commit = commit; self.date = date; self.author = author; self.subject = subject
            self.attempt = attempt; self.phase = phase; self.metrics = metrics
        }
        public var shortCommit: String { String(commit.prefix(7)) }
    }

    public var object: String
    public var entries: [Entry]
    /// Read from a shallow clone: commits older than where the clone was cut are not there.
    public var shallow = false
    /// Every metric name that appears, sorted.
    public var metricNames: [String] { Set(entries.flatMap { $0.metrics.keys }).sorted() }

    public init(object: String, entries: [Entry]) { self.object = object; self.entries = entries }

    /// Walks the commits reachable from `from` that changed the status file, reading it at each one.
    public static func read(_ key: ObjectKey, repository: Repository, from: ObjectID) throws -> MetricHistory {
        var entries: [Entry] = []
        for c in try repository.history(of: key.statusPath, from: from) {
            var e = Entry(commit: c.id.hex, date: Timestamp.string(c.author.time), author: c.author.name, subject: c.subject,
                          attempt: nil, phase: nil, metrics: [:])
            if let data = try repository.blob(at: key.statusPath, in: c.id) {
                let (status, _) = StatusCodec.decode(key, text: String(decoding: data, as: UTF8.self), path: key.statusPath)
                if let s = status { e.attempt = s.attempt; e.phase = s.phase.rawValue; e.metrics = s.metrics } else { e.phase = "(unreadable)" }
            } else {
                e.phase = "(removed)"
            }
            entries.append(e)
        }
        var history = MetricHistory(object: key.display, entries: entries)
        history.shallow = repository.isShallow
        return history
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
        var grid = TextGrid(header: ["COMMIT", "DATE", "AUTHOR", "ATTEMPT", "PHASE"] + names)
        for e in entries {
            grid.rows.append([e.shortCommit, e.date, e.author, e.attempt.map(String.init) ?? "-", e.phase ?? "-"] + names.map { CellText.of(e.metrics[$0], limit: 16) })
        }
        return grid.render()
    }

    public func json() -> JSONValue {
        .object(["object": .string(object), "shallow": .bool(shallow), "entries": .array(entries.map { e in
            .object(["commit": .string(e.commit), "date": .string(e.date), "author": .string(e.author), "subject": .string(e.subject),
                     "attempt": e.attempt.map(JSONValue.int) ?? .null, "phase": e.phase.map(JSONValue.string) ?? .null,
                     "metrics": .object(e.metrics)])
        })])
    }

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
        out += "| commit | date | author | attempt | phase | " + names.joined(separator: " | ") + " |\n"
        out += "|---|---|---|---:|---|" + names.map { _ in "---:|" }.joined() + "\n"
        for e in entries {
            out += "| `\(e.shortCommit)` | \(e.date) | \(Markdown.cell(e.author)) | \(e.attempt.map(String.init) ?? "–") | \(e.phase ?? "–") | "
                + names.map { Markdown.cell(CellText.of(e.metrics[$0], limit: 20)) }.joined(separator: " | ") + " |\n"
        }
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
                + names.map { (h(CellText.of(e.metrics[$0], limit: 20)), "num") }
        }
        return s + HTMLPage.table(header: ["commit", "date", "author", "attempt", "phase"] + names.map(h), rows: rows)
    }

    func html() -> String { HTMLPage.document(title: "History of \(object)", body: htmlBody()) }
}
