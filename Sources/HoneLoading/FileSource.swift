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
    /// An id that changes whenever the file's bytes change (a git blob id), or nil when the source has
    /// none: with it, `ParseCache` skips reading and parsing files it has seen before.
    func contentID(_ path: String) throws -> String?
    /// A source that reads the same files and may be used on another thread at the same time as this
    /// one, or nil when reads must stay on the calling thread (then the loader reads first, then parses
    /// on every core).
    func readerForAnotherThread() throws -> FileSource?
}

extension FileSource {
    public func contentID(_ path: String) throws -> String? { nil }
    public func readerForAnotherThread() throws -> FileSource? { nil }
}

/// Top-level entries of the layout (design §1); nothing else is listed.
public enum Layout {
    public static let topFolders = ["models", "datasets", "runtimes", "groups", "evaluations", "status"]
    public static let projectFile = "hone.yaml"
    /// hone.yaml and what is under the top-level folders, except hidden files and folders (`.gitkeep`,
    /// editor temp files): the same rule for the working tree and for commits.
    public static func isInLayout(_ path: String) -> Bool {
        if path == projectFile { return true }
        let u = path.utf8
        guard let slash = u.firstIndex(of: UInt8(ascii: "/")) else { return false }
        guard topFolders.contains(String(Substring(u[..<slash]))) else { return false }
        // No hidden file or folder: no "/." anywhere.
        var previous: UInt8 = 0
        for c in u[slash...] {
            if previous == UInt8(ascii: "/") && c == UInt8(ascii: ".") { return false }
            previous = c
        }
        return true
    }
}

/// Reads the checked-out files of a repository (what `hone validate` sees by default), with POSIX
/// calls: one readdir per folder and one read per file.
public struct WorkingTreeSource: FileSource {
    public let root: URL
    private let rootPath: String
    public init(root: URL) {
        self.root = root.standardizedFileURL
        rootPath = self.root.path
    }
    public var label: String { "working tree" }
    /// Plain POSIX reads: any thread.
    public func readerForAnotherThread() throws -> FileSource? { self }

    /// Sorted as strings: each folder's entries are sorted with folders compared as "name/" (git's
    /// rule), which is the order of the full paths — no sort of 10,000 long paths.
    public func listFiles() throws -> [String] {
        var out: [String] = []
        var top: [(key: String, name: String, isDir: Bool)] = Layout.topFolders.map { ($0 + "/", $0, true) }
        if access(rootPath + "/" + Layout.projectFile, F_OK) == 0 { top.append((Layout.projectFile, Layout.projectFile, false)) }
        for entry in top.sorted(by: { $0.key < $1.key }) {
            if entry.isDir { walk(rootPath + "/" + entry.name, prefix: entry.name, into: &out) } else { out.append(entry.name) }
        }
        return out
    }

    private func walk(_ dir: String, prefix: String, into out: inout [String]) {
        guard let d = opendir(dir) else { return }
        var entries: [(key: String, name: String, isDir: Bool)] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            var isDir = e.pointee.d_type == UInt8(DT_DIR)
            if e.pointee.d_type == UInt8(DT_UNKNOWN) || e.pointee.d_type == UInt8(DT_LNK) {
                var st = stat()
                isDir = stat(dir + "/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append((isDir ? name + "/" : name, name, isDir))
        }
        closedir(d)
        entries.sort { $0.key < $1.key }
        for entry in entries {
            if entry.isDir { walk(dir + "/" + entry.name, prefix: prefix + "/" + entry.name, into: &out) }
            else { out.append(prefix + "/" + entry.name) }
        }
    }

    public func read(_ path: String) throws -> [UInt8]? {
        let fd = open(rootPath + "/" + path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        // Spec files are small: one read(2) into 16 KiB on the stack usually gets all of it (a short
        // read of a regular file is its end), without an fstat or a read that returns 0.
        let chunk = 16 * 1024
        var bytes: [UInt8] = []
        let complete = withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 1) { buffer -> Bool in
            var n: Int
            repeat { n = Foundation.read(fd, buffer.baseAddress!, chunk) } while n < 0 && errno == EINTR
            guard n >= 0 else { return false }
            bytes = [UInt8](buffer[0..<n])
            return true
        }
        guard complete else { return nil }
        guard bytes.count == chunk else { return bytes }
        // A larger file: read the rest.
        var more = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = more.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            bytes += more[0..<n]
        }
        return bytes
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
    public func readerForAnotherThread() throws -> FileSource? { self }
}

import Git

/// Reads the files of one commit through libgit2 (`--ref`): what reconcile and plan act on.
public final class CommitSource: FileSource {
    public let repository: Repository
    public let commit: ObjectID
    private var blobs: [String: ObjectID] = [:]
    private var sortedPaths: [String] = []
    private var listed = false

    public init(repository: Repository, commit: ObjectID) {
        self.repository = repository; self.commit = commit
    }
    public var label: String { "commit \(commit.short)" }

    public func listFiles() throws -> [String] {
        try listIfNeeded()
        return sortedPaths
    }

    /// The same listing over a handle of its own (libgit2 handles are not shared between threads);
    /// nil when the repository cannot be opened again by path (then reads stay on this thread).
    public func readerForAnotherThread() throws -> FileSource? {
        try listIfNeeded()
        guard let again = try? Repository.open(repository.gitDir) else { return nil }
        let reader = CommitSource(repository: again, commit: commit)
        reader.blobs = blobs
        reader.sortedPaths = sortedPaths
        reader.listed = true
        return reader
    }

    public func contentID(_ path: String) throws -> String? { try blobID(path)?.hex }

    /// The blob id of a path (for diffs that skip what did not change).
    public func blobID(_ path: String) throws -> ObjectID? {
        try listIfNeeded()
        return blobs[path]
    }

    private func listIfNeeded() throws {
        guard !listed else { return }
        listed = true
        let entries = try repository.tree(of: commit)
        blobs.reserveCapacity(entries.count)
        sortedPaths.reserveCapacity(entries.count)
        for entry in entries where Layout.isInLayout(entry.path) {
            blobs[entry.path] = entry.blob
            sortedPaths.append(entry.path)
        }
        // Git orders a folder as if its name ended in "/": nearly always sorted already.
        if !zip(sortedPaths, sortedPaths.dropFirst()).allSatisfy({ $0 < $1 }) { sortedPaths.sort() }
    }

    public func read(_ path: String) throws -> [UInt8]? {
        try listIfNeeded()
        guard let id = blobs[path] else { return nil }
        return try repository.readBlobBytes(id)
    }
}
