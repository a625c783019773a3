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

/// Recorded state of one object under `status/` (specs/status.md): the core every kind shares (identity,
/// phase, attempt, digest, times, tasks, events) plus the fields of its own kind in `detail`.
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
    /// The reconciler that claimed the attempt for launching (`host:/path/of/its/clone`): only it launches
    /// the attempt, and with `--push` only after the remote accepted the claim.
    public var claimedBy: String?
    public var handler: String
    public var params: [String: JSONValue]
    public var attempt: Int
    /// The `rerun:` value this attempt was launched for.
    public var rerun: Int
    public var specDigest: String
    public var specCommit: String?
    public var runtime: String?
    public var cost: Double?
    public var metrics: [String: JSONValue]
    /// How to read the metrics, from summary.json's `_meta` (empty: the name rule applies).
    public var metricsMeta: [String: MetricAnnotation] = [:]
    public var tasks: [TaskStatus]
    public var events: [StatusEvent]
    /// The digest of every version the attempt used (`models/tiny-char/v1` → sha256 of its file or artifact).
    public var inputs: [String: String]
    /// The blob id of every file of the object's `code:` paths in `specCommit` (file → id); nil for a status
    /// recorded before hone recorded code (specs/status.md, "Code").
    public var code: [String: String]?
    /// The fields only this object's kind has.
    public var detail: KindStatus

    public init(key: ObjectKey, id: String, phase: Phase, pool: String, handler: String, attempt: Int, specDigest: String) {
        self.key = key; self.id = id; self.phase = phase; self.pool = pool; self.handler = handler
        self.params = [:]; self.attempt = attempt; self.rerun = 0; self.specDigest = specDigest; self.metrics = [:]
        self.tasks = []; self.events = []; self.inputs = [:]; self.detail = KindStatus(for: key.kind)
    }

    /// `RunStatus`, `EvalStatus`: the file's `kind:`.
    public var kindName: String { detail.kindName }

    /// The run fields, when this is a run (`s.run?.publishedAs = …` sets them).
    public var run: RunStatus? {
        get { if case .run(let r) = detail { return r } else { return nil } }
        set { if let newValue, case .run = detail { detail = .run(newValue) } }
    }
    /// The wall-clock limit from the start, in seconds, for kinds that are released (nil: never).
    public var autoRelease: Int? {
        switch detail {
        case .run: return nil
        case .eval(let e): return e.autoRelease
        case .playground(let p): return p.autoRelease
        }
    }
    /// When a released kind's job is stopped; setting it on a kind that is never released does nothing.
    public var releaseAt: String? {
        get {
            switch detail {
            case .run: return nil
            case .eval(let e): return e.releaseAt
            case .playground(let p): return p.releaseAt
            }
        }
        set {
            switch detail {
            case .run: break
            case .eval(var e): e.releaseAt = newValue; detail = .eval(e)
            case .playground(var p): p.releaseAt = newValue; detail = .playground(p)
            }
        }
    }

    /// The playground fields, when this is a playground.
    public var playground: PlaygroundStatus? {
        get { if case .playground(let p) = detail { return p } else { return nil } }
        set { if let newValue, case .playground = detail { detail = .playground(newValue) } }
    }

    /// The eval fields, when this is an eval.
    public var eval: EvalStatus? {
        get { if case .eval(let e) = detail { return e } else { return nil } }
        set { if let newValue, case .eval = detail { detail = .eval(newValue) } }
    }
}

extension ObjectStatus {
    /// Why an attempt that is `Pending` and not launched yet waits, when it waits for a slot of its pool
    /// (its latest event is `Queued`): listings show it as `Queued` (specs/status.md, "Phases").
    public var queuedReason: String? {
        guard phase == .pending, tasks.first?.executorId == nil, let last = events.last, last.reason == "Queued" else { return nil }
        return last.message
    }

    /// The phase as listings show it: `Queued` for a pending attempt waiting for a pool slot.
    public var shownPhase: String { queuedReason == nil ? phase.rawValue : ObjectStatus.queued }
    public static let queued = "Queued"
    /// The phases a listing shows (and a view filters on): the recorded ones and `Queued`.
    public static let listedPhases = Phase.allCases.map(\.rawValue) + [queued]
}

/// The per-kind part of a status. A new kind adds a case here; the codec and every reader switch over it.
public enum KindStatus: Sendable, Equatable {
    case run(RunStatus)
    case eval(EvalStatus)
    case playground(PlaygroundStatus)

    /// Empty fields for a kind. Views have no status (nothing runs): asking for one is a programming error.
    public init(for kind: ObjectKey.Kind) {
        switch kind {
        case .run: self = .run(RunStatus())
        case .eval: self = .eval(EvalStatus())
        case .playground: self = .playground(PlaygroundStatus())
        case .view: preconditionFailure("views have no status")
        }
    }

    /// The status file's `kind:`.
    public var kindName: String {
        switch self {
        case .run: return "RunStatus"
        case .eval: return "EvalStatus"
        case .playground: return "PlaygroundStatus"
        }
    }
}

/// What only a run records: its output model and what it trained on.
public struct RunStatus: Sendable, Equatable {
    public var model: ModelOutput?
    public var baseModel: String?
    public var trainDataset: String?
    public var validationDataset: String?
    /// Published manifest, once published (`models/M/vN`).
    public var publishedAs: String?
    /// sha256 of the published manifest's text: the manifest is immutable, and validate checks it.
    public var publishedDigest: String?
    public init() {}
}

/// What only an eval records: the model and dataset it scored, its release and debug state, its results.
public struct EvalStatus: Sendable, Equatable {
    public var model: String?
    public var dataset: String?
    public var autoRelease: Int?
    public var debugEnabled = false
    public var debugWorkdir: String?
    public var releaseAt: String?
    public var resultsPath: String?
    public var resultsRows: Int?
    public init() {}
}

/// What only a playground records: what it serves, where, whether it answers, and until when.
public struct PlaygroundStatus: Sendable, Equatable {
    public var model: String?
    /// `http://host:port`, once the server is launched.
    public var endpoint: String?
    /// Whether `GET /v1/models` answered.
    public var ready = false
    public var autoRelease: Int?
    public var idleRelease: Int?
    public var releaseAt: String?
    /// The last chat request the server saw (kept when idleRelease is set).
    public var lastRequestAt: String?
    public init() {}
}

/// Everything hone has recorded, keyed like the desired state.
public struct RecordedState: Sendable {
    public var statuses: [ObjectKey: ObjectStatus] = [:]
    /// Objects whose status file exists but cannot be read or decoded (hand-edited, truncated, a link):
    /// key → the file's path. The planner leaves them alone — nothing launched, nothing overwritten —
    /// until the file is fixed: "no status" would launch a job that may already have run.
    public var unreadable: [ObjectKey: String] = [:]
    /// For statuses without `code` (recorded before hone recorded it): the files of the object's `code:`
    /// paths in the commit the attempt was launched from (`specCommit`), when that commit can be read.
    public var codeAtLaunch: [ObjectKey: [String: String]] = [:]
    public init() {}
}

/// ISO-8601 UTC timestamps, second precision: the only time format hone writes.
/// Formatted and parsed by hand: an ISO8601DateFormatter per call cost more than the rest of a status write.
public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC; fractions of a second are dropped (rounded down).
    public static func string(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        guard gmtime_r(&t, &tm) != nil else { return "1970-01-01T00:00:00Z" }
        var out = ""
        out.reserveCapacity(20)
        func pad(_ value: Int32, _ width: Int) {
            let digits = String(value)
            if digits.count < width { out += String(repeating: "0", count: width - digits.count) }
            out += digits
        }
        pad(tm.tm_year + 1900, 4); out += "-"; pad(tm.tm_mon + 1, 2); out += "-"; pad(tm.tm_mday, 2)
        out += "T"; pad(tm.tm_hour, 2); out += ":"; pad(tm.tm_min, 2); out += ":"; pad(tm.tm_sec, 2); out += "Z"
        return out
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS` followed by `Z` (or `z`) or a UTC offset `±HH:MM`, `±HHMM`, `±HH`
    /// (what `string` writes, and the internet date-time forms accepted before). Month and day may have one
    /// digit; surrounding whitespace is ignored; `24:00:00` is the next midnight. Dates that do not exist
    /// (month 13, February 30) and trailing text are rejected.
    public static func date(_ s: String) -> Date? {
        let b = Array(s.utf8)
        var i = 0, end = b.count
        while i < end, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
        while end > i, b[end - 1] == 0x20 || b[end - 1] == 0x09 || b[end - 1] == 0x0A || b[end - 1] == 0x0D { end -= 1 }
        // Reads `min...max` digits as a number.
        func number(_ min: Int, _ max: Int) -> Int? {
            var value = 0, count = 0
            while count < max, i < end, b[i] >= 0x30, b[i] <= 0x39 { value = value * 10 + Int(b[i] - 0x30); i += 1; count += 1 }
            return count >= min ? value : nil
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < end, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4, 4), expect(UInt8(ascii: "-")), let month = number(1, 2), expect(UInt8(ascii: "-")),
              let day = number(1, 2), expect(UInt8(ascii: "T")), let hour = number(2, 2), expect(UInt8(ascii: ":")),
              let minute = number(2, 2), expect(UInt8(ascii: ":")), let second = number(2, 2), i < end
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month),
              hour < 24 || (hour == 24 && minute == 0 && second == 0), minute < 60, second < 60
        else { return nil }
        var offset = 0
        let sign = b[i]
        i += 1
        switch sign {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            break
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let h = number(2, 2), h < 24 else { return nil }
            var m = 0
            if i < end {
                _ = expect(UInt8(ascii: ":"))
                guard let mm = number(2, 2), mm < 60 else { return nil }
                m = mm
            }
            offset = (h * 60 + m) * 60 * (sign == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        guard i == end else { return nil }
        let seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    public static var now: String { string(Date()) }

    private static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    private static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// Durations: `90s`, `15m`, `2h`, `1d`, `3600` (seconds), `0`/`never` (off → nil).
public enum DurationText {
    public enum Parsed: Equatable { case seconds(Int), off }
    public static func parse(_ s: String) -> Parsed? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t == "never" || t == "0" || t == "off" { return .off }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let last = t.last, let mult = units[last] {
            // Checked before multiplying: `999999999999999999d` overflowed Int and trapped.
            guard let n = Int(t.dropLast()), n >= 0, n <= longest / mult else { return nil }
            return n == 0 ? .off : .seconds(n * mult)
        }
        guard let n = Int(t), n >= 0, n <= longest else { return nil }
        return n == 0 ? .off : .seconds(n)
    }
    /// The longest duration, 100 years (36500d): a time hone adds to a date stays a date.
    public static let longest = 36_500 * 86_400
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

extension ObjectStatus {
    /// The named spec fields a status records (handler, runtime and each kind's own), as plan reasons and
    /// history's CHANGED column compare them.
    public var recordedFields: [String: String?] {
        var fields: [String: String?] = ["handler": handler, "runtime": runtime]
        switch detail {
        case .run(let r):
            fields["baseModel"] = r.baseModel; fields["trainDataset"] = r.trainDataset; fields["validationDataset"] = r.validationDataset
        case .eval(let e):
            fields["dataset"] = e.dataset; fields["model"] = e.model
        case .playground(let p):
            fields["model"] = p.model
        }
        return fields
    }
}
