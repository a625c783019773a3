import Foundation
import HoneLoading
import HoneModel

/// Object addresses typed on the command line: `G/NAME`, `evaluations/NAME`, or a spec path
/// (`groups/G/evals/NAME.yaml`, `evaluations/NAME.yaml`, `groups/G/runs/NAME.yaml`).
public enum ObjectAddress {
    /// The eval or run `text` names. A bare `G/NAME` that is both a run and an eval must be written as a spec path.
    public static func resolve(_ text: String, kinds: [ObjectKey.Kind], in load: LoadResult) throws -> ObjectKey {
        var t = text
        if t.hasSuffix(".yaml") { t.removeLast(5) }
        if t.hasPrefix("status/") { t.removeFirst(7) }
        let parts = t.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var candidates: [ObjectKey] = []
        if parts.count == 4, parts[0] == "groups", let k = ObjectKey.Kind(rawValue: String(parts[2].dropLast())), parts[2].hasSuffix("s") {
            candidates = [ObjectKey(scope: .group(parts[1]), kind: k, name: parts[3])]
        } else if parts.count == 2, parts[0] == "evaluations" {
            candidates = [ObjectKey(scope: .evaluations, kind: .eval, name: parts[1])]
        } else if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
            candidates = kinds.map { ObjectKey(scope: .group(parts[0]), kind: $0, name: parts[1]) }
        } else {
            let what = kinds.map { $0 == .eval ? "an eval" : "a run" }.joined(separator: " or ")
            throw HoneError("\"\(text)\" does not name \(what): write G/NAME (a group's) or evaluations/NAME")
        }
        candidates = candidates.filter { kinds.contains($0.kind) }
        let known = candidates.filter { exists($0, in: load) }
        if known.count == 1 { return known[0] }
        if known.count > 1 {
            throw HoneError("\"\(text)\" is both \(known.map { $0.specPath }.joined(separator: " and ")): name the file instead")
        }
        let nouns = kinds.map(\.rawValue).joined(separator: " or ")
        var message = "no \(nouns) \(candidates.first?.display ?? text)"
        let all = Set(load.desired.evals.keys).union(load.desired.runs.keys).union(load.recorded.statuses.keys)
            .filter { kinds.contains($0.kind) }.map(\.display).sorted()
        if let near = all.min(by: { distance($0, text) < distance($1, text) }), distance(near, text) <= max(2, text.count / 4) {
            message += " (did you mean \(near)?)"
        }
        throw HoneError(message + ": its spec file does not exist and nothing was recorded for it")
    }

    static func exists(_ key: ObjectKey, in load: LoadResult) -> Bool {
        load.desired.evals[key] != nil || load.desired.runs[key] != nil || load.recorded.statuses[key] != nil
            || load.invalidObjects.contains(key) || load.files.contains(key.specPath)
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var prev = row[0]; row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}

/// What hone has recorded about one eval: its spec, status and per-sample results.
public struct RecordedEval: Sendable {
    public var key: ObjectKey
    public var spec: EvalSpec?
    public var status: ObjectStatus?
    /// Rows of results.jsonl; nil when there is no such file.
    public var results: [[String: JSONValue]]?
    /// Lines of results.jsonl that are not JSON objects (reported, skipped).
    public var badResultLines: [Int] = []

    public init(key: ObjectKey, spec: EvalSpec? = nil, status: ObjectStatus? = nil, results: [[String: JSONValue]]? = nil) {
        self.key = key; self.spec = spec; self.status = status; self.results = results
    }

    public var name: String { key.display }
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
        return "no per-sample results (\(status?.resultsPath ?? key.statusFolder + "results.jsonl") is missing)"
    }

    /// Reads an eval from a repository view (working tree or commit).
    public static func read(_ key: ObjectKey, load: LoadResult, source: FileSource) throws -> RecordedEval {
        var e = RecordedEval(key: key, spec: load.desired.evals[key], status: load.recorded.statuses[key])
        let path = e.status?.resultsPath ?? key.statusFolder + "results.jsonl"
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
