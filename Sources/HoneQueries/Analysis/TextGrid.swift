import Foundation
import HoneModel

/// Aligned text columns (like `Table`'s text form, but with headers kept as written: object names are case-sensitive).
struct TextGrid {
    var header: [String]
    var rows: [[String]] = []

    func render() -> String {
        // Cells hold names and values from files: escaped, so none can drive the terminal.
        let header = self.header.map { TerminalText.escaped($0) }
        let rows = self.rows.map { $0.map { TerminalText.escaped($0) } }
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ values: [String]) -> String {
            var parts: [String] = []
            for (i, v) in values.enumerated() {
                parts.append(i == values.count - 1 ? v : v.padding(toLength: widths[i], withPad: " ", startingAt: 0))
            }
            var l = parts.joined(separator: "  ")
            while l.hasSuffix(" ") { l.removeLast() }
            return l
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// How values look in tables: strings bare and shortened, numbers compact, newlines flattened.
enum CellText {
    static func of(_ v: JSONValue?, limit: Int = 40) -> String {
        guard let v else { return "-" }
        var s: String
        switch v {
        case .double(let d): s = number(d)
        default: s = v.display
        }
        s = s.replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "\t", with: " ")
        if s.count > limit { s = String(s.prefix(limit - 1)) + "…" }
        return s
    }

    static func number(_ d: Double) -> String { JSONValue.formatNumber(d) }

    static func signed(_ d: Double) -> String { d == 0 ? "±0" : (d > 0 ? "+" : "") + number(d) }

    static func percent(_ p: Double) -> String {
        p == 0 ? "±0%" : (p > 0 ? "+" : "") + String(format: abs(p) >= 100 ? "%.0f" : "%.1f", p) + "%"
    }

    static func html(_ s: String) -> String { SVGChart.escape(s) }
}
