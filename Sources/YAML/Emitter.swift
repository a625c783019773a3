import Foundation
internal import CYAML

// MARK: - Public API

/// An error from the YAML emitter (libyaml refused an event, or ran out of memory).
public struct YAMLEmitError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "YAML emit error: \(message)" }
}

/// Writes a node tree as one YAML document, deterministically.
///
/// Output format: block style, keys in the order given, 2-space indentation (libyaml writes a sequence
/// that is a mapping value "indentless": `key:\n- a`), unicode written as is, no line folding, no `---`
/// or `...` markers, and a trailing newline. Empty mappings and sequences are written in flow style
/// (`{}`, `[]`); every non-empty collection is written in block style, however short (one rule: diffs stay
/// one line per item).
///
/// Scalars:
/// - `.plain` style: written as is. Text that a YAML 1.1 reader resolves to null/bool/int/float (`42`,
///   `true`, `null`, `3.0`) stays plain and so stays typed — that is what `.int/.double/.bool/.null`
///   produce. Text that resolves to a string but is not safe as a plain scalar (`a: b`, `- x`, a newline,
///   leading spaces, ...) is double-quoted. NOTE: `.string("yes")` is therefore written `yes` and read
///   back as a bool — build user strings with ``Node/text(_:)``, which picks a safe style.
/// - Mapping keys with `.plain` style are always treated as strings: a key whose text would resolve to
///   another type (`yes`, `1`, `null`) is double-quoted, because `Node.mapping` builds keys with
///   `.string` and hone's keys are strings.
/// - `.singleQuoted`/`.doubleQuoted`: quoted (libyaml may switch single to double quotes when the text
///   needs escapes). `.literal` and `.folded`: a literal block (`|`); libyaml itself switches to double
///   quotes when a line has trailing spaces, a tab or a control character. Either way the text reads back
///   identically.
/// - Tags: the core tags (`!!str`, `!!int`, ... in short or `tag:yaml.org,2002:` form) are not written;
///   `!!str` makes a plain scalar follow the string rules, the others are written plain when the text
///   resolves to that type and with an explicit tag otherwise. Any other tag is written explicitly.
public enum YAMLEmitter {
    public static func emit(_ node: Node) throws -> String {
        let session = try EmitterSession()
        try session.emitDocument(node)
        var text = String(decoding: session.output, as: UTF8.self)
        // libyaml 0.2.5 closes an "open ended" document (a root plain scalar, a `|+` block) with `...`.
        // The marker carries no content at the end of a stream: drop it to keep the output marker-free.
        if text.hasSuffix("\n...\n") { text.removeLast(4) } else if text == "...\n" { text = "" }
        if !text.hasSuffix("\n") { text += "\n" }
        return text
    }
}

extension Node {
    /// A string scalar that reads back as exactly this string, whatever its text: **use `.text` for any
    /// user string** (names, paths, messages, hashes, versions...). `.string(_:)` makes a raw plain
    /// scalar, so `.string("yes")`, `.string("0123")`, `.string("")` or `.string("null")` would be read
    /// back as a bool, an int or null.
    ///
    /// The style is chosen by ``Node/textStyle(_:)``: double-quoted when the text would not read back as
    /// this string if written plain, a literal block when it has line breaks, plain otherwise.
    public static func text(_ s: String) -> Node { Node(.scalar(s, textStyle(s))) }

    /// The style `.text(s)` uses: `.plain`, `.doubleQuoted` or `.literal`.
    ///
    /// Double-quoted when: empty; leading or trailing whitespace; a tab, control character, BOM or a
    /// line break other than `\n` (`\r`, NEL, LS, PS); YAML 1.1 resolution to a non-string
    /// (`Node.resolvePlain`), or one of the other ambiguous plain forms (`y`/`n`, `=`, `<<`, something that
    /// looks like a timestamp `2024-01-31...` or a number `1.2.3`, `0x1G`); starts with an indicator
    /// (`- ? : , [ ] { } # & * ! | > ' " % @` and backquote) or a document marker (`---`, `...`);
    /// contains `: ` or ` #`, or ends with `:`.
    /// Checked in this order: a tab, control character or non-`\n` line break → double-quoted; else a
    /// `\n` → literal block (libyaml itself falls back to double quotes when a line has trailing spaces);
    /// else the rules above → double-quoted; else plain. Emoji and other non-BMP characters are written
    /// as `\U` escapes by libyaml 0.2.5 (it only treats BMP characters as printable) — still exact.
    public static func textStyle(_ s: String) -> ScalarStyle {
        if s.isEmpty { return .doubleQuoted }
        let scalars = s.unicodeScalars
        var hasNewline = false
        for u in scalars {
            switch u.value {
            case 0x0A: hasNewline = true
            case 0x09, 0x0D, 0x85, 0x2028, 0x2029, 0xFEFF: return .doubleQuoted
            case 0x00...0x1F, 0x7F...0x9F: return .doubleQuoted
            default: break
            }
        }
        if hasNewline {
            // A literal block keeps every character, but not leading/trailing-space lines of its own
            // making: libyaml handles indentation indicators and chomping itself.
            return .literal
        }
        if isAmbiguousPlain(s) { return .doubleQuoted }
        if !isSafePlainString(s) { return .doubleQuoted }
        return .plain
    }

    /// True when the text, written plain, might be read as something other than a string by a YAML 1.1
    /// reader (PyYAML, libyaml-based tools) or a YAML 1.2 reader.
    static func isAmbiguousPlain(_ s: String) -> Bool {
        if resolvePlain(s) != .string { return true }
        switch s {
        case "y", "Y", "n", "N", "=", "<<": return true
        default: break
        }
        let u = Array(s.unicodeScalars)
        func isDigit(_ i: Int) -> Bool { i < u.count && u[i].value >= 0x30 && u[i].value <= 0x39 }
        // Timestamps (PyYAML resolves `2024-01-31` to a date, `2024-1-2 3:04:05` to a datetime).
        if u.count >= 6, isDigit(0), isDigit(1), isDigit(2), isDigit(3), u[4] == "-", isDigit(5) { return true }
        // Number-like text (`1.2.3`, `0x1G`, `._`, `1_000e5`, `+.5`): quote anything made only of number
        // characters that starts like a number.
        var start = 0
        if u.first == "+" || u.first == "-" { start = 1 }
        if start < u.count, isDigit(start) || u[start] == "." {
            let numberish = Set("0123456789_.:+-eExXoObBabcdefABCDEF".unicodeScalars)
            if u.allSatisfy({ numberish.contains($0) }) { return true }
        }
        return false
    }

    /// True when a string (that resolves to a string) can be written as a plain scalar on one line and
    /// read back unchanged.
    static func isSafePlainString(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        if first == " " || last == " " { return false }
        if "-?:,[]{}#&*!|>'\"%@`".unicodeScalars.contains(first) { return false }
        if s.hasPrefix("---") || s.hasPrefix("...") { return false }
        if last == ":" { return false }
        if s.contains(": ") || s.contains(" #") { return false }
        for u in s.unicodeScalars {
            switch u.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0xFEFF: return false
            default: break
            }
        }
        return true
    }
}

// MARK: - libyaml emitter session

/// Owns one heap-allocated `yaml_emitter_t` (stable address) and the output buffer it writes into.
private final class EmitterSession {
    let emitter: UnsafeMutablePointer<yaml_emitter_t>
    var output: [UInt8] = []

    init() throws {
        emitter = UnsafeMutablePointer<yaml_emitter_t>.allocate(capacity: 1)
        emitter.initialize(to: yaml_emitter_t())
        guard yaml_emitter_initialize(emitter) != 0 else {
            emitter.deinitialize(count: 1)
            emitter.deallocate()
            throw YAMLEmitError("could not initialise the libyaml emitter (out of memory)")
        }
        output.reserveCapacity(4096)
        // The session outlives every emit call (they all happen inside emitDocument, on `self`).
        yaml_emitter_set_output(emitter, emitterWriteHandler, Unmanaged.passUnretained(self).toOpaque())
        yaml_emitter_set_encoding(emitter, YAML_UTF8_ENCODING)
        yaml_emitter_set_unicode(emitter, 1)
        yaml_emitter_set_width(emitter, -1)
        yaml_emitter_set_indent(emitter, 2)
        yaml_emitter_set_break(emitter, YAML_LN_BREAK)
        yaml_emitter_set_canonical(emitter, 0)
    }

    deinit {
        yaml_emitter_delete(emitter)
        emitter.deinitialize(count: 1)
        emitter.deallocate()
    }

    /// The one checking helper: every libyaml call that can fail goes through here.
    func check(_ result: Int32, _ what: @autoclosure () -> String) throws {
        guard result == 0 else { return }
        let e = emitter.pointee
        var detail: String
        if let problem = e.problem {
            detail = String(cString: problem)
        } else {
            switch e.error {
            case YAML_MEMORY_ERROR: detail = "out of memory"
            case YAML_WRITER_ERROR: detail = "write error"
            case YAML_NO_ERROR: detail = "invalid event data (not UTF-8?) or out of memory"
            default: detail = "emitter error"
            }
        }
        throw YAMLEmitError("\(what()): \(detail)")
    }

    /// Sends one freshly initialised event; the emitter takes ownership (never `yaml_event_delete` it).
    func emitEvent(_ what: @autoclosure () -> String, _ initialize: (UnsafeMutablePointer<yaml_event_t>) -> Int32) throws {
        var event = yaml_event_t()
        try check(initialize(&event), "creating \(what()) event")
        try check(yaml_emitter_emit(emitter, &event), "emitting \(what())")
    }

    func emitDocument(_ root: Node) throws {
        try emitEvent("stream start") { yaml_stream_start_event_initialize($0, YAML_UTF8_ENCODING) }
        try emitEvent("document start") { yaml_document_start_event_initialize($0, nil, nil, nil, 1) }
        try emitNode(root, isKey: false, depth: 0)
        try emitEvent("document end") { yaml_document_end_event_initialize($0, 1) }
        try emitEvent("stream end") { yaml_stream_end_event_initialize($0) }
        try check(yaml_emitter_flush(emitter), "flushing")
    }

    /// `depth` counts the collections around `node`: past the parser's limit the tree is refused, so
    /// hone never writes a file it would not read back (and the recursion stays shallow).
    func emitNode(_ node: Node, isKey: Bool, depth: Int) throws {
        if depth == YAMLParser.maxDepth, node.scalar == nil {
            throw YAMLEmitError("lists and mappings nest deeper than \(YAMLParser.maxDepth) levels: hone files allow at most \(YAMLParser.maxDepth)")
        }
        switch node.content {
        case .scalar(let text, let style):
            try emitScalar(text, style: style, tag: node.tag, isKey: isKey)
        case .sequence(let items):
            let tag = CoreTag(node.tag)
            let style = items.isEmpty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
            try withOptionalCString(tag.explicitTag) { tagPtr in
                try emitEvent("sequence start") {
                    yaml_sequence_start_event_initialize($0, nil, tagPtr, tagPtr == nil ? 1 : 0, style)
                }
            }
            for item in items { try emitNode(item, isKey: false, depth: depth + 1) }
            try emitEvent("sequence end") { yaml_sequence_end_event_initialize($0) }
        case .mapping(let pairs):
            let tag = CoreTag(node.tag)
            let style = pairs.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
            try withOptionalCString(tag.explicitTag) { tagPtr in
                try emitEvent("mapping start") {
                    yaml_mapping_start_event_initialize($0, nil, tagPtr, tagPtr == nil ? 1 : 0, style)
                }
            }
            for pair in pairs {
                try emitNode(pair.key, isKey: true, depth: depth + 1)
                try emitNode(pair.value, isKey: false, depth: depth + 1)
            }
            try emitEvent("mapping end") { yaml_mapping_end_event_initialize($0) }
        }
    }

    /// How to write one scalar: libyaml style, implicit flags and an optional explicit tag.
    func emitScalar(_ originalText: String, style: ScalarStyle, tag rawTag: String?, isKey: Bool) throws {
        var text = originalText
        let tag = CoreTag(rawTag)
        var explicitTag: String? = nil
        var yamlStyle: yaml_scalar_style_t
        var plainImplicit: Int32 = 1
        var quotedImplicit: Int32 = 1

        func stringStyle(_ style: ScalarStyle) -> yaml_scalar_style_t {
            switch style {
            case .plain:
                // A plain string that is not safe plain falls back to double quotes.
                return Node.textStyle(text) == .plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE
            case .singleQuoted: return YAML_SINGLE_QUOTED_SCALAR_STYLE
            case .doubleQuoted: return YAML_DOUBLE_QUOTED_SCALAR_STYLE
            case .literal, .folded: return YAML_LITERAL_SCALAR_STYLE
            }
        }

        switch tag {
        case .none, .core(.string):
            let treatAsString = isKey || tag == .core(.string)
            let resolved = style == .plain && !treatAsString ? Node.resolvePlain(text) : .string
            if resolved == .float {
                // A typed float: in a form every YAML 1.1 reader reads as a float (`1e+300` → `1.0e+300`).
                (text, explicitTag) = floatText(text)
                yamlStyle = YAML_PLAIN_SCALAR_STYLE
                if explicitTag != nil { plainImplicit = 0; quotedImplicit = 0 }
            } else if resolved != .string {
                // A typed scalar (`.int/.bool/.null` or a plain scalar read from a file): as is.
                yamlStyle = YAML_PLAIN_SCALAR_STYLE
            } else {
                yamlStyle = stringStyle(style)
                if yamlStyle != YAML_PLAIN_SCALAR_STYLE { plainImplicit = 0 }
            }
        case .core(let type):
            if style == .plain && Node.resolvePlain(text) == type {
                yamlStyle = YAML_PLAIN_SCALAR_STYLE
                if type == .float {
                    (text, explicitTag) = floatText(text)
                    if explicitTag != nil { plainImplicit = 0; quotedImplicit = 0 }
                }
            } else {
                // The text (or its quoting) would not read back as the tagged type: say it.
                explicitTag = "tag:yaml.org,2002:\(type.rawValue)"
                yamlStyle = style == .plain ? YAML_PLAIN_SCALAR_STYLE : stringStyle(style)
                plainImplicit = 0; quotedImplicit = 0
            }
        case .custom(let t):
            explicitTag = t
            yamlStyle = style == .plain ? YAML_PLAIN_SCALAR_STYLE : stringStyle(style)
            plainImplicit = 0; quotedImplicit = 0
        }

        let length = Int32(text.utf8.count)
        let finalStyle = yamlStyle
        try withOptionalCString(explicitTag) { tagPtr in
            try text.withCString { cText in
                let value = UnsafeRawPointer(cText).assumingMemoryBound(to: UInt8.self)
                try emitEvent("scalar") {
                    yaml_scalar_event_initialize($0, nil, tagPtr, value, length, plainImplicit, quotedImplicit, finalStyle)
                }
            }
        }
    }
}

/// The text to write for a plain scalar that resolves to a float (`Node.resolvePlain`), in PyYAML's
/// stricter float syntax (a dot in the mantissa, a signed exponent, no sign before a bare dot):
/// `1e+300` → `1.0e+300`, `1e-5` → `1.0e-5`, `1E3` → `1.0E+3`, `-.5` → `-0.5`, `.Inf` → `.inf`, `1_0.5` →
/// `10.5`. The value is unchanged. If no rewrite fits, the text is kept and an explicit `!!float` tag is
/// returned to write with it.
func floatText(_ s: String) -> (String, String?) {
    if isPyYAMLFloat(s) { return (s, nil) }
    switch s.lowercased() {
    case ".inf", "+.inf": return (".inf", nil)
    case "-.inf": return ("-.inf", nil)
    case ".nan": return (".nan", nil)
    default: break
    }
    var t = Substring(s.replacingOccurrences(of: "_", with: ""))
    var sign = ""
    if let f = t.first, f == "+" || f == "-" { sign = f == "-" ? "-" : ""; t = t.dropFirst() }
    var mantissa = String(t), exponent: String? = nil, e = "e"
    if let i = t.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = String(t[..<i]); e = String(t[i]); exponent = String(t[t.index(after: i)...])
    }
    if mantissa.hasPrefix(".") { mantissa = "0" + mantissa }
    if !mantissa.contains(".") { mantissa += ".0" }
    var out = sign + mantissa
    if var x = exponent {
        var xs = "+"
        if let f = x.first, f == "+" || f == "-" { xs = String(f); x.removeFirst() }
        out += e + xs + x
    }
    if isPyYAMLFloat(out) { return (out, nil) }
    return (s, "tag:yaml.org,2002:float")
}

/// PyYAML's implicit float resolver (YAML 1.1), hand-coded (a regex built per call dominated emitting):
///
///     [-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?
///   | \.[0-9_]+(?:[eE][-+][0-9]+)?
///   | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
///   | [-+]?\.(?:inf|Inf|INF)
///   | \.(?:nan|NaN|NAN)
func isPyYAMLFloat(_ s: String) -> Bool {
    var b = Substring(s).utf8[...]
    func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    func isDigitOrUnderscore(_ c: UInt8) -> Bool { isDigit(c) || c == UInt8(ascii: "_") }
    // Drops leading digits and underscores; returns how many.
    func dropDigits() -> Int {
        let n = b.prefix(while: isDigitOrUnderscore).count
        b = b.dropFirst(n)
        return n
    }
    // The rest is empty or an exponent `[eE][-+][0-9]+`.
    func atExponentOrEnd() -> Bool {
        guard let e = b.first else { return true }
        guard e == UInt8(ascii: "e") || e == UInt8(ascii: "E") else { return false }
        b = b.dropFirst()
        guard let sign = b.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return false }
        b = b.dropFirst()
        return !b.isEmpty && b.allSatisfy(isDigit)
    }
    if s == ".nan" || s == ".NaN" || s == ".NAN" { return true }
    var signed = false
    if let f = b.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") { b = b.dropFirst(); signed = true }
    if b.elementsEqual(".inf".utf8) || b.elementsEqual(".Inf".utf8) || b.elementsEqual(".INF".utf8) { return true }
    if b.first == UInt8(ascii: ".") {
        // `.5`, `.5e+3`: no sign allowed.
        b = b.dropFirst()
        return !signed && dropDigits() > 0 && atExponentOrEnd()
    }
    guard let first = b.first, isDigit(first) else { return false }
    _ = dropDigits()
    guard let next = b.first else { return false }
    if next == UInt8(ascii: ".") {
        b = b.dropFirst()
        _ = dropDigits()
        return atExponentOrEnd()
    }
    // Sexagesimal `1:20.5`, `1:02:03.`: one or more `:[0-5]?[0-9]`, then `.` and digits, no exponent.
    guard next == UInt8(ascii: ":") else { return false }
    while b.first == UInt8(ascii: ":") {
        b = b.dropFirst()
        guard let d1 = b.first, isDigit(d1) else { return false }
        b = b.dropFirst()
        if let d2 = b.first, isDigit(d2) {
            guard d1 <= UInt8(ascii: "5") else { return false }
            b = b.dropFirst()
        }
    }
    guard b.first == UInt8(ascii: ".") else { return false }
    b = b.dropFirst()
    _ = dropDigits()
    return b.isEmpty
}

/// The write handler: appends libyaml's output to the session's buffer.
private func emitterWriteHandler(_ data: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let session = Unmanaged<EmitterSession>.fromOpaque(data).takeUnretainedValue()
    if size > 0, let buffer {
        session.output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
    }
    return 1
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<UInt8>?) throws -> R) rethrows -> R {
    guard let s else { return try body(nil) }
    return try s.withCString { try body(UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self)) }
}

/// A node's tag, as the emitter sees it.
private enum CoreTag: Equatable {
    case none
    case core(ResolvedType)
    case custom(String)

    init(_ tag: String?) {
        guard let tag, !tag.isEmpty, tag != "!" else { self = .none; return }
        var name: Substring
        if tag.hasPrefix("tag:yaml.org,2002:") {
            name = tag.dropFirst("tag:yaml.org,2002:".count)
        } else if tag.hasPrefix("!!") {
            name = tag.dropFirst(2)
        } else {
            self = .custom(tag); return
        }
        switch name {
        case "str": self = .core(.string)
        case "int": self = .core(.int)
        case "float": self = .core(.float)
        case "bool": self = .core(.bool)
        case "null": self = .core(.null)
        case "map", "seq": self = .none
        default: self = .custom("tag:yaml.org,2002:\(name)")
        }
    }

    /// The tag to write on a collection (core collection tags are implicit).
    var explicitTag: String? {
        if case .custom(let t) = self { return t }
        return nil
    }
}
