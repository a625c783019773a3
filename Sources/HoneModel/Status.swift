import Foundation

public enum Phase: String, Sendable, CaseIterable, Comparable {
    case pending = "Pending", running = "Running", succeeded = "Succeeded", failed = "Failed", cancelled = "Cancelled"
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
    public var isActive: Bool { !isFinal }
    public static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
}

public struct StatusEvent: Sendable, Equatable {
    public enum EventType: String, Sendable { case normal = "Normal", warning = "Warning" }
    public var at: String
    public var type: EventType
    public var reason: String
    public var message: String
    public var task: String?
    public init(at: String, type: EventType = .normal, reason: String, message: String, task: String? = nil) {
        self.at = at; self.type = type; self.reason = reason; self.message = message; self.task = task
    }
}

public struct TaskStatus: Sendable, Equatable {
    public var name: String
    public var phase: Phase
    public var executorId: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var exitCode: Int?
    /// Repository path of the committed (capped) log.
    public var log: String?
    public init(name: String, phase: Phase, executorId: String? = nil, startedAt: String? = nil, finishedAt: String? = nil, exitCode: Int? = nil, log: String? = nil) {
        self.name = name; self.phase = phase; self.executorId = executorId; self.startedAt = startedAt
        self.finishedAt = finishedAt; self.exitCode = exitCode; self.log = log
    }
}

/// A run's output model: a draft until published.
public struct ModelOutput: Sendable, Equatable {
    public var name: String
    public var version: String
    public var uri: String?
    public var sha256: String?
    public var published: Bool
    public init(name: String, version: String, uri: String? = nil, sha256: String? = nil, published: Bool = false) {
        self.name = name; self.version = version; self.uri = uri; self.sha256 = sha256; self.published = published
    }
}

/// Recorded state of one run (RunStatus) or eval (EvalStatus), under `status/` (design §2).
public struct ObjectStatus: Sendable, Equatable {
    public var key: ObjectKey
    public var id: String
    public var phase: Phase
    public var createdAt: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var durationSeconds: Double?
    public var owner: String?
    public var pool: String
    public var handler: String
    public var params: [String: JSONValue]
    public var attempt: Int
    /// The `rerun:` value this attempt was launched for.
    public var rerun: Int
    public var specDigest: String
    public var specCommit: String?
    public var cost: Double?
    public var metrics: [String: JSONValue]
    public var tasks: [TaskStatus]
    public var events: [StatusEvent]
    /// The digest of every version the attempt used (`models/tiny-char/v1` → sha256 of its file or artifact).
    public var inputs: [String: String]
    // Runs
    public var model: ModelOutput?
    public var baseModel: String?
    public var trainDataset: String?
    public var validationDataset: String?
    public var runtime: String?
    /// Published manifest, once published (`models/M/vN`).
    public var publishedAs: String?
    /// sha256 of the published manifest's text: the manifest is immutable, and validate checks it.
    public var publishedDigest: String?
    // Evals
    public var evalModel: String?
    public var dataset: String?
    public var autoRelease: Int?
    public var debugEnabled: Bool
    public var debugWorkdir: String?
    public var releaseAt: String?
    public var resultsPath: String?
    public var resultsRows: Int?

    public init(key: ObjectKey, id: String, phase: Phase, pool: String, handler: String, attempt: Int, specDigest: String) {
        self.key = key; self.id = id; self.phase = phase; self.pool = pool; self.handler = handler
        self.params = [:]; self.attempt = attempt; self.rerun = 0; self.specDigest = specDigest; self.metrics = [:]
        self.tasks = []; self.events = []; self.inputs = [:]; self.debugEnabled = false
    }

    public var kindName: String { key.kind == .run ? "RunStatus" : "EvalStatus" }
}

/// Everything hone has recorded, keyed like the desired state.
public struct RecordedState: Sendable {
    public var statuses: [ObjectKey: ObjectStatus] = [:]
    public init() {}
}

/// ISO-8601 UTC timestamps, second precision: the only time format hone writes.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
    public static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
    public static var now: String { string(Date()) }
}

/// Durations: `90s`, `15m`, `2h`, `1d`, `3600` (seconds), `0`/`never` (off → nil).
public enum Duration {
    public enum Parsed: Equatable { case seconds(Int), off }
    public static func parse(_ s: String) -> Parsed? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t == "never" || t == "0" || t == "off" { return .off }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let last = t.last, let mult = units[last] {
            guard let n = Int(t.dropLast()), n >= 0 else { return nil }
            return n == 0 ? .off : .seconds(n * mult)
        }
        guard let n = Int(t), n >= 0 else { return nil }
        return n == 0 ? .off : .seconds(n)
    }
    /// `1h`, `90s`, `15m`, `1h30m`.
    public static func format(_ seconds: Int) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
    /// Human span for tables: `42s`, `3m12s`, `1h04m`.
    public static func span(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}
