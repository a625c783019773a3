import Foundation

/// How to read one summary metric, as a handler says in summary.json's `_meta` (specs/handler-kit.md):
/// a quality measure (compared, ranked, charted), a count (samples, tokens: shown only) or other info.
public struct MetricAnnotation: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case metric, count, info }
    public enum Direction: String, Sendable, CaseIterable { case min, max }
    public var kind: Kind
    public var direction: Direction?
    public var unit: String?
    public init(kind: Kind = .metric, direction: Direction? = nil, unit: String? = nil) {
        self.kind = kind; self.direction = direction; self.unit = unit
    }

    /// The annotations of a `_meta` object; entries that are not objects, and unknown values, are skipped
    /// (the kit refuses them before they are written; a hand-written summary must not stop collection).
    public static func parse(_ meta: JSONValue?) -> [String: MetricAnnotation] {
        guard case .object(let o)? = meta else { return [:] }
        var out: [String: MetricAnnotation] = [:]
        for (name, v) in o {
            guard case .object(let a) = v else { continue }
            let kind = a["kind"]?.stringValue.flatMap(Kind.init) ?? .metric
            out[name] = MetricAnnotation(kind: kind, direction: a["direction"]?.stringValue.flatMap(Direction.init), unit: a["unit"]?.stringValue)
        }
        return out
    }

    /// As recorded in a status (`metricsMeta:`) and written in `_meta`.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["kind": .string(kind.rawValue)]
        if let direction { o["direction"] = .string(direction.rawValue) }
        if let unit { o["unit"] = .string(unit) }
        return .object(o)
    }
}
