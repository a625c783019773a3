import Foundation
import Git
import HoneModel

/// Errors of acting on a repository (engine and read side): what the user did that hone cannot act on, said plainly.
public struct HoneError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A hone repository on disk: its root, its git repository (when there is one), and how to read it.
public final class Workspace {
    public let root: URL
    public let repository: Repository?

    /// Finds the repository that holds `path`: the nearest folder upward with `.git` or `hone.yaml`.
    public init(path: String) throws {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        let fm = FileManager.default
        var found: URL? = nil
        var candidate = url
        while true {
            if fm.fileExists(atPath: candidate.appendingPathComponent(".git").path)
                || fm.fileExists(atPath: candidate.appendingPathComponent(Layout.projectFile).path) {
                found = candidate; break
            }
            let parent = candidate.deletingLastPathComponent()
            if parent.path == candidate.path { break }
            candidate = parent
        }
        guard let found else {
            throw HoneError("\(path) is not inside a hone repository (no hone.yaml or .git above it): run `hone init` to make one")
        }
        url = found
        root = url
        repository = fm.fileExists(atPath: url.appendingPathComponent(".git").path) ? try Repository.open(url.path) : nil
    }

    public func requireRepository() throws -> Repository {
        guard let repository else { throw HoneError("\(root.path) is not a git repository: hone keeps everything in git (run `git init` or `hone init`)") }
        return repository
    }

    /// The working tree, or the commit `ref` names.
    public func source(ref: String?) throws -> FileSource {
        guard let ref else { return WorkingTreeSource(root: root) }
        let repo = try requireRepository()
        let id: ObjectID
        do { id = try repo.resolve(ref) } catch {
            if (try? repo.headCommit()) == nil {
                throw HoneError("--ref \(ref): the repository has no commits yet (commit the files first, or drop --ref to read the working tree)")
            }
            throw HoneError("cannot resolve --ref \(ref): no branch, tag or commit by that name (\(error))")
        }
        return CommitSource(repository: repo, commit: id)
    }

    public func load(ref: String?, includeStatus: Bool = true) throws -> LoadResult {
        try Loader(source: source(ref: ref)).load(includeStatus: includeStatus)
    }

    /// With `--base`: the head to read (HEAD unless `--ref` names one) and the paths that differ
    /// between base and head, renames and deletions included (libgit2 tree diff).
    public func pullRequestChange(base: String?, ref: String?) throws -> (ref: String?, changedPaths: [String]?) {
        guard let base else { return (ref, nil) }
        let repo = try requireRepository()
        let head = ref ?? "HEAD"
        let baseID: ObjectID
        do { baseID = try repo.resolve(base) } catch { throw HoneError("cannot resolve --base \(base): \(error)") }
        let headID: ObjectID
        do { headID = try repo.resolve(head) } catch { throw HoneError("cannot resolve --ref \(head): \(error)") }
        // What the pull request changes: from where it forked (the merge base), as the forge shows it — not what
        // the base did since (a baseline main re-evaluated is not the branch's change).
        let fork = try repo.mergeBase(baseID, headID) ?? baseID
        return (head, try repo.diff(from: fork, to: headID).flatMap { [$0.oldPath, $0.newPath].compactMap { $0 } })
    }

    /// The branch a plan of `ref` (nil: HEAD) is for: a branch's name, a remote-tracking branch's name without
    /// its remote (`origin/main` → main), the checked-out branch for its tip, nil for any other commit.
    public func plannedBranch(ref: String?) -> String? {
        guard let repo = try? requireRepository() else { return nil }
        let current = try? repo.currentBranch()
        guard let ref else { return current ?? nil }
        if (try? repo.referenceTarget("refs/heads/\(ref)")) != nil { return ref }
        if (try? repo.referenceTarget("refs/remotes/\(ref)")) != nil, let slash = ref.firstIndex(of: "/") { return String(ref[ref.index(after: slash)...]) }
        if let c = current ?? nil, let tip = try? repo.headCommit(), (try? repo.resolve(ref)) == tip { return c }
        return nil
    }

    public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// Writes a file atomically (temp file + rename), creating folders: how hone writes files a user reads
    /// (specs it edits, reports).
    public static func atomicWrite(_ url: URL, _ data: Data) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try data.write(to: tmp)
        if rename(tmp.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: tmp)
            throw HoneError("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
