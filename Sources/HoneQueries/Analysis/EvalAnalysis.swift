import Foundation
import HoneLoading
import Git
import HoneModel

/// Entry points the CLI calls: read the repository, then hand pure values to the renderers.
public enum EvalAnalysis {
    public static func compare(_ ws: Workspace, ref: String?, evals names: [String], baseline: String?, rows: Bool,
                               columns: [String]?, pinned: [String], onlyDiff: Bool, layout: RowLayout) throws -> CompareReport {
        let source = try ws.source(ref: ref)
        // Only the scopes of the evals named are parsed (with hone.yaml, versions and groups): comparing two
        // evals of a 20,000-object repository reads their groups, not every file.
        let folders = Set((names + (baseline.map { [$0] } ?? [])).compactMap { try? ObjectAddress.parse($0).scope.folder + "/" })
        let load = try Loader(source: source, parseOnly: { p in folders.contains { p.hasPrefix($0) || p.hasPrefix("status/" + $0) } }).load()
        var keys: [ObjectKey] = []
        for n in names {
            let k = try ObjectAddress.parse(n).resolve(in: load, only: .eval)
            if keys.contains(k) { throw HoneError("\(k.display) is named twice") }
            keys.append(k)
        }
        var baselineIndex = 0
        if let b = baseline {
            let k = try ObjectAddress.parse(b).resolve(in: load, only: .eval)
            if let i = keys.firstIndex(of: k) { baselineIndex = i } else { keys.insert(k, at: 0) }
        }
        if keys.count < 2 { throw HoneError("name at least two different evals to compare") }
        let recorded = try keys.map { try RecordedEval.read($0, load: load, source: source) }
        if let cols = columns, rows {
            let known = Set(recorded.flatMap { ($0.results ?? []).flatMap(\.keys) })
            if !known.isEmpty, let bad = cols.first(where: { !known.contains($0) }) {
                throw HoneError("no result column \"\(bad)\" in these evals' results.jsonl (columns: \(known.filter { $0 != "id" }.sorted().joined(separator: ", ")))")
            }
        }
        return CompareReport(evals: recorded, baseline: baselineIndex, rows: rows, columns: columns, pinned: pinned,
                             onlyDiff: onlyDiff, layout: layout)
    }
}

extension EvalAnalysis {
    public static func history(_ ws: Workspace, ref: String?, object: String, all: Bool = false) throws -> MetricHistory {
        let repo = try ws.requireRepository()
        let start: ObjectID
        if let ref {
            do { start = try repo.resolve(ref) } catch { throw HoneError("cannot resolve --ref \(ref): \(error)") }
        } else {
            guard let head = try repo.headCommit() else { throw HoneError("the repository has no commits yet: nothing has been recorded") }
            start = head
        }
        let load = try Loader(source: CommitSource(repository: repo, commit: start)).load()
        let key = try ObjectAddress.parse(object).resolve(in: load)
        return try MetricHistory.read(key, repository: repo, from: start, all: all)
    }
}

extension EvalAnalysis {
    public static func report(_ ws: Workspace, ref: String?, out: URL) throws -> [String] {
        let source = try ws.source(ref: ref)
        let load = try Loader(source: source).load()
        let context = HTMLReport.Context(readFrom: readFrom(ws, ref: ref), link: ref == nil ? logLink(ws, out: out) : { _ in nil })
        return try HTMLReport.write(HTMLReport.pages(load: load, source: source, context: context), to: out)
    }

    /// "commit 1a2b3c4d5e6f (main)" or "the working tree at /repo (HEAD 1a2b3c4d5e6f)": what a report was read from.
    static func readFrom(_ ws: Workspace, ref: String?) -> String {
        let head = ws.repository.flatMap { try? $0.headCommit() }.map { String($0.hex.prefix(12)) }
        guard let ref else { return "the working tree at \(ws.root.path)" + (head.map { " (HEAD \($0))" } ?? " (no commit yet)") }
        let id = ws.repository.flatMap { try? $0.resolve(ref) }.map { String($0.hex.prefix(12)) } ?? "?"
        return "commit \(id)" + (ref.hasPrefix(id) ? "" : " (\(ref))")
    }

    /// Logs in the working tree, linked relative to the report's folder (the pages stay movable with the repository).
    static func logLink(_ ws: Workspace, out: URL) -> (String) -> String? {
        let from = out.standardizedFileURL.pathComponents, root = ws.root.standardizedFileURL.pathComponents
        return { path in
            guard FileManager.default.fileExists(atPath: ws.url(path).path) else { return nil }
            var common = 0
            while common < min(from.count, root.count), from[common] == root[common] { common += 1 }
            let up = Array(repeating: "..", count: from.count - common)
            return (up + root[common...] + [path]).joined(separator: "/")
        }
    }
}
