/// A position in a YAML source: 1-based line and column (columns count characters, not bytes).
public struct Mark: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public static let none = Mark(line: 0, column: 0)
    public static func < (a: Mark, b: Mark) -> Bool { (a.line, a.column) < (b.line, b.column) }
    public var description: String { "\(line):\(column)" }
}

/// How a scalar was written. Only plain scalars are subject to type resolution (`yes`, `0123`, `~`).
public enum ScalarStyle: Sendable, Hashable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

/// What a plain scalar resolves to under YAML 1.1 rules (what PyYAML and most tools would read).
public enum ResolvedType: String, Sendable, Hashable {
    case null, bool, int, float, string
}

/// One node of a YAML document, with where it starts in the source.
public struct Node: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case scalar(String, ScalarStyle)
        case mapping([Pair])
        case sequence([Node])
    }
    public var content: Content
    public var mark: Mark
    /// An explicit tag (`!!str`), if the source had one.
    public var tag: String?

    public init(_ content: Content, mark: Mark = .none, tag: String? = nil) {
        self.content = content; self.mark = mark; self.tag = tag
    }
}

/// A mapping entry. Keys are nodes so that they keep their marks.
public struct Pair: Sendable, Equatable {
    public var key: Node
    public var value: Node
    public init(key: Node, value: Node) { self.key = key; self.value = value }
}

// MARK: - Building nodes (for the emitter)

extension Node {
    public static func string(_ s: String) -> Node { Node(.scalar(s, .plain)) }
    public static func int(_ i: Int) -> Node { Node(.scalar(String(i), .plain)) }
    public static func double(_ d: Double) -> Node { Node(.scalar(formatDouble(d), .plain)) }
    public static func bool(_ b: Bool) -> Node { Node(.scalar(b ? "true" : "false", .plain)) }
    public static let null = Node(.scalar("null", .plain))
    public static func sequence(_ items: [Node]) -> Node { Node(.sequence(items)) }
    /// A mapping in the given key order (the emitter keeps it).
    public static func mapping(_ entries: [(String, Node)]) -> Node {
        Node(.mapping(entries.map { Pair(key: .string($0.0), value: $0.1) }))
    }

    /// Shortest text that reads back as the same Double and as a YAML float (never as an int).
    public static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d > 0 ? ".inf" : "-.inf" }
        var s = "\(d)"
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }), !s[..<e].contains(".") {
            s.insert(contentsOf: ".0", at: e)  // 1e-05 reads as a string in YAML 1.1; 1.0e-05 as a float
        } else if !s.contains(".") && !s.contains("e") { s += ".0" }
        return s
    }
}

// MARK: - Reading nodes

extension Node {
    /// The scalar's text, whatever its style; nil for collections.
    public var scalar: String? {
        if case .scalar(let s, _) = content { return s }
        return nil
    }
    public var style: ScalarStyle? {
        if case .scalar(_, let st) = content { return st }
        return nil
    }
    public var pairs: [Pair]? {
        if case .mapping(let p) = content { return p }
        return nil
    }
    public var items: [Node]? {
        if case .sequence(let i) = content { return i }
        return nil
    }
    /// The value under a string key of a mapping (first match).
    public subscript(key: String) -> Node? {
        pairs?.first(where: { $0.key.scalar == key })?.value
    }
    /// "a scalar", "a mapping" or "a list": for error messages.
    public var kindDescription: String {
        switch content {
        case .scalar: return resolvedType == .null ? "null" : "a \(resolvedType.rawValue == "int" ? "number" : resolvedType.rawValue)"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// YAML 1.1 resolution of this scalar (quoted and block scalars are always strings).
    public var resolvedType: ResolvedType {
        guard case .scalar(let s, let style) = content else { return .string }
        if let tag {
            switch tag {
            case "tag:yaml.org,2002:str", "!!str": return .string
            case "tag:yaml.org,2002:int", "!!int": return .int
            case "tag:yaml.org,2002:float", "!!float": return .float
            case "tag:yaml.org,2002:bool", "!!bool": return .bool
            case "tag:yaml.org,2002:null", "!!null": return .null
            default: break
            }
        }
        guard style == .plain else { return .string }
        return Node.resolvePlain(s)
    }

    /// YAML 1.1 (PyYAML's) implicit resolvers for plain scalars.
    public static func resolvePlain(_ s: String) -> ResolvedType {
        if s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL" { return .null }
        switch s {
        case "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
             "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N":
            // PyYAML reads y/n as strings, other YAML 1.1 readers as bools: strings here, and the
            // emitter quotes them so no reader can take them for bools.
            return (s == "y" || s == "Y" || s == "n" || s == "N") ? .string : .bool
        default: break
        }
        if isYAMLInt(s) { return .int }
        if isYAMLFloat(s) { return .float }
        return .string
    }

    static func isYAMLInt(_ s: String) -> Bool {
        var t = Substring(s)
        if t.first == "+" || t.first == "-" { t = t.dropFirst() }
        if t.isEmpty { return false }
        let body = t.replacingOccurrences(of: "_", with: "")
        if body.isEmpty { return false }
        if body.hasPrefix("0b") { return body.count > 2 && body.dropFirst(2).allSatisfy { $0 == "0" || $0 == "1" } }
        if body.hasPrefix("0x") { return body.count > 2 && body.dropFirst(2).allSatisfy { $0.isHexDigit } }
        if body.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }  // includes 0123 (octal in 1.1)
        // sexagesimal 1:30
        if body.contains(":") {
            let parts = body.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count >= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        }
        return false
    }

    static func isYAMLFloat(_ s: String) -> Bool {
        let lower = s.lowercased()
        if [".inf", "+.inf", "-.inf", ".nan"].contains(lower) { return true }
        var t = Substring(s.replacingOccurrences(of: "_", with: ""))
        if t.first == "+" || t.first == "-" { t = t.dropFirst() }
        // [0-9]*\.[0-9]*([eE][-+][0-9]+)? with at least one digit; also 1e3 (YAML 1.2 / many readers).
        var mantissa = t
        var exponent: Substring? = nil
        if let e = t.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = t[..<e]
            exponent = t[t.index(after: e)...]
        }
        let digitsDots = mantissa.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "." }
        let dots = mantissa.filter { $0 == "." }.count
        let hasDigit = mantissa.contains { $0.isASCII && $0.isNumber }
        guard digitsDots, dots <= 1, hasDigit else { return false }
        if let exp = exponent {
            var x = exp
            if x.first == "+" || x.first == "-" { x = x.dropFirst() }
            return !x.isEmpty && x.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return dots == 1
    }
}

import Foundation

