import Foundation

/// Free-form values (params, metrics, lineage) as plain data. Objects keep sorted keys when rendered,
/// so the same value always has the same canonical text (digests depend on it).
public enum JSONValue: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// Canonical JSON: sorted keys, no spaces, shortest round-trip numbers.
    public var canonicalJSON: String {
        var w = JSONWriter(pretty: false)
        write(into: &w)
        return w.text
    }

    /// Pretty JSON with sorted keys and two-space indent.
    public var prettyJSON: String {
        var w = JSONWriter(pretty: true, capacity: 4096)
        write(into: &w)
        return w.text
    }

    /// Writes this value (object keys sorted) into `w`.
    public func write(into w: inout JSONWriter) {
        switch self {
        case .null: w.null()
        case .bool(let b): w.bool(b)
        case .int(let i): w.int(i)
        case .double(let d): w.double(d)
        case .string(let s): w.string(s)
        case .array(let a):
            w.beginArray()
            for v in a { v.write(into: &w) }
            w.endArray()
        case .object(let o):
            w.beginObject()
            for k in o.keys.sorted() {
                w.key(k)
                o[k]!.write(into: &w)
            }
            w.endObject()
        }
    }

    /// A short human rendering for tables: strings bare, numbers compact.
    public var display: String {
        switch self {
        case .null: return "-"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return JSONValue.formatNumber(d)
        case .string(let s): return s
        default: return canonicalJSON
        }
    }

    /// How hone shows a number to people (tables, diffs, charts, diagnostics): whole numbers with one
    /// decimal (`2.0`, so a float reads as one), else up to 6 significant digits. The one display format;
    /// JSON and YAML write numbers exactly, and Mermaid charts need plain decimals (`MermaidChart.number`).
    public static func formatNumber(_ d: Double) -> String {
        if d == d.rounded() && abs(d) < 1e15 { return String(format: "%.1f", d) }
        return String(format: "%.6g", d)
    }

    /// `s` as a JSON string literal, escaped as every hone JSON output escapes it.
    public static func quote(_ s: String, into out: inout String) {
        var w = JSONWriter(pretty: false)
        w.string(s)
        out += w.text
    }

    /// Parses JSON text (Foundation's parser), keeping ints as ints.
    public static func parse(_ data: Data) throws -> JSONValue {
        let any = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        return from(any)
    }

    public static func from(_ any: Any) -> JSONValue {
        switch any {
        case is NSNull: return .null
        case let n as NSNumber:
            // objCType tells bools ("c"), integers and floating point ("d", "f") apart on every platform.
            let type = String(cString: n.objCType)
            if type == "c" || type == "B" { return .bool(n.boolValue) }
            if type == "d" || type == "f" { return .double(n.doubleValue) }
            return .int(n.intValue)
        case let s as String: return .string(s)
        case let a as [Any]: return .array(a.map(from))
        case let o as [String: Any]: return .object(o.mapValues(from))
        default: return .null
        }
    }
}
