import Foundation
import HoneExecutors
import HoneModel

/// What hone takes from a finished job's folder, every file read through `OutputFile` (no link followed,
/// regular files only, never more than a cap in memory): the committed log tail, summary metrics, the
/// metrics curve and results (capped for git, the full files in the store). What was not read is kept in
/// `refused`, for one Warning event.
struct JobOutputs {
    /// The committed copy of a task log: its last 256 KiB.
    static let logCap = 256 * 1024
    /// `summary.json` larger than this is not parsed (its metrics would not fit a status anyway).
    static let summaryCap = 1 << 20
    /// `results.jsonl` and `metrics.jsonl` committed: their first rows up to 4 MiB (whole rows).
    static let attachmentCap = 4 << 20
    /// A row longer than this is reported as not a JSON object without being parsed.
    static let rowCap = 1 << 20
    /// What a failure event quotes from the log: its last lines, found in this many bytes from the end.
    static let failureTailBytes = 64 * 1024

    let jobDirectory: URL
    let store: ArtifactStore
    let id: String
    var refused: [OutputFile.Refusal] = []

    init(jobDirectory: URL, store: ArtifactStore, id: String) {
        self.jobDirectory = jobDirectory; self.store = store; self.id = id
    }

    /// Opens `relative` inside the job folder; a refusal is noted and reads as no file.
    mutating func open(_ relative: String) -> OutputFile? {
        do { return try OutputFile.open(relative, under: jobDirectory.path) } catch {
            refused.append(error)
            return nil
        }
    }

    /// The log to commit: whole when it is at most `logCap`, else a note and its last `logCap` bytes (from a
    /// UTF-8 boundary), the whole log being kept in the store. nil when there is no log.
    mutating func committedLog(_ name: String, task: String) -> Data? {
        guard let file = open(name) else { return nil }
        do {
            if file.size <= JobOutputs.logCap { return try file.read(upTo: JobOutputs.logCap) }
            // Only a log that is cut goes to the store: otherwise the committed copy is the whole log.
            let full = (try? store.keep(file, source: jobDirectory.appendingPathComponent(name), as: "logs/\(id)/\(task).log")) ?? "(not stored)"
            var tail = try file.tail(JobOutputs.logCap)
            while let first = tail.first, first & 0xC0 == 0x80 { tail = tail.dropFirst() }  // start on a UTF-8 boundary
            let cut = file.size - tail.count
            var text = Data("[hone: the first \(cut) bytes of this log were cut to keep the last \(JobOutputs.logCap / 1024) KiB; the full log is \(full)]\n".utf8)
            text.append(tail)
            return text
        } catch {
            refused.append(error)
            return nil
        }
    }

    /// The last `lines` lines of the log, read from its end only.
    mutating func logTail(_ name: String, lines: Int) -> String {
        guard let file = open(name), let data = try? file.tail(JobOutputs.failureTailBytes) else { return "" }
        return Reconciler.lastLines(String(decoding: data, as: UTF8.self), lines)
    }

    /// A whole small file (`summary.json`); a larger one is reported in `problem`.
    mutating func small(_ relative: String, cap: Int) -> (data: Data?, problem: String?) {
        guard let file = open(relative) else { return (nil, nil) }
        guard file.size <= cap else {
            return (nil, "\(relative) is \(file.size) bytes, more than hone reads (\(cap / 1024) KiB)")
        }
        do { return (try file.read(upTo: cap), nil) } catch { refused.append(error); return (nil, nil) }
    }

    /// A JSON Lines file to commit: its first whole rows up to `attachmentCap` (the full file kept in the
    /// store when it is cut), with its rows checked when `checkRows`.
    mutating func lines(_ relative: String, storeAs name: String, checkRows: Bool) -> JSONLines? {
        guard let file = open(relative) else { return nil }
        do {
            var scan = JSONLines.Scan(cap: JobOutputs.attachmentCap, checkRows: checkRows)
            try file.forEachChunk { scan.add($0) }
            scan.finish()
            var out = scan.result
            out.committed = try file.read(upTo: scan.result.committedBytes)
            if out.committedBytes < file.size {
                out.storedURI = try? store.keep(file, source: jobDirectory.appendingPathComponent(relative), as: "outputs/\(id)/\(name)")
            }
            out.totalBytes = file.size
            return out
        } catch {
            refused.append(error as? OutputFile.Refusal ?? .unreadable(relative, reason: "\(error)"))
            return nil
        }
    }

    /// One Warning event naming what was not collected, or nil.
    func refusalEvent(at: String, task: String) -> StatusEvent? {
        var seen: Set<String> = []
        let unique = refused.filter { seen.insert($0.path).inserted }  // the model listing meets summary.json too
        guard !unique.isEmpty else { return nil }
        let shown = unique.prefix(10).map(\.description).joined(separator: "; ")
        let more = unique.count > 10 ? " (and \(unique.count - 10) more)" : ""
        return StatusEvent(at: at, type: .warning, reason: "OutputSkipped",
                           message: "not collected: \(shown)\(more); hone reads only regular files in a job's folder, never through a link", task: task)
    }
}

/// A JSON Lines output (results.jsonl, metrics.jsonl) as collected: what is committed, and what its rows held.
struct JSONLines {
    var committed = Data()
    /// Bytes of whole rows that fit the cap (what `committed` holds).
    var committedBytes = 0
    var totalBytes = 0
    /// Non-blank lines in the committed part, and in the whole file (only the committed ones are checked).
    var committedRows = 0
    var rows = 0
    var notObjects = 0
    var withoutId = 0
    var duplicates = 0
    /// Up to five duplicated ids and line numbers of bad rows, for the event's message.
    var duplicateSamples: [String] = []
    var badLines: [Int] = []
    var storedURI: String?

    var isCut: Bool { committedBytes < totalBytes }
    var hasBadRows: Bool { notObjects + withoutId + duplicates > 0 }

    /// Reads a file chunk by chunk: memory holds one row (at most `rowCap`) and the ids of the committed rows.
    struct Scan {
        let cap: Int
        let checkRows: Bool
        var result = JSONLines()
        var line = Data()
        var lineTooLong = false
        var offset = 0
        var lineNumber = 0
        var committing = true
        var ids: Set<String> = []

        init(cap: Int, checkRows: Bool) { self.cap = cap; self.checkRows = checkRows }

        mutating func add(_ chunk: Data) {
            chunk.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                guard let base = raw.baseAddress else { return }
                var start = 0
                while start < raw.count {
                    // memchr: a byte-by-byte Collection walk costs seconds per 100 MB in a debug build.
                    let hit = memchr(base + start, 10, raw.count - start)
                    let end = hit.map { $0 - UnsafeMutableRawPointer(mutating: base) } ?? raw.count
                    if !lineTooLong {
                        if line.count + (end - start) > JobOutputs.rowCap { lineTooLong = true; line = Data() }
                        else { line.append(base.assumingMemoryBound(to: UInt8.self) + start, count: end - start) }
                    }
                    offset += end - start
                    guard hit != nil else { return }
                    offset += 1
                    endLine(endOffset: offset)
                    start = end + 1
                }
            }
        }

        /// A last line without a newline counts as a row too.
        mutating func finish() {
            if !line.isEmpty || lineTooLong { endLine(endOffset: offset) }
        }

        mutating func endLine(endOffset: Int) {
            lineNumber += 1
            defer { line = Data(); lineTooLong = false }
            let blank = !lineTooLong && line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
            if !blank { result.rows += 1 }
            // Whole rows only, and none after the first that did not fit.
            if committing && endOffset <= cap {
                result.committedBytes = endOffset
                if !blank { result.committedRows += 1 }
            } else { committing = false }
            // Only the committed rows are parsed (what hone shows and compares): checking every row of a
            // 200 MB file would hold the pass for a minute.
            if checkRows && !blank && committing { check() }
        }

        mutating func check() {
            guard !lineTooLong, let value = try? JSONValue.parse(line), let row = value.objectValue else {
                result.notObjects += 1
                if result.badLines.count < 5 { result.badLines.append(lineNumber) }
                return
            }
            guard let id = row["id"], id != .null else {
                result.withoutId += 1
                if result.badLines.count < 5 { result.badLines.append(lineNumber) }
                return
            }
            let key = id.stringValue ?? id.canonicalJSON
            if !ids.insert(key).inserted {
                result.duplicates += 1
                if result.duplicateSamples.count < 5 { result.duplicateSamples.append(key) }
            }
        }
    }
}

extension JobOutputs {
    /// What `summary.json` holds: its metrics (a JSON object), with the non-finite numbers Python's json.dump
    /// writes (`NaN`, `Infinity`, `-Infinity`) left out and named (`loss`, `per_class[1]`); or why it holds none.
    static func metrics(fromSummary data: Data) -> (metrics: [String: JSONValue]?, nonFinite: [String], problem: String?) {
        let value: JSONValue
        do { value = try JSONValue.parse(markingNonFinite(data)) } catch {
            let why = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String).map { " (\($0))" } ?? ""
            return (nil, [], "summary.json is not valid JSON\(why)")
        }
        var names: [String] = []
        // The kit's "_meta" (each metric's direction, kind, unit: specs/handler-kit.md) describes the metrics
        // and is not one of them.
        guard case .object(var top) = value else { return (nil, [], "summary.json is \(kindName(value)), not a JSON object") }
        top.removeValue(forKey: JobOutputs.metaKey)
        guard case .object(let metrics)? = dropNonFinite(.object(top), path: "", into: &names) else {
            return (nil, [], "summary.json is \(kindName(value)), not a JSON object")
        }
        return (metrics, names, nil)
    }

    /// The key of summary.json that is not a metric.
    static let metaKey = "_meta"

    /// summary.json's `_meta`: how each metric reads (recorded as the status's `metricsMeta`).
    static func annotations(fromSummary data: Data) -> [String: MetricAnnotation] {
        guard case .object(let top)? = try? JSONValue.parse(markingNonFinite(data)) else { return [:] }
        return MetricAnnotation.parse(top[metaKey])
    }

    /// Stands in for a non-finite number while parsing (a string no JSON text can hold unescaped).
    static let nonFiniteMark = "\u{0}hone:non-finite"

    /// The JSON text with each bare `NaN`, `Infinity` and `-Infinity` (outside strings) replaced by the mark.
    static func markingNonFinite(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        let mark = Array("\"\\u0000hone:non-finite\"".utf8)
        let tokens = [Array("-Infinity".utf8), Array("Infinity".utf8), Array("NaN".utf8)]
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0, inString = false
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                out.append(b)
                if b == UInt8(ascii: "\\"), i + 1 < bytes.count { out.append(bytes[i + 1]); i += 2; continue }
                if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true }
            if b == UInt8(ascii: "N") || b == UInt8(ascii: "I") || b == UInt8(ascii: "-"),
               let t = tokens.first(where: { bytes.count - i >= $0.count && Array(bytes[i..<i + $0.count]) == $0 }) {
                out += mark
                i += t.count
                continue
            }
            out.append(b)
            i += 1
        }
        return Data(out)
    }

    /// `value` without the marked numbers: dropped from objects, null in arrays (indices keep their meaning).
    static func dropNonFinite(_ value: JSONValue, path: String, into names: inout [String]) -> JSONValue? {
        switch value {
        case .string(let s) where s == nonFiniteMark:
            names.append(path)
            return nil
        case .object(let o):
            var kept: [String: JSONValue] = [:]
            for key in o.keys.sorted() {
                if let v = dropNonFinite(o[key]!, path: path.isEmpty ? key : path + "." + key, into: &names) { kept[key] = v }
            }
            return .object(kept)
        case .array(let a):
            return .array(a.enumerated().map { i, v in dropNonFinite(v, path: "\(path)[\(i)]", into: &names) ?? .null })
        default:
            return value
        }
    }

    static func kindName(_ value: JSONValue) -> String {
        switch value {
        case .object: return "an object"
        case .array: return "a list"
        case .string: return "a string"
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        }
    }
}
