import HoneModel
import YAML

/// Reads the fields of one mapping node, reporting every problem to a sink: wrong types, unknown keys
/// (with "did you mean"), missing required fields. Callers ask for each known key once, then call
/// `finish()` to report the keys nobody asked for.
struct Fields {
    let node: Node
    private(set) var known: [String] = []
    /// Required fields found missing, reported by `finish()` unless an unknown key is their misspelling
    /// (then the unknown key, with its "did you mean", is the one diagnostic).
    private var missing: [(keys: [String], message: String, mark: Mark)] = []
    let report: FileReport

    init?(_ node: Node, what: String, report: FileReport) {
        guard node.pairs != nil else {
            report.error("\(what) must be a mapping, found \(node.kindDescription)", at: node.mark)
            return nil
        }
        self.node = node
        self.report = report
        known.reserveCapacity(16)
    }

    func error(_ message: String, at mark: Mark, notes: [String] = []) { report.error(message, at: mark, notes: notes) }
    func warning(_ message: String, at mark: Mark) { report.warning(message, at: mark) }

    /// The value node of a key (and marks the key as known).
    mutating func raw(_ key: String) -> Node? {
        known.append(key)
        return node[key]
    }

    mutating func require(_ key: String) -> Node? {
        guard let v = raw(key) else {
            missing.append(([key], "missing required field \"\(key)\"", node.mark))
            return nil
        }
        if v.isNullScalar {
            error("missing value for the required field \"\(key)\"", at: v.mark)
            return nil
        }
        return v
    }

    /// A problem about absent keys, reported by `finish()` unless an unknown key is a misspelling of one of them.
    mutating func missing(_ keys: [String], _ message: String, at mark: Mark) {
        missing.append((keys, message, mark))
    }

    /// A string field. Plain scalars that a YAML 1.1 reader would take as another type (`no`, `0123`,
    /// `1e3`) are accepted as their text only when `lenient` (free text such as descriptions) —
    /// otherwise they are an error asking for quotes, since other tools would read a different value.
    mutating func string(_ key: String, required: Bool = false, lenient: Bool = false) -> String? {
        guard let v = required ? require(key) : raw(key) else { return nil }
        return Fields.string(v, key: key, lenient: lenient, fields: &self)
    }

    static func string(_ v: Node, key: String, lenient: Bool, fields: inout Fields) -> String? {
        guard let s = v.scalar else {
            fields.error("\"\(key)\" must be a string, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        if v.isNullScalar { return nil }
        let t = v.resolvedType
        if t != .string && !lenient {
            fields.error("\"\(key)\" must be a string, but \(s) reads as a \(t == .int ? "number" : t.rawValue) in YAML: write \"\(s)\" in quotes", at: v.mark)
            return nil
        }
        return s
    }

    mutating func int(_ key: String, min: Int? = nil) -> Int? {
        guard let v = raw(key), !v.isNullScalar else { return nil }
        guard let s = v.scalar, v.resolvedType == .int else {
            error("\"\(key)\" must be a whole number, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        let (value, ambiguity) = Fields.integer(s)
        if let ambiguity { error("\"\(key)\": \(ambiguity)", at: v.mark); return nil }
        guard let i = value else { error("\"\(key)\": \(s) is too large", at: v.mark); return nil }
        if let min, i < min { error("\"\(key)\" must be at least \(min), found \(i)", at: v.mark); return nil }
        return i
    }

    /// The value of a plain scalar that resolves as an int. Forms that YAML readers disagree on
    /// (`0123`: octal 83 in YAML 1.1, 123 in 1.2; `1:30`: 90 in 1.1, a string in 1.2) give no value
    /// but the reason, so that the user writes what they mean.
    static func integer(_ s: String) -> (Int?, ambiguity: String?) {
        // The common case first: plain decimal digits without a leading zero.
        let u = s.utf8
        if let f = u.first, f >= 49 && f <= 57 || u.count == 1, u.count <= 18, u.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            return (u.reduce(0) { $0 * 10 + Int($1 - 48) }, nil)
        }
        var t = Substring(s)
        if s.utf8.contains(95) { t = Substring(s.filter { $0 != "_" }) }
        var negative = false
        if t.first == "-" || t.first == "+" { negative = t.first == "-"; t = t.dropFirst() }
        let magnitude: Int?
        if t.hasPrefix("0x") { magnitude = Int(t.dropFirst(2), radix: 16) }
        else if t.hasPrefix("0b") { magnitude = Int(t.dropFirst(2), radix: 2) }
        else if t.utf8.contains(58) {
            let value = base60(t).map { " (\($0))" } ?? ""
            return (nil, "\(s) is a base-60 number\(value) for some YAML readers and text for others: write the number, or \"\(s)\" in quotes")
        } else if t.count > 1 && t.hasPrefix("0") {
            let octal = Int(t, radix: 8).map { " (\($0))" } ?? ""
            return (nil, "\(s) is octal\(octal) for some YAML readers and decimal for others: write it without the leading zero, or \"\(s)\" in quotes")
        } else { magnitude = Int(t) }
        return (magnitude.map { negative ? -$0 : $0 }, nil)
    }

    /// `1:30` → 90; nil when the value does not fit an Int (`88888888888088:88888888` must not trap).
    static func base60(_ t: Substring) -> Int? {
        var value = 0
        for part in t.split(separator: ":") {
            let (times, o1) = value.multipliedReportingOverflow(by: 60)
            let (sum, o2) = times.addingReportingOverflow(Int(part) ?? 0)
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    mutating func double(_ key: String, min: Double? = nil) -> Double? {
        guard let v = raw(key), !v.isNullScalar else { return nil }
        guard let s = v.scalar, v.resolvedType == .int || v.resolvedType == .float,
              let d = Fields.number(s) else {
            error("\"\(key)\" must be a number, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        if let min, d < min { error("\"\(key)\" must be at least \(JSONValue.formatNumber(min)), found \(s)", at: v.mark); return nil }
        return d
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let v = raw(key), !v.isNullScalar else { return nil }
        guard let s = v.scalar, v.resolvedType == .bool else {
            error("\"\(key)\" must be true or false, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        return ["true", "yes", "on"].contains(s.lowercased())
    }

    /// A list of strings.
    mutating func strings(_ key: String) -> [String]? {
        guard let v = raw(key), !v.isNullScalar else { return nil }
        guard let items = v.items else {
            error("\"\(key)\" must be a list, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        var out: [String] = []
        for item in items {
            if let s = Fields.string(item, key: "\(key) item", lenient: false, fields: &self) { out.append(s) }
        }
        return out
    }

    /// A mapping of string to string (env).
    mutating func stringMap(_ key: String) -> [(key: String, value: String, mark: Mark)]? {
        guard let v = raw(key), !v.isNullScalar else { return nil }
        guard let pairs = v.pairs else {
            error("\"\(key)\" must be a mapping, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        var out: [(String, String, Mark)] = []
        for p in pairs {
            guard let k = p.key.scalar else { continue }
            guard let s = p.value.scalar, p.value.items == nil else {
                error("\"\(key).\(k)\" must be a string, found \(p.value.kindDescription)", at: p.value.mark)
                continue
            }
            out.append((k, s, p.value.mark))
        }
        return out
    }

    /// A free-form mapping (params), converted to JSON values. Plain scalars that YAML readers take
    /// differently (`yes`, `on`, `0123`, `1:30`) are errors asking for the unambiguous form.
    mutating func json(_ key: String) -> [String: JSONValue]? {
        guard let v = raw(key), !v.isNullScalar else { return nil }
        guard v.pairs != nil else {
            error("\"\(key)\" must be a mapping, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        return Fields.jsonValue(v, report: report, path: { key }).objectValue
    }

    /// `params`: a free-form mapping a handler receives as JSON in job.json. JSON has no infinity or
    /// NaN and its readers hold integers in 64 bits, so a value it cannot carry exactly is an error
    /// here, not a `null` or a string in the handler's hands.
    mutating func params(_ key: String) -> [String: JSONValue]? {
        guard let value = json(key) else { return nil }
        if let node = raw(key) { Fields.checkCarriedByJSON(node, report: report, path: key) }
        return value
    }

    static func checkCarriedByJSON(_ n: Node, report: FileReport, path: String) {
        switch n.content {
        case .scalar(let s, _):
            switch n.resolvedType {
            case .int:
                let (value, ambiguity) = integer(s)
                if value == nil && ambiguity == nil {
                    report.error("\"\(path)\": \(s) does not fit in a 64-bit integer, so job.json cannot carry it exactly: write a smaller number, or \"\(s)\" in quotes for a string", at: n.mark)
                }
            case .float:
                if let d = number(s), !d.isFinite {
                    report.error("\"\(path)\": \(s) is not a finite number and JSON (job.json) has none: write a finite number, or \"\(s)\" in quotes for a string", at: n.mark)
                }
            case .null, .bool, .string: return
            }
        case .sequence(let items):
            for (i, item) in items.enumerated() { checkCarriedByJSON(item, report: report, path: "\(path)[\(i)]") }
        case .mapping(let pairs):
            for p in pairs { if let k = p.key.scalar { checkCarriedByJSON(p.value, report: report, path: "\(path).\(k)") } }
        }
    }

    /// A number's value (ints and floats, `_` separators, `.inf`, `.nan`).
    static func number(_ s: String) -> Double? {
        let t = s.utf8.contains(95) ? s.filter { $0 != "_" } : s
        if t.utf8.count <= 5 && t.utf8.contains(UInt8(ascii: ".")) && t.utf8.contains(where: { $0 | 0x20 == UInt8(ascii: "n") }) {
            switch t.lowercased() {
            case ".inf", "+.inf": return .infinity
            case "-.inf": return -.infinity
            case ".nan": return .nan
            default: break
            }
        }
        if Node.resolvePlain(t) == .int, let i = integer(t).0 { return Double(i) }
        return Double(t)
    }

    /// `path` (for messages) is only put together when there is something to report.
    static func jsonValue(_ n: Node, report: FileReport? = nil, path: () -> String = { "" }) -> JSONValue {
        switch n.content {
        case .scalar(let s, _):
            switch n.resolvedType {
            case .null: return .null
            case .bool:
                let lower = s.lowercased()
                if n.tag == nil && n.style == .plain && lower != "true" && lower != "false" {
                    report?.error("\"\(path())\": \(s) is a boolean for some YAML readers and text for others: write true or false, or \"\(s)\" in quotes", at: n.mark)
                }
                return .bool(["true", "yes", "on"].contains(lower))
            case .int:
                let (value, ambiguity) = integer(s)
                if let ambiguity { report?.error("\"\(path())\": \(ambiguity)", at: n.mark) }
                if let value { return .int(value) }
                return .string(s)
            case .float:
                return number(s).map(JSONValue.double) ?? .string(s)
            case .string: return .string(s)
            }
        case .sequence(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() { out.append(jsonValue(item, report: report, path: { "\(path())[\(i)]" })) }
            return .array(out)
        case .mapping(let pairs):
            var o: [String: JSONValue] = [:]
            o.reserveCapacity(pairs.count)
            for p in pairs { if let k = p.key.scalar { o[k] = jsonValue(p.value, report: report, path: { "\(path()).\(k)" }) } }
            return .object(o)
        }
    }

    /// Reports keys nobody asked for, with the closest known key, and the required fields that are missing
    /// (a misspelled required key is one problem: the unknown key, not also the missing one).
    mutating func finish(context: String = "") {
        var suggested: Set<String> = []
        for p in node.pairs ?? [] {
            // Literal secrets are reported once, by the secret scan.
            guard let k = p.key.scalar, !known.contains(where: { $0.utf8.count == k.utf8.count && $0 == k }),
                  !Secrets.isLiteralSecret(key: k, value: p.value) else { continue }
            let suggestion = NearMiss.suggestion(for: k, among: known)
            if let suggestion { suggested.insert(suggestion) }
            error("unknown field \"\(context)\(k)\"\(suggestion.map { " (did you mean \"\($0)\"?)" } ?? "")", at: p.key.mark)
        }
        for m in missing where !m.keys.contains(where: suggested.contains) {
            error(m.message, at: m.mark)
        }
        missing = []
    }
}

/// The diagnostics of one file, shared by the readers of its nested mappings.
final class FileReport {
    let path: String
    private(set) var items: [Diagnostic] = []
    /// Checks waiting for every publishing run to be read (see `ReferenceContext.resolveDeferred`).
    var deferred: [DeferredReference] = []
    init(path: String) { self.path = path }
    func error(_ message: String, at mark: Mark, notes: [String] = []) {
        items.append(Diagnostic(.error, path: path, mark: mark, message: message, notes: notes))
    }
    func warning(_ message: String, at mark: Mark, notes: [String] = []) {
        items.append(Diagnostic(.warning, path: path, mark: mark, message: message, notes: notes))
    }
    var hasErrors: Bool { items.contains { $0.isError } }
}

extension Node {
    var isNullScalar: Bool {
        if case .scalar = content, resolvedType == .null { return true }
        return false
    }
}
