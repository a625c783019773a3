/// The committed content of the paths runs and evals name in `code:` (specs/run.md, "Code"): for each
/// path, the git blob id of every file at or under it in one commit. Read once per path, however many
/// objects share it, so 10,000 runs on one `handlers/` cost one tree lookup.
public struct CodeSnapshot: Sendable {
    /// The commit the ids were read from; nil when there is none (no repository, or nothing committed
    /// yet): code is then not compared.
    public var commit: String?
    /// path → (file → blob id); [:] for a path the commit does not have.
    public var paths: [String: [String: String]] = [:]
    /// path → `CodeSnapshot.digest` of its files, computed once per path.
    public var digests: [String: String] = [:]
    public init() {}

    public var isKnown: Bool { commit != nil }

    public mutating func add(_ path: String, files: [String: String]) {
        paths[path] = files
        digests[path] = CodeSnapshot.digest(files)
    }

    /// The files of `codePaths` together (file → blob id).
    public func files(_ codePaths: [String]) -> [String: String] {
        if codePaths.count == 1 { return paths[codePaths[0]] ?? [:] }
        var out: [String: String] = [:]
        for p in codePaths { out.merge(paths[p] ?? [:], uniquingKeysWith: { a, _ in a }) }
        return out
    }

    /// What the spec digest covers for `codePaths`: nil when they hold no file (`code: []`).
    public func digest(_ codePaths: [String]) -> String? {
        if codePaths.count == 1 { return paths[codePaths[0]]?.isEmpty == false ? digests[codePaths[0]] : nil }
        let f = files(codePaths)
        return f.isEmpty ? nil : CodeSnapshot.digest(f)
    }

    /// sha256 over `file=blob` lines in path order; nil-equivalent ("") for no files.
    public static func digest(_ files: [String: String]) -> String {
        var s = ContentHash()
        for k in files.keys.sorted() { s.update("\(k)=\(files[k]!)\n") }
        return s.finalize()
    }

    /// The files whose blob differs between a recorded map and this one (added, changed, removed), sorted.
    public static func changedFiles(from old: [String: String], to new: [String: String]) -> [String] {
        var out: [String] = []
        for (f, id) in new where old[f] != id { out.append(f) }
        for f in old.keys where new[f] == nil { out.append(f) }
        return out.sorted()
    }

    /// `handlers/finetune.py`, `a, b, c and 2 more`.
    public static func describe(_ files: [String]) -> String {
        files.count <= 3 ? files.joined(separator: ", ") : files.prefix(3).joined(separator: ", ") + " and \(files.count - 3) more"
    }
}
