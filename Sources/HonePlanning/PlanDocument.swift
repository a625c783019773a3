import HoneModel

/// `hone plan --format json` (specs/cli-plan.md): a versioned document of typed values. Codable, so a
/// program reads it back with `JSONDecoder`; written by `jsonText` straight into bytes, keys in sorted order,
/// byte for byte what the generic `JSONValue` pretty form gives for the same values — fast at 20,000 actions.
public struct PlanDocument: Codable, Sendable, Equatable {
    public static let currentAPIVersion = "hone/v1"

    public var apiVersion: String
    /// `Plan` (specs/json.md: every document names its kind).
    public var kind: String
    public var actions: [Action]
    public var errors: [Problem]
    public var estimatedCost: Double

    public struct Action: Codable, Sendable, Equatable {
        public var object: String
        public var kind: String
        public var action: String
        public var reason: String
        public var id: String?
        public var attempt: Int?
        public var pool: String?
        public var specDigest: String?
        /// Only for actions that start work: the bound, or `.unknown` (written as null).
        public var estimatedCost: Cost?
        public var supersedes: String?
        public var gates: [String]?
        public var publishAs: String?
        /// For publish: the existing version that already holds this model (recorded instead of a new one).
        public var alreadyPublished: String?

        public enum Cost: Sendable, Equatable { case bound(Double), unknown }

        enum CodingKeys: String, CodingKey {
            case object, kind, action, reason, id, attempt, pool, specDigest, estimatedCost, supersedes, gates, publishAs, alreadyPublished
        }

        public init(_ a: PlannedAction) {
            object = a.key.objectPath; kind = a.kindName; action = a.action.rawValue; reason = a.reason
            id = a.id; attempt = a.attempt; pool = a.pool; specDigest = a.specDigest
            estimatedCost = a.startsWork ? a.costEstimate.map(Cost.bound) ?? .unknown : nil
            supersedes = a.supersedes
            gates = a.gates.isEmpty ? nil : a.gates
            publishAs = a.publishAs?.description
            alreadyPublished = a.alreadyPublished?.description
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            object = try c.decode(String.self, forKey: .object)
            kind = try c.decode(String.self, forKey: .kind)
            action = try c.decode(String.self, forKey: .action)
            reason = try c.decode(String.self, forKey: .reason)
            id = try c.decodeIfPresent(String.self, forKey: .id)
            attempt = try c.decodeIfPresent(Int.self, forKey: .attempt)
            pool = try c.decodeIfPresent(String.self, forKey: .pool)
            specDigest = try c.decodeIfPresent(String.self, forKey: .specDigest)
            if c.contains(.estimatedCost) {
                estimatedCost = try c.decodeNil(forKey: .estimatedCost) ? .unknown : .bound(try c.decode(Double.self, forKey: .estimatedCost))
            }
            supersedes = try c.decodeIfPresent(String.self, forKey: .supersedes)
            gates = try c.decodeIfPresent([String].self, forKey: .gates)
            publishAs = try c.decodeIfPresent(String.self, forKey: .publishAs)
            alreadyPublished = try c.decodeIfPresent(String.self, forKey: .alreadyPublished)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(object, forKey: .object); try c.encode(kind, forKey: .kind)
            try c.encode(action, forKey: .action); try c.encode(reason, forKey: .reason)
            try c.encodeIfPresent(id, forKey: .id); try c.encodeIfPresent(attempt, forKey: .attempt)
            try c.encodeIfPresent(pool, forKey: .pool); try c.encodeIfPresent(specDigest, forKey: .specDigest)
            switch estimatedCost {
            case .bound(let d)?: try c.encode(d, forKey: .estimatedCost)
            case .unknown?: try c.encodeNil(forKey: .estimatedCost)
            case nil: break
            }
            try c.encodeIfPresent(supersedes, forKey: .supersedes); try c.encodeIfPresent(gates, forKey: .gates)
            try c.encodeIfPresent(publishAs, forKey: .publishAs)
            try c.encodeIfPresent(alreadyPublished, forKey: .alreadyPublished)
        }

        /// Keys in sorted order.
        func write(into w: inout JSONWriter) {
            w.beginObject()
            w.key("action"); w.string(action)
            if let alreadyPublished { w.key("alreadyPublished"); w.string(alreadyPublished) }
            if let attempt { w.key("attempt"); w.int(attempt) }
            switch estimatedCost {
            case .bound(let d)?: w.key("estimatedCost"); w.double(d)
            case .unknown?: w.key("estimatedCost"); w.null()
            case nil: break
            }
            if let gates { w.key("gates"); w.beginArray(); for g in gates { w.string(g) }; w.endArray() }
            if let id { w.key("id"); w.string(id) }
            w.key("kind"); w.string(kind)
            w.key("object"); w.string(object)
            if let pool { w.key("pool"); w.string(pool) }
            if let publishAs { w.key("publishAs"); w.string(publishAs) }
            w.key("reason"); w.string(reason)
            if let specDigest { w.key("specDigest"); w.string(specDigest) }
            if let supersedes { w.key("supersedes"); w.string(supersedes) }
            w.endObject()
        }
    }

    /// An error the plan found: `Diagnostic.json`'s fields.
    public struct Problem: Codable, Sendable, Equatable {
        public var path: String
        public var line: Int
        public var column: Int
        public var message: String

        public init(_ d: Diagnostic) { path = d.shownPath; line = d.line; column = d.column; message = d.shownMessage }

        func write(into w: inout JSONWriter) {
            w.beginObject()
            w.key("column"); w.int(column)
            w.key("line"); w.int(line)
            w.key("message"); w.string(message)
            w.key("path"); w.string(path)
            w.endObject()
        }
    }

    public init(_ plan: Plan) {
        apiVersion = PlanDocument.currentAPIVersion
        kind = "Plan"
        actions = plan.actions.map(Action.init)
        errors = plan.errors.map(Problem.init)
        estimatedCost = plan.estimatedCost
    }

    /// Two-space indented JSON with sorted keys (the form every hone JSON output has).
    public func jsonText(pretty: Bool = true) -> [UInt8] {
        var w = JSONWriter(pretty: pretty, capacity: 512 * (actions.count + 1))
        w.beginObject()
        w.key("actions"); w.beginArray(); for a in actions { a.write(into: &w) }; w.endArray()
        w.key("apiVersion"); w.string(apiVersion)
        w.key("errors"); w.beginArray(); for e in errors { e.write(into: &w) }; w.endArray()
        w.key("estimatedCost"); w.double(estimatedCost)
        w.key("kind"); w.string(kind)
        w.endObject()
        return w.bytes
    }
}
