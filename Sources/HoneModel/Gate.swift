/// A regression gate: `">= baseline - 0.01"` or `"<= 12"` (specs/eval.md, `gates:`).
public struct GateExpression: Sendable, Equatable, CustomStringConvertible {
    public enum Op: String, Sendable, CaseIterable { case ge = ">=", le = "<=", gt = ">", lt = "<", eq = "==" }
    public var op: Op
    /// true: the bound is the baseline's value plus `offset`; false: the bound is `offset`.
    public var relativeToBaseline: Bool
    public var offset: Double

    public init(op: Op, relativeToBaseline: Bool, offset: Double) {
        self.op = op; self.relativeToBaseline = relativeToBaseline; self.offset = offset
    }

    public var description: String {
        if relativeToBaseline {
            if offset == 0 { return "\(op.rawValue) baseline" }
            return "\(op.rawValue) baseline \(offset < 0 ? "-" : "+") \(JSONValue.formatNumber(abs(offset)))"
        }
        return "\(op.rawValue) \(JSONValue.formatNumber(offset))"
    }

    /// Parses `>= baseline - 0.01`, `<= 12`, `> baseline`, `== 1`. nil when malformed.
    public static func parse(_ text: String) -> GateExpression? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var found: Op? = nil
        for op in [Op.ge, .le, .eq, .gt, .lt] where s.hasPrefix(op.rawValue) { found = op; break }
        guard let op = found else { return nil }
        s = s.dropFirst(op.rawValue.count)
        let rest = s.split(separator: " ", omittingEmptySubsequences: true).joined()
        if rest.hasPrefix("baseline") {
            let tail = rest.dropFirst("baseline".count)
            if tail.isEmpty { return GateExpression(op: op, relativeToBaseline: true, offset: 0) }
            guard let sign = tail.first, sign == "+" || sign == "-", let n = Double(tail.dropFirst()) else { return nil }
            return GateExpression(op: op, relativeToBaseline: true, offset: sign == "-" ? -n : n)
        }
        guard let n = Double(rest) else { return nil }
        return GateExpression(op: op, relativeToBaseline: false, offset: n)
    }

    /// The bound this value is compared with (nil when it needs a baseline that is missing).
    public func bound(baseline: Double?) -> Double? {
        if relativeToBaseline { return baseline.map { $0 + offset } }
        return offset
    }

    public func passes(_ value: Double, baseline: Double?) -> Bool? {
        guard let b = bound(baseline: baseline) else { return nil }
        switch op {
        case .ge: return value >= b
        case .le: return value <= b
        case .gt: return value > b
        case .lt: return value < b
        case .eq: return abs(value - b) < 1e-12
        }
    }
}
