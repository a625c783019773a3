import Foundation
import HoneExecutors
import HoneLoading
import HoneModel

/// What the engine writes in a repository: `.hone/` and files written in place (the read side, in
/// HoneLoading's `Workspace`, only reads and writes files atomically).
extension Workspace {
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
        // Someone removing `.hone/` (`rm -rf`, again and again while it is not empty) can take the folder away
        // between its creation and the rule's rename: make both again, a bounded number of times.
        var attempt = 0
        while !FileManager.default.fileExists(atPath: ignore.path) {
            attempt += 1
            do {
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try atomicWrite(ignore, Data("# Written by hone: everything here is local (jobs, artifact store, lock).\n*\n".utf8))
            } catch where attempt < 20 {
                continue
            }
        }
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
}
