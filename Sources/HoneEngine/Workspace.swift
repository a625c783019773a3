import Foundation
import HoneExecutors
import Git
import HoneLoading
import HoneModel

/// Errors of the engine area: what the user did that hone cannot act on, said plainly.
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

    public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// `.hone/` of this repository, made sure of (see `privateFolder(in:)`).
    @discardableResult
    public func privateFolder() throws -> URL { try Workspace.privateFolder(in: root) }

    /// The one place `.hone/` is created: hone's private folder (jobs, store, snapshots, lock, journal), with
    /// its `.gitignore` (`*`) so that git never sees any of it — `git status` stays clean and `git add -A`
    /// commits none of it — without touching the user's own .gitignore. Called whenever hone is about to
    /// write there (the lock, each reconcile pass, each launch): a `.hone/` someone removed meanwhile comes
    /// back with its ignore rule. Costs one stat when all is in place.
    @discardableResult
    public static func privateFolder(in root: URL) throws -> URL {
        let dir = root.appendingPathComponent(".hone")
        let ignore = dir.appendingPathComponent(".gitignore")
        if FileManager.default.fileExists(atPath: ignore.path) { return dir }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try atomicWrite(ignore, Data("# Written by hone: everything here is local (jobs, artifact store, lock).\n*\n".utf8))
        return dir
    }

    /// Writes a file atomically (temp file + rename), creating folders.
    public func write(_ relative: String, _ text: String) throws {
        try Workspace.atomicWrite(url(relative), Data(text.utf8))
    }

    /// Writes in place (open/write/close): no temporary file and no fsync, for files whose callers can
    /// tell or repair a torn write (status files: the journal; job files: written again before any launch).
    static func plainWrite(_ url: URL, _ data: Data) throws {
        do { try PlainFile.write(data, to: url.path) } catch { throw HoneError("\(error)") }
    }

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
