import Foundation

/// Where hone reads a repository's files from: the working tree, or a commit (`--ref`).
public protocol FileSource {
    /// "working tree" or "commit 1a2b3c4": said in messages.
    var label: String { get }
    /// Repository-relative paths ('/'-separated) of the files hone cares about
    /// (hone.yaml and everything under the layout's top-level folders).
    func listFiles() throws -> [String]
    /// A file's bytes; nil when absent.
    func read(_ path: String) throws -> [UInt8]?
}

/// Top-level entries of the layout (design §1); nothing else is listed.
public enum Layout {
    public static let topFolders = ["models", "datasets", "runtimes", "groups", "evaluations", "status"]
    public static let projectFile = "hone.yaml"
    /// hone.yaml and what is under the top-level folders, except hidden files and folders (`.gitkeep`,
    /// editor temp files): the same rule for the working tree and for commits.
    public static func isInLayout(_ path: String) -> Bool {
        if path == projectFile { return true }
        guard let slash = path.firstIndex(of: "/") else { return false }
        guard topFolders.contains(String(path[..<slash])) else { return false }
        return !path.contains("/.")
    }
}

/// Reads the checked-out files of a repository (what `hone validate` sees by default).
public struct WorkingTreeSource: FileSource {
    public let root: URL
    public init(root: URL) { self.root = root.standardizedFileURL }
    public var label: String { "working tree" }

    public func listFiles() throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        if fm.fileExists(atPath: root.appendingPathComponent(Layout.projectFile).path) { out.append(Layout.projectFile) }
        for top in Layout.topFolders {
            let dir = root.appendingPathComponent(top)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else { continue }
            walk(dir, prefix: top, into: &out)
        }
        return out.sorted()
    }

    private func walk(_ dir: URL, prefix: String, into out: inout [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names.sorted() where !name.hasPrefix(".") {
            let url = dir.appendingPathComponent(name)
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
            if isDir.boolValue { walk(url, prefix: prefix + "/" + name, into: &out) } else { out.append(prefix + "/" + name) }
        }
    }

    public func read(_ path: String) throws -> [UInt8]? {
        let url = root.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return [UInt8](data)
    }
}

/// A fixed set of files in memory (tests, and the plan's base side).
public struct MemorySource: FileSource {
    public var files: [String: [UInt8]]
    public var label: String
    public init(files: [String: String], label: String = "memory") {
        self.files = files.mapValues { Array($0.utf8) }; self.label = label
    }
    public func listFiles() throws -> [String] { files.keys.filter(Layout.isInLayout).sorted() }
    public func read(_ path: String) throws -> [UInt8]? { files[path] }
}

import Git

/// Reads the files of one commit through libgit2 (`--ref`): what reconcile and plan act on.
public final class CommitSource: FileSource {
    public let repository: Repository
    public let commit: ObjectID
    private var blobs: [String: ObjectID] = [:]
    private var listed = false

    public init(repository: Repository, commit: ObjectID) {
        self.repository = repository; self.commit = commit
    }
    public var label: String { "commit \(commit.short)" }

    public func listFiles() throws -> [String] {
        try listIfNeeded()
        return blobs.keys.sorted()
    }

    /// The blob id of a path (for diffs that skip what did not change).
    public func blobID(_ path: String) throws -> ObjectID? {
        try listIfNeeded()
        return blobs[path]
    }

    private func listIfNeeded() throws {
        guard !listed else { return }
        listed = true
        for entry in try repository.tree(of: commit) where Layout.isInLayout(entry.path) {
            blobs[entry.path] = entry.blob
        }
    }

    public func read(_ path: String) throws -> [UInt8]? {
        try listIfNeeded()
        guard let id = blobs[path] else { return nil }
        return [UInt8](try repository.readBlob(id))
    }
}
