internal import CYAML
import Foundation

/// A problem found while reading YAML, with where it is.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var mark: Mark
    /// Extra lines for the reader ("first defined at 3:1"), shown after the source line.
    public var notes: [String]
    public init(_ message: String, at mark: Mark, notes: [String] = []) {
        self.message = message; self.mark = mark; self.notes = notes
    }
    public var description: String { "\(mark): \(message)" }
}

/// The result of reading one file: its single document (nil when empty) and every problem found.
/// A syntax error leaves `root` nil; structural problems (duplicate keys) keep the tree, first key winning.
public struct YAMLDocument: Sendable {
    public var root: Node?
    public var errors: [YAMLError]
}

/// Reads YAML with libyaml's event API, so every node keeps its line and column.
/// hone files hold exactly one object: multi-document streams, anchors and aliases are errors,
/// and only the core tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`) are accepted.
public enum YAMLParser {
    /// How deep collections may nest (the root collection is level 1). Checked on each start event,
    /// before a node exists, so every recursive walk over a tree (decoders, secret scans, the
    /// emitter, `==`, freeing the tree) stays within it; and parsing stops there, so a file nested
    /// 100,000 deep costs no more than one nested 513 deep. That also bounds libyaml's own cost:
    /// its scanner walks the whole stack of possible simple keys (one per open flow level) for every
    /// token, which is quadratic in flow depth. Real specs nest fewer than 10 levels.
    public static let maxDepth = 512

    public static func parse(_ text: String) -> YAMLDocument {
        var text = text
        return text.withUTF8 { parse(buffer: $0) }
    }

    public static func parse(_ bytes: [UInt8]) -> YAMLDocument {
        bytes.withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// Parses bytes that stay valid for the whole call (libyaml reads them in place, no copy).
    public static func parse(buffer: UnsafeBufferPointer<UInt8>) -> YAMLDocument {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        yaml_parser_initialize(parser)
        defer { yaml_parser_delete(parser) }
        // libyaml needs a non-null pointer even for empty input.
        var empty: UInt8 = 0
        withUnsafeMutablePointer(to: &empty) { e in
            yaml_parser_set_input_string(parser, buffer.baseAddress ?? UnsafePointer(e), buffer.count)
        }
        var builder = TreeBuilder()
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) == 1 else {
                builder.errors.append(syntaxError(parser, buffer, open: builder.innermostFlow))
                builder.sortErrors()
                return YAMLDocument(root: nil, errors: builder.errors)
            }
            let done = event.type == YAML_STREAM_END_EVENT
            builder.handle(&event)
            yaml_event_delete(&event)
            if builder.tooDeep {
                builder.sortErrors()
                return YAMLDocument(root: nil, errors: builder.errors)
            }
            if done { break }
        }
        builder.sortErrors()
        return YAMLDocument(root: builder.root, errors: builder.errors)
    }

    /// libyaml's problem, at its problem mark; when that mark is the end of input (an unterminated
    /// quote, an unclosed bracket) the context mark — or the bracket left open — is where to look.
    static func syntaxError(_ parser: UnsafeMutablePointer<yaml_parser_t>, _ input: UnsafeBufferPointer<UInt8>,
                            open flow: (mark: Mark, mapping: Bool)?) -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = p.context.map { String(cString: $0) }
        let pm = Mark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
        let cm = Mark(line: Int(p.context_mark.line) + 1, column: Int(p.context_mark.column) + 1)
        switch p.error {
        case YAML_READER_ERROR:
            let mark = markOf(offset: Int(p.problem_offset), in: input)
            if problem.contains("UTF-8") || problem.contains("UTF-16") {
                return YAMLError("the file is not valid UTF-8 text (\(problem)): hone files are UTF-8", at: mark)
            }
            return YAMLError("invalid character in the file: \(problem)", at: mark)
        case YAML_MEMORY_ERROR:
            return YAMLError("out of memory while reading YAML", at: Mark(line: 1, column: 1))
        default:
            let atEnd = Int(p.problem_mark.index) >= input.count
            if atEnd, let context, context.hasPrefix("while scanning") {
                return YAMLError("syntax error: \(context) (\(problem) at the end of the file)", at: cm)
            }
            if atEnd, let flow {
                let bracket = flow.mapping ? "{" : "["
                return YAMLError("syntax error: this \(bracket) is never closed (\(problem) at the end of the file)", at: flow.mark)
            }
            if atEnd, let context {
                return YAMLError("syntax error: \(context) (\(problem) at the end of the file)", at: cm)
            }
            var notes: [String] = []
            if let context, cm != pm { notes.append("\(context) at line \(cm.line), column \(cm.column)") }
            let message = context != nil && cm == pm ? "syntax error: \(context!): \(problem)" : "syntax error: \(problem)"
            return YAMLError(message, at: pm, notes: notes)
        }
    }

    /// Line and column (in characters) of a byte offset.
    static func markOf(offset: Int, in input: UnsafeBufferPointer<UInt8>) -> Mark {
        let end = min(max(offset, 0), input.count)
        var line = 1, lineStart = 0
        var i = 0
        while i < end {
            if input[i] == 10 { line += 1; lineStart = i + 1 }
            i += 1
        }
        // Characters, not bytes: count bytes that do not continue a UTF-8 sequence.
        var column = 1
        var j = lineStart
        if line == 1, end >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { j = 3 }
        while j < end { if input[j] & 0xC0 != 0x80 { column += 1 }; j += 1 }
        return Mark(line: line, column: column)
    }
}

// MARK: - Events → tree

/// Builds the tree from events with one flat stack of finished children and a stack of open
/// collections (no per-collection arrays copied on every append).
struct TreeBuilder {
    private struct Open {
        var mark: Mark
        var tag: String?
        var isMapping: Bool
        var isFlow: Bool
        var start: Int  // index of its first child in `children`
    }
    private var open: [Open] = []
    private var children: [Node] = []
    private var documents = 0
    var root: Node?
    var errors: [YAMLError] = []
    /// Set when a collection opened past `YAMLParser.maxDepth`: the tree is given up.
    private(set) var tooDeep = false

    /// The innermost flow collection still open (for errors at the end of input).
    var innermostFlow: (mark: Mark, mapping: Bool)? {
        guard let top = open.last(where: { $0.isFlow }) else { return nil }
        return (top.mark, top.isMapping)
    }

    mutating func sortErrors() {
        // Stable: errors at the same place keep their order.
        errors = errors.enumerated().sorted { ($0.element.mark, $0.offset) < ($1.element.mark, $1.offset) }.map(\.element)
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let p else { return nil }
        return String(cString: p)
    }

    private static let coreTags: Set<String> = [
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
    ]

    /// Checks a node's anchor and tag; returns the tag to keep.
    private mutating func properties(anchor: UnsafeMutablePointer<yaml_char_t>?, tag: UnsafeMutablePointer<yaml_char_t>?, at mark: Mark) -> String? {
        if let a = TreeBuilder.string(anchor) {
            errors.append(YAMLError("anchors are not supported in hone files (&\(a)): write the value out", at: mark))
        }
        guard let t = TreeBuilder.string(tag) else { return nil }
        if TreeBuilder.coreTags.contains(t) { return t }
        let shown = t.hasPrefix("tag:yaml.org,2002:") ? "!!" + t.dropFirst("tag:yaml.org,2002:".count) : t
        errors.append(YAMLError("unsupported tag \(shown): only !!str, !!int, !!float, !!bool and !!null are allowed", at: mark))
        return nil
    }

    mutating func handle(_ e: inout yaml_event_t) {
        let mark = Mark(line: Int(e.start_mark.line) + 1, column: Int(e.start_mark.column) + 1)
        switch e.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents == 2 {
                errors.append(YAMLError("a hone file holds one object: found a second YAML document (remove the `---` and what follows, or split it into another file)", at: mark))
            }
            return
        case YAML_STREAM_START_EVENT, YAML_STREAM_END_EVENT, YAML_DOCUMENT_END_EVENT: return
        default: break
        }
        // Whatever a second document holds is not read: its one error above is enough.
        guard documents <= 1 else { return }
        if e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT, open.count >= YAMLParser.maxDepth {
            tooDeep = true
            errors.append(YAMLError("nested too deeply: hone files allow at most \(YAMLParser.maxDepth) levels of lists and mappings", at: mark))
            return
        }
        switch e.type {
        case YAML_ALIAS_EVENT:
            let name = TreeBuilder.string(e.data.alias.anchor) ?? ""
            errors.append(YAMLError("aliases are not supported in hone files (*\(name)): write the value out", at: mark))
            add(Node(.scalar("", .plain), mark: mark))
        case YAML_SCALAR_EVENT:
            let s = e.data.scalar
            let tag = (s.anchor != nil || s.tag != nil) ? properties(anchor: s.anchor, tag: s.tag, at: mark) : nil
            let text = s.length == 0 ? "" : String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let style: ScalarStyle
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            add(Node(.scalar(text, style), mark: mark, tag: tag))
        case YAML_SEQUENCE_START_EVENT:
            let d = e.data.sequence_start
            let tag = (d.anchor != nil || d.tag != nil) ? properties(anchor: d.anchor, tag: d.tag, at: mark) : nil
            open.append(Open(mark: mark, tag: tag, isMapping: false, isFlow: d.style == YAML_FLOW_SEQUENCE_STYLE, start: children.count))
        case YAML_MAPPING_START_EVENT:
            let d = e.data.mapping_start
            let tag = (d.anchor != nil || d.tag != nil) ? properties(anchor: d.anchor, tag: d.tag, at: mark) : nil
            open.append(Open(mark: mark, tag: tag, isMapping: true, isFlow: d.style == YAML_FLOW_MAPPING_STYLE, start: children.count))
        case YAML_SEQUENCE_END_EVENT:
            guard let o = open.popLast() else { return }
            let items = Array(children[o.start...])
            children.removeSubrange(o.start...)
            add(Node(.sequence(items), mark: o.mark, tag: o.tag))
        case YAML_MAPPING_END_EVENT:
            guard let o = open.popLast() else { return }
            let pairs = mappingPairs(from: o.start)
            children.removeSubrange(o.start...)
            add(Node(.mapping(pairs), mark: o.mark, tag: o.tag))
        default: break
        }
    }

    /// Pairs of the mapping whose keys and values alternate in `children[start...]`; duplicate and
    /// non-scalar keys are reported and dropped (the first definition wins).
    private mutating func mappingPairs(from start: Int) -> [Pair] {
        var pairs: [Pair] = []
        pairs.reserveCapacity((children.count - start) / 2)
        var seen: [String: Mark] = [:]
        let useDictionary = children.count - start > 32
        // Small mappings: compared with the keys kept so far (cheaper than hashing them).
        var i = start
        while i + 1 < children.count {
            let key = children[i], value = children[i + 1]
            i += 2
            guard case .scalar(let text, _) = key.content else {
                errors.append(YAMLError("a mapping key must be a plain value, not \(key.kindDescription)", at: key.mark))
                continue
            }
            let first: Mark?
            if useDictionary {
                first = seen[text]
                if first == nil { seen[text] = key.mark }
            } else {
                let length = text.utf8.count
                first = pairs.first(where: {
                    if case .scalar(let k, _) = $0.key.content { return k.utf8.count == length && k == text }
                    return false
                })?.key.mark
            }
            if let first {
                errors.append(YAMLError("duplicate key \"\(text)\" (first defined at line \(first.line), column \(first.column)): remove one of them", at: key.mark))
                continue
            }
            pairs.append(Pair(key: key, value: value))
        }
        return pairs
    }

    private mutating func add(_ node: Node) {
        if open.isEmpty {
            if documents <= 1 && root == nil { root = node }
        } else {
            children.append(node)
        }
    }
}
