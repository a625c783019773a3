import YAML

/// One problem found in a file, with where it is. Rendered as `path:line:col: error: message`,
/// then the source line and a caret (Terraform-style: collected, never thrown one at a time).
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var severity: Severity
    public var path: String
    public var line: Int
    public var column: Int
    public var message: String
    public var notes: [String]
    /// The source line the mark points into (filled by the loader, which has the text).
    public var sourceLine: String?

    public init(_ severity: Severity = .error, path: String, mark: Mark, message: String, notes: [String] = [], sourceLine: String? = nil) {
        self.severity = severity; self.path = path; self.line = mark.line; self.column = mark.column
        self.message = message; self.notes = notes; self.sourceLine = sourceLine
    }

    public var isError: Bool { severity == .error }

    /// The path as shown: its control characters escaped (a file name may hold any byte but `/`).
    public var shownPath: String { TerminalText.escaped(path) }
    /// The message as shown: it may quote the file (a key, a value), so it is escaped too.
    public var shownMessage: String { TerminalText.escaped(message) }

    /// The JSON item of `validate --format json` and `plan --format json`: shown path and message.
    public var json: JSONValue {
        .object(["path": .string(shownPath), "line": .int(line), "column": .int(column), "message": .string(shownMessage)])
    }

    /// The one-line form: `path:line:col: error: message` (no line/col when the problem is the whole file).
    public var headline: String {
        line > 0 ? "\(shownPath):\(line):\(column): \(severity.rawValue): \(shownMessage)" : "\(shownPath): \(severity.rawValue): \(shownMessage)"
    }

    /// The headline, the source line and a caret under the column, then the notes. Every renderer
    /// (validate, plan text and markdown, check) prints this, so escaping and cutting happen here only.
    public var description: String {
        var out = headline
        if let src = sourceLine, line > 0 {
            let excerpt = Excerpt(line: SecretExcerpt.masked(src), column: column)
            out += "\n    \(excerpt.text)\n    " + String(repeating: " ", count: excerpt.caretOffset) + "^"
        }
        for n in notes { out += "\n    note: \(TerminalText.escaped(n))" }
        return out
    }
}

/// The part of a source line shown under a diagnostic: at most `width` characters around the
/// column (`…` marks what was cut), escaped, with the caret's offset in the shown text.
public struct Excerpt: Sendable, Equatable {
    public static let width = 120
    public var text: String
    /// Characters of `text` before the caret.
    public var caretOffset: Int

    public init(line: String, column: Int) {
        let scalars = line.unicodeScalars
        let count = scalars.count
        let caret = max(0, column - 1)  // 0-based, may be just past the end
        // Keep the column about a third into the window: what led up to it usually explains it.
        let first = count <= Excerpt.width ? 0 : max(0, min(caret - Excerpt.width / 3, count - Excerpt.width))
        let last = min(count, first + Excerpt.width)
        let lower = scalars.index(scalars.startIndex, offsetBy: first)
        let upper = scalars.index(lower, offsetBy: last - first)
        let marker = scalars.index(lower, offsetBy: min(max(caret, first), last) - first)
        let before = first > 0 ? "…" : ""
        let head = before + TerminalText.escaped(String(scalars[lower..<marker]), tab: " ")
        text = head + TerminalText.escaped(String(scalars[marker..<upper]), tab: " ") + (last < count ? "…" : "")
        caretOffset = head.unicodeScalars.count + min(max(0, caret - last), Excerpt.width)
    }
}

/// Text from a file or a file name made safe to print: control characters (C0 including line
/// breaks, DEL, C1) and the bidirectional controls that reorder what a terminal or a browser shows
/// are written as escapes, so a spec cannot clear the screen, set the window title, forge a line of
/// output or hide text.
public enum TerminalText {
    public static func escaped(_ s: String, tab: String = "\\t") -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            guard needsEscape(u) else { out.append(u); continue }
            let escape: String
            switch u {
            case "\t": escape = tab
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            default: escape = u.value <= 0xFF ? "\\x" + hex(u.value, digits: 2) : "\\u{" + hex(u.value, digits: 4) + "}"
            }
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    /// Text of several lines (a diagnostic and its excerpt): every line escaped, the breaks kept.
    public static func escapedLines(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { needsEscape($0) && $0 != "\n" }) else { return s }
        return s.split(separator: "\n", omittingEmptySubsequences: false).map { escaped(String($0)) }.joined(separator: "\n")
    }

    /// A document a command prints (a table, CSV, an overview, a log): control characters escaped as by
    /// `escaped`, but line breaks, tabs and CRLF line ends (CSV's) stay as they are.
    public static func escapedDocument(_ s: String) -> String {
        // Every command's whole output passes here: look before copying it into an array.
        guard s.unicodeScalars.contains(where: { needsEscape($0) && $0 != "\n" && $0 != "\t" }) else { return s }
        let scalars = Array(s.unicodeScalars)
        func kept(_ i: Int) -> Bool {
            scalars[i] == "\n" || scalars[i] == "\t" || (scalars[i] == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n")
        }
        guard scalars.indices.contains(where: { needsEscape(scalars[$0]) && !kept($0) }) else { return s }
        var out = String.UnicodeScalarView()
        for i in scalars.indices {
            if !needsEscape(scalars[i]) || kept(i) { out.append(scalars[i]) } else { out.append(contentsOf: escaped(String(scalars[i])).unicodeScalars) }
        }
        return String(out)
    }

    public static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        // LRM, RLM, ALM; embeddings and overrides; isolates; line and paragraph separators.
        case 0x200E, 0x200F, 0x061C, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: return true
        default: return false
        }
    }

    private static func hex(_ v: UInt32, digits: Int) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - h.count)) + h
    }
}

/// "did you mean" suggestions: the closest candidate within a small edit distance.
/// Where a spec's fields are in its file, captured when it is decoded, so that checks made later (the
/// planner's) build their diagnostics with the place. Not part of the value: specs that differ only in
/// layout are equal.
public struct SourceMarks: Sendable, Hashable {
    public var byField: [String: Mark]
    public init(_ byField: [String: Mark] = [:]) { self.byField = byField }
    /// The mark of a top-level field, or `.none` (no line) when the file has no such field.
    public subscript(field: String) -> Mark { byField[field] ?? .none }
    public static func == (a: SourceMarks, b: SourceMarks) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

public enum NearMiss {
    public static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        var best: (String, Int)? = nil
        let limit = max(2, word.count / 3)
        for c in candidates {
            let d = distance(word.lowercased(), c.lowercased())
            // Ties go to the first name in order: candidates often come from a Set, whose order varies.
            if d <= limit, best == nil || (d, c) < (best!.1, best!.0) { best = (c, d) }
        }
        return best?.0
    }

    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    /// " (did you mean \"x\"?)" or "".
    public static func hint(for word: String, among candidates: some Sequence<String>) -> String {
        suggestion(for: word, among: candidates).map { " (did you mean \"\($0)\"?)" } ?? ""
    }
}
