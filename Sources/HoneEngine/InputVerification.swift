import Foundation
import HoneExecutors
import HoneLoading
import HoneModel

/// `hone verify`: every model and dataset version whose artifact this machine can read, checked against its
/// `sha256` the way a job's preparation checks it (the stat cache spares reading unchanged files; `deep`
/// reads everything and refreshes the cache).
public struct InputCheck: Sendable {
    public enum Outcome: Sendable, Equatable { case ok, mismatch(actual: String), missing, unreadable(String) }
    public var kind: VersionKind
    public var ref: VersionRef
    public var uri: String
    public var outcome: Outcome
    public var bytes: Int
}

public struct InputVerification: Sendable {
    public var checks: [InputCheck]
    public var seconds: Double
    public var failed: Bool { checks.contains { $0.outcome != .ok } }
    public var bytes: Int { checks.reduce(0) { $0 + $1.bytes } }
}

extension Workspace {
    /// Repository-relative URIs are read in the working tree (a job reads them in its snapshot of the commit).
    public func verifyInputs(deep: Bool) throws -> InputVerification {
        let load = try self.load(ref: nil, includeStatus: false)
        let store = ArtifactStore(project: load.desired.project, repositoryRoot: root)
        let cache: StatCache = deep ? StatCache(file: store.inputCache.file, empty: true) : store.inputCache
        let start = Date()
        var checks: [InputCheck] = []
        for kind in [VersionKind.model, .dataset] {
            let versions = (load.desired.versions[kind] ?? [:]).values.sorted { $0.ref.description < $1.ref.description }
            for v in versions {
                guard let uri = v.uri, let sha = v.sha256 else { continue }
                var check = InputCheck(kind: kind, ref: v.ref, uri: uri, outcome: .ok, bytes: 0)
                if let url = store.resolve(uri) {
                    var st = stat()
                    if lstat(url.path, &st) != 0 { check.outcome = .missing } else {
                        do {
                            let actual = try store.digest(ofInput: url, cache: cache)
                            if actual != sha { check.outcome = .mismatch(actual: actual) }
                            check.bytes = Self.size(of: url)
                        } catch { check.outcome = .unreadable("\(error)") }
                    }
                } else { check.outcome = .unreadable("hone cannot read uri \(uri)") }
                checks.append(check)
            }
        }
        let seconds = Date().timeIntervalSince(start)
        cache.save()
        return InputVerification(checks: checks, seconds: seconds)
    }

    static func size(of url: URL) -> Int {
        var st = stat()
        guard lstat(url.path, &st) == 0 else { return 0 }
        if (st.st_mode & S_IFMT) != S_IFDIR { return Int(st.st_size) }
        let listed = OutputFile.regularFiles(in: "", under: url.path)
        return listed.files.reduce(0) { total, f in
            var fst = stat()
            return total + (lstat(url.appendingPathComponent(f).path, &fst) == 0 ? Int(fst.st_size) : 0)
        }
    }

    /// `hone digest PATH`: the digest of a file or folder as a version's `sha256` must say (always read).
    public static func digest(of path: URL) throws -> String {
        try ArtifactStore(project: nil, repositoryRoot: path).digest(ofInput: path)
    }
}
