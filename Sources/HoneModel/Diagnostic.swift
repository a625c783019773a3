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

    /// The one-line form: `path:line:col: error: message` (no line/col when the problem is the whole file).
    public var headline: String {
        line > 0 ? "\(path):\(line):\(column): \(severity.rawValue): \(message)" : "\(path): \(severity.rawValue): \(message)"
    }

    /// The headline, the source line and a caret under the column, then the notes.
    public var description: String {
        var out = headline
        if let src = sourceLine, line > 0 {
            let shown = src.replacingOccurrences(of: "\t", with: " ")
            out += "\n    \(shown)\n    " + String(repeating: " ", count: max(0, column - 1)) + "^"
        }
        for n in notes { out += "\n    note: \(n)" }
        return out
    }
}

/// "did you mean" suggestions: the closest candidate within a small edit distance.
public enum NearMiss {
    public static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        var best: (String, Int)? = nil
        let limit = max(2, word.count / 3)
        for c in candidates {
            let d = distance(word.lowercased(), c.lowercased())
            if d <= limit, best == nil || d < best!.1 { best = (c, d) }
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
