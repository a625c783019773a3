import Foundation
import HoneModel
import HonePlanning

/// Output formats of list-like commands.
public enum TableFormat: String, CaseIterable, Sendable { case table, json, csv, markdown }

/// Rows of named columns, rendered as an aligned text table, JSON (an array of objects in column
/// order... as sorted-key objects), CSV (RFC 4180) or a markdown table. Every list command goes through this.
public struct Table: Sendable {
    public var columns: [String]
    public var rows: [[String: JSONValue]]
    /// Columns kept leftmost (views' `pinned`).
    public var pinned: [String]
    /// Columns holding seconds: shown as spans (`3m12s`) in text and markdown, kept as numbers in JSON and CSV.
    public var spanColumns: Set<String> = []

    public init(columns: [String], rows: [[String: JSONValue]], pinned: [String] = []) {
        self.columns = columns; self.rows = rows; self.pinned = pinned
    }

    /// Columns in display order: pinned first, then the others in their order.
    public var ordered: [String] { pinned.filter(columns.contains) + columns.filter { !pinned.contains($0) } }

    public func render(_ format: TableFormat) -> String {
        switch format {
        case .table: return text()
        case .json: return JSONValue.array(rows.map { r in .object(Dictionary(uniqueKeysWithValues: ordered.map { ($0, r[$0] ?? .null) })) }).prettyJSON + "\n"
        case .csv: return csv()
        case .markdown: return markdown()
        }
    }

    func cell(_ row: [String: JSONValue], _ c: String) -> String {
        if spanColumns.contains(c), let seconds = row[c]?.doubleValue { return Duration.span(seconds) }
        return row[c]?.display ?? "-"
    }

    func text() -> String {
        let cols = ordered
        var widths = cols.map { $0.count }
        let cells = rows.map { r in cols.map { cell(r, $0) } }
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
        for r in rows { out += cols.map { c in r[c].map { $0 == .null ? "" : $0.display } ?? "" }.map(esc).joined(separator: ",") + "\r\n" }
        return out
    }

    func markdown() -> String {
        let cols = ordered
        var out = "| " + cols.joined(separator: " | ") + " |\n|" + cols.map { _ in "---" }.joined(separator: "|") + "|\n"
        for r in rows { out += "| " + cols.map { Markdown.cell(cell(r, $0)) }.joined(separator: " | ") + " |\n" }
        return out
    }
}
