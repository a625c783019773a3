import Foundation
import Git
import HoneModel

/// Reads the code runs and evals depend on (`code:`, specs/run.md) from a commit through libgit2: the blob
/// id of every file at or under a path. Never from the working tree: what a job runs is the commit's tree,
/// and hashing files on every plan would cost more than the plan. Each (commit, path) is read once.
public final class CodeReader {
    let repository: Repository
    /// The commit the current code is read from: the commit read, or HEAD for the working tree.
    public let commit: ObjectID
    private var cache: [String: [String: String]] = [:]

    public init(repository: Repository, commit: ObjectID) { self.repository = repository; self.commit = commit }

    /// The files at or under `path` in `commit` (this reader's commit by default): file → blob id.
    public func files(under path: String, in commit: ObjectID? = nil) throws -> [String: String] {
        let commit = commit ?? self.commit
        let key = commit.hex + "\n" + path
        if let hit = cache[key] { return hit }
        var out: [String: String] = [:]
        for e in try repository.tree(of: commit, under: path) { out[e.path] = e.blob.hex }
        cache[key] = out
        return out
    }

    /// The current code of every path `desired` names, each read once.
    public func snapshot(of desired: DesiredState) throws -> CodeSnapshot {
        var snapshot = CodeSnapshot()
        snapshot.commit = commit.hex
        var wanted: Set<String> = []
        for r in desired.runs.values { wanted.formUnion(r.code) }
        for e in desired.evals.values { wanted.formUnion(e.code) }
        for p in wanted.sorted() { snapshot.add(p, files: try files(under: p)) }
        return snapshot
    }

    /// For statuses recorded before hone recorded code: the code of the object's paths in the commit its
    /// attempt was launched from. Absent when that commit is unknown or not in the repository.
    public func codeAtLaunch(_ desired: DesiredState, _ recorded: RecordedState) -> [ObjectKey: [String: String]] {
        var out: [ObjectKey: [String: String]] = [:]
        var readable: [String: ObjectID?] = [:]  // per commit: 10,000 statuses share a few
        for (key, status) in recorded.statuses where status.code == nil {
            guard let paths = desired.runs[key]?.code ?? desired.evals[key]?.code, !paths.isEmpty, let hex = status.specCommit else { continue }
            if readable[hex] == nil {
                readable[hex] = ObjectID(hex: hex).flatMap { id in (try? repository.commit(id)).map { _ in id } }
            }
            guard let id = readable[hex] ?? nil else { continue }
            var files: [String: String] = [:]
            for p in paths { guard let f = try? self.files(under: p, in: id) else { continue }; files.merge(f) { a, _ in a } }
            out[key] = files
        }
        return out
    }
}
