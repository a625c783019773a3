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

    /// Sets a top-level key to a value (emitted as YAML), replacing its old value lines or appending it.
    /// A comment that followed a one-line value stays on the line.
    public mutating func set(_ key: String, _ node: Node) throws {
        let rendered = try YAMLEmitter.emit(.mapping([(key, node)]))
        var newLines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if newLines.last == "" { newLines.removeLast() }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let hadTrailingNewline = text.hasSuffix("\n")
        if hadTrailingNewline { lines.removeLast() }
        let root = try root()
        if let pair = root.pairs!.first(where: { $0.key.scalar == key }) {
            let start = pair.key.mark.line - 1
            var end = start
            var j = start + 1
            while j < lines.count {
                let l = lines[j]
                let trimmed = l.drop(while: { $0 == " " })
                if trimmed.isEmpty || (l.first == "#") { j += 1; continue }
                if l.first == " " || l.hasPrefix("- ") || l == "-" { end = j; j += 1; continue }
                break
            }
            if newLines.count == 1, end == start, pair.value.scalar != nil, let comment = SpecEditor.trailingComment(lines[start], valueColumn: pair.value.mark.column) {
                newLines[0] += "  " + comment
            }
            lines.replaceSubrange(start...end, with: newLines)
        } else {
            while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
            lines += newLines
        }
        text = lines.joined(separator: "\n") + "\n"
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
        guard let pair = root.pairs!.first(where: { $0.key.scalar == key }) else { return }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { lines.removeLast() }
        let start = pair.key.mark.line - 1
        var end = start
        var j = start + 1
        while j < lines.count {
            let l = lines[j]
            if l.trimmingCharacters(in: .whitespaces).isEmpty || l.first == "#" { j += 1; continue }
            if l.first == " " || l.hasPrefix("- ") { end = j; j += 1; continue }
            break
        }
        lines.removeSubrange(start...end)
        text = lines.joined(separator: "\n") + "\n"
    }

    /// YAML text for a string value, quoted when a reader would take it for something else.
    public static func scalarText(_ s: String) -> String {
        let out = (try? YAMLEmitter.emit(.mapping([("v", .text(s))]))) ?? "v: \"\(s)\"\n"
        return String(out.dropFirst(3).dropLast())
    }

    /// The `# comment` after a one-line value, if any.
    static func trailingComment(_ line: String, valueColumn: Int) -> String? {
        let chars = Array(line)
        guard valueColumn - 1 < chars.count else { return nil }
        var i = valueColumn - 1
        var quote: Character? = nil
        if chars[i] == "\"" || chars[i] == "'" { quote = chars[i]; i += 1 }
        while i < chars.count {
            if let q = quote {
                if chars[i] == "\\" && q == "\"" { i += 2; continue }
                if chars[i] == q { quote = nil }
            } else if chars[i] == "#" && i > 0 && (chars[i - 1] == " " || chars[i - 1] == "\t") {
                return String(chars[i...])
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
