import Foundation
import HoneModel
import HonePlanning
import HoneLoading
import YAML

/// Output formats of list-like commands: `table` is the narrow text table (the columns that fit a
/// terminal, times as ages), `wide` every column with ISO times; `json`, `yaml`, `csv` and `markdown`
/// every column.
public enum TableFormat: String, CaseIterable, Sendable { case table, wide, json, yaml, csv, markdown }

/// Rows of named columns, rendered as an aligned text table, JSON (an array of objects in column
/// order... as sorted-key objects), CSV (RFC 4180) or a markdown table. Every list command goes through this.
public struct Table: Sendable {
    public var columns: [String]
    public var rows: [[String: JSONValue]]
    /// Columns kept leftmost (views' `pinned`).
    public var pinned: [String]
    /// Columns holding seconds: shown as spans (`3m12s`) in text and markdown, kept as numbers in JSON and CSV.
    public var spanColumns: Set<String> = []
    /// The columns of the narrow `table` format (nil: every column). They may name `age` columns and
    /// row keys that are not columns (a short digest), shown in that format only.
    public var narrow: [String]? = nil
    /// Pseudo-columns of the narrow table shown as the time since a column's ISO time (`age` → `createdAt`).
    public var ages: [String: String] = [:]
    /// Set for lists of objects: JSON and YAML are then a `ListDocument` of this kind (`RunList`) whose items
    /// are each row's `Table.itemKey` value, the same keys whatever the columns (specs/json.md).
    public var documentKind: String? = nil
    /// The row key holding a row's document item (never a column).
    public static let itemKey = "$item"
    /// Widest cell of the narrow table; longer ones end in `…` (`wide` shows them whole).
    public static let narrowCell = 40

    public init(columns: [String], rows: [[String: JSONValue]], pinned: [String] = []) {
        self.columns = columns; self.rows = rows; self.pinned = pinned
    }

    /// Columns in display order: pinned first, then the others in their order.
    public var ordered: [String] { pinned.filter(columns.contains) + columns.filter { !pinned.contains($0) } }

    /// The narrow table's columns that fit in `width` characters, leftmost first (at least one).
    public func fitting(_ width: Int, now: Date = Date()) -> [String] {
        guard var cols = narrow else { return ordered }
        while cols.count > 1, (text(cols, now: now, cap: Table.narrowCell).split(separator: "\n").map(\.count).max() ?? 0) > width {
            cols.removeLast()
        }
        return cols
    }

    /// The narrow table cut to the columns that fit in `width` (a terminal's); nil when nothing is cut.
    public func fitted(_ width: Int, now: Date = Date()) -> (text: String, hidden: Int)? {
        guard let all = narrow else { return nil }
        let cols = fitting(width, now: now)
        return cols.count == all.count ? nil : (text(cols, now: now, cap: Table.narrowCell), all.count - cols.count)
    }

    public func render(_ format: TableFormat, now: Date = Date()) -> String {
        switch format {
        case .table: return narrow == nil ? text() : text(narrow!, now: now, cap: Table.narrowCell)
        case .wide: return text()
        case .yaml: return yaml()
        case .json:
            if let document { return document.prettyJSON + "\n" }
            return JSONValue.array(rows.map { r in .object(Dictionary(uniqueKeysWithValues: ordered.map { ($0, r[$0] ?? .null) })) }).prettyJSON + "\n"
        case .csv: return csv()
        case .markdown: return markdown()
        }
    }

    func cell(_ row: [String: JSONValue], _ c: String) -> String {
        if spanColumns.contains(c), let seconds = row[c]?.doubleValue { return DurationText.span(seconds) }
        // Values come from files people and handlers wrote: never let one drive the terminal.
        return TerminalText.escaped(row[c]?.display ?? "-")
    }

    /// `5s`, `3m`, `2h`, `4d`, `3y` (as kubectl's AGE): the largest unit, rounded down; hours up to 2 days.
    public static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 2 * 86400 { return "\(s / 3600)h" }
        if s < 2 * 365 * 86400 { return "\(s / 86400)d" }
        return "\(s / (365 * 86400))y"
    }

    func narrowCell(_ row: [String: JSONValue], _ c: String, now: Date, cap: Int) -> String {
        if let from = ages[c] {
            guard let t = row[from]?.stringValue.flatMap(Timestamp.date) else { return "-" }
            return Table.age(now.timeIntervalSince(t))
        }
        let v = cell(row, c)
        return v.count > cap ? String(v.prefix(cap - 1)) + "…" : v
    }

    /// The list as a `ListDocument`, when the rows are objects with items.
    var document: JSONValue? {
        guard let documentKind else { return nil }
        let cols = columns
        // Rows without an item of their own (groups, versions) are their columns, every one of them.
        return try? JSONValue(encoding: ListDocument(kind: documentKind, items: rows.map { r in
            r[Table.itemKey] ?? .object(Dictionary(uniqueKeysWithValues: cols.map { ($0, r[$0] ?? .null) }))
        }))
    }

    func yaml() -> String {
        if let document { return (try? YAMLEmitter.emit(StatusCodec.json(document))) ?? "{}\n" }
        let items = rows.map { r in Node.mapping(ordered.map { ($0, StatusCodec.json(r[$0] ?? .null)) }) }
        return (try? YAMLEmitter.emit(.sequence(items))) ?? "[]\n"
    }

    func text() -> String { text(ordered, now: Date(), cap: Int.max) }

    func text(_ cols: [String], now: Date, cap: Int) -> String {
        var widths = cols.map { $0.count }
        let cells = rows.map { r in cols.map { cap == Int.max ? cell(r, $0) : narrowCell(r, $0, now: now, cap: cap) } }
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ values: [String]) -> String {
            values.enumerated().map { i, v in i == values.count - 1 ? v : v.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var out = line(cols.map { $0.uppercased() }) + "\n"
        for row in cells { out += line(row) + "\n" }
        return out
    }

    func csv() -> String {
        func esc(_ s: String) -> String {
            s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        let cols = ordered
        var out = cols.map(esc).joined(separator: ",") + "\r\n"
        for r in rows { out += cols.map { c in r[c].map { $0 == .null ? "" : TerminalText.escaped($0.display) } ?? "" }.map(esc).joined(separator: ",") + "\r\n" }
        return out
    }

    func markdown() -> String {
        let cols = ordered
        var out = "| " + cols.joined(separator: " | ") + " |\n|" + cols.map { _ in "---" }.joined(separator: "|") + "|\n"
        for r in rows { out += "| " + cols.map { Markdown.cell(cell(r, $0)) }.joined(separator: " | ") + " |\n" }
        return out
    }
}
