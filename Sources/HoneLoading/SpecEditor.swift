import HoneModel
import YAML

/// Edits the top-level keys of a spec file as text, so that everything else — comments, key order,
/// blank lines, quoting — stays as the user wrote it (`hone rerun`, `hone publish`, `hone view …`).
public struct SpecEditor {
    public private(set) var text: String
    public let path: String

    public init(text: String, path: String) throws {
        self.text = text
        self.path = path
        _ = try root()
    }

    private func root() throws -> Node {
        let doc = YAMLParser.parse(text)
        if let e = doc.errors.first { throw SpecEditError("\(path):\(e.mark): error: \(e.message) (fix the file before editing it with hone)") }
        guard let root = doc.root, root.pairs != nil else { throw SpecEditError("\(path): error: expected a mapping at the top level") }
        return root
    }

    /// The current value of a top-level key.
    public func value(_ key: String) throws -> Node? { try root()[key] }

    /// The text as lines without their breaks (CRLF files are edited as LF and written back as CRLF).
    private var lineBreak: String { text.contains("\r\n") ? "\r\n" : "\n" }
    private func splitLines() -> [String] {
        var lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
    private mutating func join(_ lines: [String], lineBreak: String) {
        text = lines.joined(separator: lineBreak) + lineBreak
    }

    /// The 0-based line range of a top-level pair: from its key to its value's last line, leaving out
    /// blank lines and column-0 comments that precede the next key (they belong to it).
    private func range(of index: Int, in root: Node, lines: [String]) -> ClosedRange<Int> {
        let pairs = root.pairs!
        let start = pairs[index].key.mark.line - 1
        var end = index + 1 < pairs.count ? pairs[index + 1].key.mark.line - 2 : lines.count - 1
        while end > start {
            let l = lines[end]
            if l.allSatisfy({ $0 == " " || $0 == "\t" }) || l.hasPrefix("#") { end -= 1 } else { break }
        }
        return start...max(start, end)
    }

    /// Sets a top-level key to a value (emitted as YAML), replacing its old value lines or appending it.
    /// A comment that followed a one-line value stays on the line.
    public mutating func set(_ key: String, _ node: Node) throws {
        let rendered = try YAMLEmitter.emit(.mapping([(key, node)]))
        var newLines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if newLines.last == "" { newLines.removeLast() }
        let br = lineBreak
        var lines = splitLines()
        let root = try root()
        if let index = root.pairs!.firstIndex(where: { $0.key.scalar == key }) {
            let pair = root.pairs![index]
            let r = range(of: index, in: root, lines: lines)
            if newLines.count == 1, r.count == 1, pair.value.scalar != nil, pair.value.mark.line == pair.key.mark.line,
               let comment = SpecEditor.trailingComment(lines[r.lowerBound], valueColumn: pair.value.mark.column) {
                newLines[0] += "  " + comment
            }
            lines.replaceSubrange(r, with: newLines)
        } else {
            while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
            lines += newLines
        }
        join(lines, lineBreak: br)
        _ = try self.root()
    }

    /// Sets a top-level key to a scalar given as YAML text (already quoted if needed).
    public mutating func set(_ key: String, _ scalarYAML: String) throws {
        let doc = YAMLParser.parse("v: \(scalarYAML)\n")
        guard let v = doc.root?["v"], doc.errors.isEmpty else { throw SpecEditError("invalid value \(scalarYAML)") }
        try set(key, v)
    }

    /// Removes a top-level key and its value lines.
    public mutating func remove(_ key: String) throws {
        let root = try root()
        guard let index = root.pairs!.firstIndex(where: { $0.key.scalar == key }) else { return }
        let br = lineBreak
        var lines = splitLines()
        lines.removeSubrange(range(of: index, in: root, lines: lines))
        join(lines, lineBreak: br)
        _ = try self.root()
    }

    /// YAML text for a string value, quoted when a reader would take it for something else.
    public static func scalarText(_ s: String) -> String {
        let out = (try? YAMLEmitter.emit(.mapping([("v", .text(s))]))) ?? "v: \"\(s)\"\n"
        return String(out.dropFirst(3).dropLast())
    }

    /// The `# comment` after a one-line value, if any.
    static func trailingComment(_ line: String, valueColumn: Int) -> String? {
        // Columns count code points (libyaml's marks).
        let chars = Array(line.unicodeScalars)
        guard valueColumn - 1 < chars.count else { return nil }
        var i = valueColumn - 1
        var quote: Unicode.Scalar? = nil
        if chars[i] == "\"" || chars[i] == "'" { quote = chars[i]; i += 1 }
        while i < chars.count {
            if let q = quote {
                if chars[i] == "\\" && q == "\"" { i += 2; continue }
                if chars[i] == q { quote = nil }
            } else if chars[i] == "#" && i > 0 && (chars[i - 1] == " " || chars[i - 1] == "\t") {
                var out = String.UnicodeScalarView()
                out.append(contentsOf: chars[i...])
                return String(out)
            }
            i += 1
        }
        return nil
    }
}

public struct SpecEditError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
