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
        guard case .mapping(let pairs) = content else { return nil }
        let length = key.utf8.count  // O(1) for native strings: rules out most keys before comparing
        for i in pairs.indices {
            if case .scalar(let k, _) = pairs[i].key.content, k.utf8.count == length, k == key { return pairs[i].value }
        }
        return nil
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

    /// YAML 1.1 (PyYAML's) implicit resolvers for plain scalars. Works on the UTF-8 bytes: most scalars
    /// are decided by their first byte, without allocating.
    public static func resolvePlain(_ s: String) -> ResolvedType {
        var s = s
        return s.withUTF8 { resolvePlain(bytes: $0) }
    }

    static func resolvePlain(bytes b: UnsafeBufferPointer<UInt8>) -> ResolvedType {
        guard let c = b.first else { return .null }
        switch c {
        case UInt8(ascii: "~"):
            return b.count == 1 ? .null : .string
        case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "t"), UInt8(ascii: "T"),
             UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            guard b.count <= 5 else { return .string }
            let word = String(decoding: b, as: UTF8.self)
            switch word {
            case "null", "Null", "NULL": return .null
            // PyYAML reads y/n as strings, other YAML 1.1 readers as bools: strings here, and the
            // emitter quotes them so no reader can take them for bools.
            case "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
                 "on", "On", "ON", "off", "Off", "OFF":
                return .bool
            default: return .string
            }
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            if isYAMLInt(bytes: b) { return .int }
            if isYAMLFloat(bytes: b) { return .float }
            return .string
        default:
            return .string
        }
    }

    static func isYAMLInt(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { isYAMLInt(bytes: $0) }
    }

    static func isYAMLFloat(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { isYAMLFloat(bytes: $0) }
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
    private static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }

    /// `[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*|[0-9][0-9_]*(:[0-5]?[0-9])+)` (underscores ignored; 0123 included).
    /// Scans the bytes in place (underscores skipped): numbers are common in params.
    static func isYAMLInt(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        if let f = b.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { start = 1 }
        // The body without underscores: its first two bytes and its length.
        var count = 0
        var first: UInt8 = 0, second: UInt8 = 0
        for c in b[start...] where c != UInt8(ascii: "_") {
            if count == 0 { first = c } else if count == 1 { second = c }
            count += 1
        }
        guard count > 0 else { return false }
        let body = b[start...].lazy.filter { $0 != UInt8(ascii: "_") }
        if count >= 2 && first == UInt8(ascii: "0") && second == UInt8(ascii: "b") {
            return count > 2 && body.dropFirst(2).allSatisfy { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") }
        }
        if count >= 2 && first == UInt8(ascii: "0") && second == UInt8(ascii: "x") {
            return count > 2 && body.dropFirst(2).allSatisfy(isHex)
        }
        var allDigits = true, hasColon = false
        for c in body {
            if c == UInt8(ascii: ":") { hasColon = true; allDigits = false } else if !isDigit(c) { allDigits = false }
        }
        if allDigits { return true }
        // sexagesimal 1:30
        guard hasColon else { return false }
        var partLength = 0
        for c in body {
            if c == UInt8(ascii: ":") {
                if partLength == 0 { return false }
                partLength = 0
            } else if isDigit(c) { partLength += 1 } else { return false }
        }
        return partLength > 0
    }

    /// `[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?`, `1e3`, `.inf`, `.nan`.
    static func isYAMLFloat(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        if b.count <= 5, b.contains(UInt8(ascii: ".")) {
            let lower = String(decoding: b, as: UTF8.self).lowercased()
            if lower == ".inf" || lower == "+.inf" || lower == "-.inf" || lower == ".nan" { return true }
        }
        // Underscores are skipped where they stand.
        var i = 0
        func next() -> UInt8? {
            while i < b.count, b[i] == UInt8(ascii: "_") { i += 1 }
            return i < b.count ? b[i] : nil
        }
        if let f = next(), f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { i += 1 }
        var dots = 0, digits = 0
        while let c = next(), c != UInt8(ascii: "e") && c != UInt8(ascii: "E") {
            if c == UInt8(ascii: ".") { dots += 1 } else if isDigit(c) { digits += 1 } else { return false }
            i += 1
        }
        guard dots <= 1, digits > 0 else { return false }
        guard next() != nil else { return dots == 1 }
        i += 1  // the e
        if let c = next(), c == UInt8(ascii: "+") || c == UInt8(ascii: "-") { i += 1 }
        guard next() != nil else { return false }
        while let c = next() { if !isDigit(c) { return false }; i += 1 }
        return true
    }
}
