import Foundation
import HoneLoading
import HoneModel

/// What hone has recorded about one eval: its spec, status and per-sample results.
public struct RecordedEval: Sendable {
    public var key: ObjectKey
    public var spec: EvalSpec?
    public var status: ObjectStatus?
    /// Rows of results.jsonl; nil when there is no such file.
    public var results: [[String: JSONValue]]?
    /// Lines of results.jsonl that are not JSON objects (reported, skipped).
    public var badResultLines: [Int] = []
    /// The ref whose records these are, when not the head's (a pull request's baseline as its base records it).
    public var recordedAt: String?
    /// The model it reads, structured (set by `read`, which has the load to find versions in).
    public var model: ModelRef?

    public init(key: ObjectKey, spec: EvalSpec? = nil, status: ObjectStatus? = nil, results: [[String: JSONValue]]? = nil) {
        self.key = key; self.spec = spec; self.status = status; self.results = results
    }

    public var name: String { key.display + (recordedAt.map { " @ \($0)" } ?? "") }
    public var metrics: [String: JSONValue] { status?.metrics ?? [:] }

    /// Why there is nothing to compare, or nil when the eval succeeded with metrics.
    public var absence: String? {
        guard let s = status else { return "no results: never reconciled (no recorded status)" }
        switch s.phase {
        case .succeeded: return s.metrics.isEmpty ? "succeeded (attempt \(s.attempt)) but recorded no metrics" : nil
        case .pending, .running: return "no results yet: attempt \(s.attempt) is \(s.phase.rawValue)"
        case .failed, .cancelled:
            return "no results: attempt \(s.attempt) \(s.phase.rawValue)" + (s.metrics.isEmpty ? "" : " (its partial metrics are shown)")
        }
    }

    /// Why the per-sample comparison leaves this eval out, or nil.
    public var resultsAbsence: String? {
        if results != nil { return nil }
        if let a = absence, status?.phase != .succeeded { return a }
        return "no per-sample results (\(status?.eval?.resultsPath ?? key.statusFolder + "results.jsonl") is missing)"
    }

    /// Reads an eval from a repository view (working tree or commit).
    public static func read(_ key: ObjectKey, load: LoadResult, source: FileSource) throws -> RecordedEval {
        var e = RecordedEval(key: key, spec: load.desired.evals[key], status: load.recorded.statuses[key])
        e.model = ModelRef.of(eval: key, load)
        let path = e.status?.eval?.resultsPath ?? key.statusFolder + "results.jsonl"
        if let bytes = try source.read(path) {
            let parsed = parseJSONLines(Data(bytes))
            e.results = parsed.rows
            e.badResultLines = parsed.bad
        }
        return e
    }

    /// One JSON object per line; blank lines skipped; other lines reported by number.
    public static func parseJSONLines(_ data: Data) -> (rows: [[String: JSONValue]], bad: [Int]) {
        var rows: [[String: JSONValue]] = []
        var bad: [Int] = []
        for (i, line) in data.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            if let v = try? JSONValue.parse(Data(line)), let o = v.objectValue { rows.append(o) } else { bad.append(i + 1) }
        }
        return (rows, bad)
    }
}
