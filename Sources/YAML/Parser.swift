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
    public static func parse(_ text: String) -> YAMLDocument { parse(Array(text.utf8)) }

    public static func parse(_ bytes: [UInt8]) -> YAMLDocument {
        let reader = EventReader(bytes)
        var builder = TreeBuilder()
        while true {
            let event: Event
            do { event = try reader.next() } catch {
                builder.errors.append(error)
                return YAMLDocument(root: nil, errors: builder.errors)
            }
            if case .streamEnd = event.kind { break }
            builder.handle(event)
        }
        return YAMLDocument(root: builder.root, errors: builder.errors)
    }
}

// MARK: - Events copied out of libyaml

struct Event {
    enum Kind {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias
        case scalar(String, ScalarStyle)
        case sequenceStart, sequenceEnd, mappingStart, mappingEnd
    }
    var kind: Kind
    var mark: Mark
    var anchor: String?
    var tag: String?
}

/// Owns the libyaml parser and the input bytes it reads (they must outlive every parse call).
final class EventReader {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>

    init(_ bytes: [UInt8]) {
        parser = .allocate(capacity: 1)
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    func next() throws(YAMLError) -> Event {
        var raw = yaml_event_t()
        guard yaml_parser_parse(parser, &raw) == 1 else { throw currentError() }
        defer { yaml_event_delete(&raw) }
        let mark = Mark(line: Int(raw.start_mark.line) + 1, column: Int(raw.start_mark.column) + 1)
        func str(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            guard let p else { return nil }
            return String(cString: p)
        }
        switch raw.type {
        case YAML_STREAM_START_EVENT: return Event(kind: .streamStart, mark: mark)
        case YAML_STREAM_END_EVENT: return Event(kind: .streamEnd, mark: mark)
        case YAML_DOCUMENT_START_EVENT: return Event(kind: .documentStart, mark: mark)
        case YAML_DOCUMENT_END_EVENT: return Event(kind: .documentEnd, mark: mark)
        case YAML_ALIAS_EVENT: return Event(kind: .alias, mark: mark, anchor: str(raw.data.alias.anchor))
        case YAML_SCALAR_EVENT:
            let s = raw.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let style: ScalarStyle
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            return Event(kind: .scalar(text, style), mark: mark, anchor: str(s.anchor), tag: str(s.tag))
        case YAML_SEQUENCE_START_EVENT:
            return Event(kind: .sequenceStart, mark: mark, anchor: str(raw.data.sequence_start.anchor), tag: str(raw.data.sequence_start.tag))
        case YAML_SEQUENCE_END_EVENT: return Event(kind: .sequenceEnd, mark: mark)
        case YAML_MAPPING_START_EVENT:
            return Event(kind: .mappingStart, mark: mark, anchor: str(raw.data.mapping_start.anchor), tag: str(raw.data.mapping_start.tag))
        case YAML_MAPPING_END_EVENT: return Event(kind: .mappingEnd, mark: mark)
        default: return Event(kind: .streamEnd, mark: mark)
        }
    }

    /// libyaml's problem, at its problem mark; when that mark is the end of input (an unterminated
    /// quote, say) the context mark is where the reader should look.
    private func currentError() -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "invalid YAML"
        let context = p.context.map { String(cString: $0) }
        let pm = Mark(line: Int(p.problem_mark.line) + 1, column: Int(p.problem_mark.column) + 1)
        let cm = Mark(line: Int(p.context_mark.line) + 1, column: Int(p.context_mark.column) + 1)
        switch p.error {
        case YAML_READER_ERROR:
            return YAMLError("invalid input: \(problem) (byte offset \(p.problem_offset))", at: Mark(line: 1, column: 1))
        case YAML_MEMORY_ERROR:
            return YAMLError("out of memory while reading YAML", at: Mark(line: 1, column: 1))
        default:
            let atEnd = p.problem_mark.index >= input.count && context != nil
            var message = "syntax error: \(problem)"
            var notes: [String] = []
            if let context {
                if atEnd { message = "syntax error: \(context) (\(problem))" }
                else { notes.append("\(context) at line \(cm.line), column \(cm.column)") }
            }
            return YAMLError(message, at: atEnd ? cm : pm, notes: notes)
        }
    }
}

// MARK: - Events → tree

struct TreeBuilder {
    private enum Frame {
        case sequence(Node, [Node])
        case mapping(Node, [Pair], pendingKey: Node?, seen: [String: Mark])
    }
    private var stack: [Frame] = []
    private var documents = 0
    var root: Node?
    var errors: [YAMLError] = []

    private static let coreTags: Set<String> = [
        "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
    ]

    mutating func handle(_ event: Event) {
        if event.anchor != nil, case .alias = event.kind {} else if let anchor = event.anchor {
            errors.append(YAMLError("anchors are not supported in hone files (&\(anchor)): write the value out", at: event.mark))
        }
        var tag = event.tag
        if let t = tag, !TreeBuilder.coreTags.contains(t) {
            errors.append(YAMLError("unsupported tag \(t): only !!str, !!int, !!float, !!bool and !!null are allowed", at: event.mark))
            tag = nil
        }
        switch event.kind {
        case .streamStart, .streamEnd, .documentEnd: break
        case .documentStart:
            documents += 1
            if documents == 2 {
                errors.append(YAMLError("a hone file holds one object: found a second YAML document", at: event.mark))
            }
        case .alias:
            errors.append(YAMLError("aliases are not supported in hone files (*\(event.anchor ?? "")): write the value out", at: event.mark))
            add(Node(.scalar("", .plain), mark: event.mark))
        case .scalar(let text, let style):
            add(Node(.scalar(text, style), mark: event.mark, tag: tag))
        case .sequenceStart:
            stack.append(.sequence(Node(.sequence([]), mark: event.mark, tag: tag), []))
        case .mappingStart:
            stack.append(.mapping(Node(.mapping([]), mark: event.mark, tag: tag), [], pendingKey: nil, seen: [:]))
        case .sequenceEnd:
            guard case .sequence(var node, let items)? = stack.popLast() else { return }
            node.content = .sequence(items)
            add(node)
        case .mappingEnd:
            guard case .mapping(var node, let pairs, _, _)? = stack.popLast() else { return }
            node.content = .mapping(pairs)
            add(node)
        }
    }

    private mutating func add(_ node: Node) {
        guard let top = stack.popLast() else {
            if documents <= 1 { root = node }
            return
        }
        switch top {
        case .sequence(let seq, var items):
            items.append(node)
            stack.append(.sequence(seq, items))
        case .mapping(let map, var pairs, let pendingKey, var seen):
            if let key = pendingKey {
                let text = key.scalar ?? ""
                if key.scalar == nil {
                    errors.append(YAMLError("a mapping key must be a plain value, not \(key.kindDescription)", at: key.mark))
                } else if let first = seen[text] {
                    errors.append(YAMLError("duplicate key \"\(text)\" (first defined at line \(first.line), column \(first.column))", at: key.mark))
                } else {
                    seen[text] = key.mark
                    pairs.append(Pair(key: key, value: node))
                }
                stack.append(.mapping(map, pairs, pendingKey: nil, seen: seen))
            } else {
                stack.append(.mapping(map, pairs, pendingKey: node, seen: seen))
            }
        }
    }
}
