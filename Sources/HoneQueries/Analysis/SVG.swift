import Foundation
import HoneModel

/// Small self-contained SVG charts (no scripts, no fonts to fetch, no network): bar charts for
/// comparisons, line charts for training curves, sparklines for histories.
public enum SVGChart {
    public static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func n(_ d: Double) -> String {
        let r = (d * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
    }

    /// A value as charts print it: the display format, whole numbers without their `.0` (axis ticks, steps).
    public static func label(_ d: Double) -> String {
        if d == d.rounded() && abs(d) < 1e9 { return String(Int(d)) }
        return JSONValue.formatNumber(d)
    }

    /// Horizontal bars, one per label; `highlight` bars are drawn in the accent colour (the best),
    /// `baseline` gets a dashed outline. Missing values show as "no value".
    public static func bars(title: String, labels: [String], values: [Double?], highlight: Set<Int> = [], baseline: Int? = nil,
                            width: Double = 420) -> String {
        let rowH = 22.0, top = 24.0, labelW = min(180, max(60, Double(labels.map(\.count).max() ?? 8) * 7)), valueW = 70.0
        let height = top + rowH * Double(labels.count) + 6
        let numbers = values.compactMap { $0 }
        let lo = min(0, numbers.min() ?? 0), hi = max(0, numbers.max() ?? 1)
        let span = hi - lo == 0 ? 1 : hi - lo
        // Negative values get room for their labels left of their bars, which grow left from the zero line.
        let leftRoom = lo < 0 ? valueW : 0, rightRoom = hi > 0 ? valueW : 0
        let plotW = width - labelW - leftRoom - rightRoom - 10
        func x(_ v: Double) -> Double { labelW + 5 + leftRoom + (v - lo) / span * plotW }
        var s = header(width: width, height: height, title: title)
        s += "<text x=\"4\" y=\"15\" font-size=\"12\" font-weight=\"bold\">\(escape(title))</text>"
        if lo < 0 {
            s += "<line x1=\"\(n(x(0)))\" y1=\"\(n(top))\" x2=\"\(n(x(0)))\" y2=\"\(n(height - 4))\" stroke=\"#555\" stroke-width=\"1\"/>"
        }
        for (i, l) in labels.enumerated() {
            let y = top + Double(i) * rowH
            s += "<text x=\"\(n(labelW))\" y=\"\(n(y + 14))\" font-size=\"11\" text-anchor=\"end\">\(escape(l))</text>"
            if let v = values[i] {
                let x0 = x(min(0, v)), x1 = x(max(0, v))
                let fill = highlight.contains(i) ? "#59a14f" : "#9db4cf"
                let dash = baseline == i ? " stroke=\"#333\" stroke-dasharray=\"3 2\"" : ""
                s += "<rect x=\"\(n(x0))\" y=\"\(n(y + 3))\" width=\"\(n(max(1, x1 - x0)))\" height=\"\(n(rowH - 7))\" fill=\"\(fill)\"\(dash)><title>\(escape(l)): \(escape(label(v)))</title></rect>"
                let text = escape(label(v)) + (highlight.contains(i) ? " ★" : "")
                s += v < 0
                    ? "<text x=\"\(n(x0 - 4))\" y=\"\(n(y + 14))\" font-size=\"11\" text-anchor=\"end\">\(text)</text>"
                    : "<text x=\"\(n(x1 + 4))\" y=\"\(n(y + 14))\" font-size=\"11\">\(text)</text>"
            } else {
                s += "<text x=\"\(n(labelW + 8))\" y=\"\(n(y + 14))\" font-size=\"11\" fill=\"#999\">no value</text>"
            }
        }
        return s + "</svg>"
    }

    /// Line chart of several series over a shared x axis, with axis extremes labelled and a legend.
    public static func lines(title: String, series: [(name: String, points: [(x: Double, y: Double)])], xLabel: String = "step",
                             width: Double = 520, height: Double = 220) -> String {
        let left = 56.0, right = 10.0, top = 24.0, bottom = 34.0
        let legendH = Double(series.count) * 14
        let total = height + legendH
        let all = series.flatMap(\.points)
        var s = header(width: width, height: total, title: title)
        s += "<text x=\"4\" y=\"15\" font-size=\"12\" font-weight=\"bold\">\(escape(title))</text>"
        guard let x0 = all.map(\.x).min(), let x1 = all.map(\.x).max(), let y0 = all.map(\.y).min(), let y1 = all.map(\.y).max() else {
            return s + "<text x=\"\(n(left))\" y=\"\(n(top + 30))\" font-size=\"11\" fill=\"#999\">no data</text></svg>"
        }
        let xs = x1 - x0 == 0 ? 1 : x1 - x0, ys = y1 - y0 == 0 ? 1 : y1 - y0
        let pw = width - left - right, ph = height - top - bottom
        func px(_ v: Double) -> Double { left + (v - x0) / xs * pw }
        func py(_ v: Double) -> Double { top + ph - (v - y0) / ys * ph }
        s += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" stroke=\"#ccc\"/>"
        s += "<text x=\"\(n(left - 4))\" y=\"\(n(top + 9))\" font-size=\"10\" text-anchor=\"end\">\(escape(label(y1)))</text>"
        s += "<text x=\"\(n(left - 4))\" y=\"\(n(top + ph))\" font-size=\"10\" text-anchor=\"end\">\(escape(label(y0)))</text>"
        s += "<text x=\"\(n(left))\" y=\"\(n(top + ph + 13))\" font-size=\"10\">\(escape(label(x0)))</text>"
        s += "<text x=\"\(n(left + pw))\" y=\"\(n(top + ph + 13))\" font-size=\"10\" text-anchor=\"end\">\(escape(label(x1)))</text>"
        s += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(top + ph + 26))\" font-size=\"10\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        for (i, serie) in series.enumerated() {
            let color = palette[i % palette.count]
            let pts = serie.points.sorted { $0.x < $1.x }
            if pts.count == 1 {
                s += "<circle cx=\"\(n(px(pts[0].x)))\" cy=\"\(n(py(pts[0].y)))\" r=\"3\" fill=\"\(color)\"/>"
            } else if !pts.isEmpty {
                let d = pts.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(d)\"><title>\(escape(serie.name))</title></polyline>"
            }
            let ly = height + Double(i) * 14
            s += "<rect x=\"\(n(left))\" y=\"\(n(ly))\" width=\"10\" height=\"3\" fill=\"\(color)\"/>"
            s += "<text x=\"\(n(left + 14))\" y=\"\(n(ly + 5))\" font-size=\"10\">\(escape(serie.name))</text>"
        }
        return s + "</svg>"
    }

    /// A tiny trend line (oldest → newest), its last point marked and its first and last values written
    /// beside it (a line alone says which way, not how much).
    public static func sparkline(_ values: [Double], width: Double = 120, height: Double = 24, title: String = "") -> String {
        let textW = 56.0, total = width + 2 * textW
        var s = header(width: total, height: height, title: title)
        guard let lo = values.min(), let hi = values.max() else { return s + "</svg>" }
        let span = hi - lo == 0 ? 1 : hi - lo
        s += "<text x=\"\(n(textW - 4))\" y=\"\(n(height / 2 + 4))\" font-size=\"10\" text-anchor=\"end\" fill=\"#666\">\(escape(label(values[0])))</text>"
        s += "<text x=\"\(n(textW + width + 4))\" y=\"\(n(height / 2 + 4))\" font-size=\"10\">\(escape(label(values[values.count - 1])))</text>"
        func px(_ i: Int) -> Double { textW + (values.count == 1 ? width / 2 : 2 + Double(i) / Double(values.count - 1) * (width - 4)) }
        func py(_ v: Double) -> Double { height - 3 - (v - lo) / span * (height - 6) }
        if values.count > 1 {
            s += "<polyline fill=\"none\" stroke=\"#4e79a7\" stroke-width=\"1.5\" points=\"\(values.enumerated().map { "\(n(px($0.offset))),\(n(py($0.element)))" }.joined(separator: " "))\"/>"
        }
        s += "<circle cx=\"\(n(px(values.count - 1)))\" cy=\"\(n(py(values[values.count - 1])))\" r=\"2.5\" fill=\"#e15759\"/>"
        return s + "</svg>"
    }

    /// The same trend as block characters (▁▂▃▄▅▆▇█): renders anywhere text does.
    public static func textSparkline(_ values: [Double]) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        guard let lo = values.min(), let hi = values.max() else { return "" }
        return String(values.map { hi == lo ? blocks[3] : blocks[Int(((($0 - lo) / (hi - lo)) * 7).rounded())] })
    }

    static func header(width: Double, height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"sans-serif\" role=\"img\" aria-label=\"\(escape(title))\">"
    }

}

/// Mermaid `xychart-beta` blocks: GitHub and GitLab render them in pull-request comments, where
/// inline `<svg>` and `data:` images are stripped.
public enum MermaidChart {
    static func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "'") + "\"" }
    /// Plain decimals: the chart grammar has no exponent notation.
    static func number(_ d: Double) -> String {
        var t = String(format: "%.8f", d)
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t == "-0" ? "0" : t
    }

    public static func bars(title: String, labels: [String], values: [Double]) -> String {
        "```mermaid\nxychart-beta\n    title \(quote(title))\n    x-axis [\(labels.map(quote).joined(separator: ", "))]\n    bar [\(values.map(number).joined(separator: ", "))]\n```\n"
    }

    public static func line(title: String, labels: [String], values: [Double]) -> String {
        "```mermaid\nxychart-beta\n    title \(quote(title))\n    x-axis [\(labels.map(quote).joined(separator: ", "))]\n    line [\(values.map(number).joined(separator: ", "))]\n```\n"
    }
}
