import Foundation

/// Where hone reads a repository's files from: the working tree, or a commit (`--ref`). Both follow
/// one policy (see `RefusedFile`): regular files only, no symbolic link followed, a bounded read.
public protocol FileSource {
    /// "working tree" or "commit 1a2b3c4": said in messages.
    var label: String { get }
    /// Repository-relative paths ('/'-separated) of the files hone cares about
    /// (hone.yaml and everything under the layout's top-level folders).
    func listFiles() throws -> [String]
    /// The files and the layout entries hone refuses to read (links, FIFOs, devices, sockets).
    func listing() throws -> Listing
    /// A file's bytes, at most `limit` of them; nil when absent. Throws `RefusedFile` for a link, a
    /// special file or a file larger than `limit` (which is then never opened, or never read whole).
    func read(_ path: String, limit: Int) throws -> [UInt8]?
    /// An id that changes whenever the file's bytes change (a git blob id), or nil when the source has
    /// none: with it, `ParseCache` skips reading and parsing files it has seen before.
    func contentID(_ path: String) throws -> String?
    /// A source that reads the same files and may be used on another thread at the same time as this
    /// one, or nil when reads must stay on the calling thread (then the loader reads first, then parses
    /// on every core).
    func readerForAnotherThread() throws -> FileSource?
    /// The files (regular or links, not folders) directly in `folder` ("" for the root), as
    /// repository-relative paths, inside the layout or not; [] when there is no such folder, nil when
    /// the source cannot tell. What a handler's script is checked against.
    func filesInFolder(_ folder: String) throws -> [String]?
    /// Whether `path` is a file or a folder of the tree (a `code:` path is checked against it); nil when
    /// the source cannot tell.
    func hasPath(_ path: String) throws -> Bool?
    /// Where the code runs and evals depend on is read from: the commit read, HEAD for the working tree;
    /// nil without a repository or a commit (code is then not compared: specs/run.md, "Code").
    func codeReader() throws -> CodeReader?
}

extension FileSource {
    public func listing() throws -> Listing { Listing(files: try listFiles(), refused: []) }
    public func contentID(_ path: String) throws -> String? { nil }
    public func readerForAnotherThread() throws -> FileSource? { nil }
    public func filesInFolder(_ folder: String) throws -> [String]? { nil }
    public func hasPath(_ path: String) throws -> Bool? { nil }
    public func codeReader() throws -> CodeReader? { nil }
    /// An attachment (a committed log, metrics.jsonl): the same policy, with the attachment limit.
    public func read(_ path: String) throws -> [UInt8]? { try read(path, limit: ReadLimit.attachment) }
}

/// What a source holds: the files it can read, and the layout entries it refuses, each with why.
public struct Listing: Sendable {
    public var files: [String]
    public var refused: [RefusedFile]
    public init(files: [String], refused: [RefusedFile]) { self.files = files; self.refused = refused }
}

/// How much hone reads of one file. Specs and statuses are a few KiB; the cap keeps a hostile file
/// (or /dev/zero behind a link) from filling memory.
public enum ReadLimit {
    /// hone.yaml, versions, groups, runs, evals, views and statuses: 1 MiB each.
    public static let specFile = 1 << 20
    /// Files beside a status (logs, metrics.jsonl, results.jsonl), which git holds whole anyway.
    public static let attachment = 1 << 30
}

/// A layout entry hone does not read, and why. hone reads regular files only and never follows a
/// symbolic link — in the working tree or in a commit's tree (mode 120000) alike, so that plan (the
/// working tree) and reconcile (the commit) always see the same files — and never opens a FIFO,
/// device or socket (a FIFO would block, a device could be endless).
public struct RefusedFile: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case symbolicLink, fifo, device, socket, tooLarge(limit: Int)
    }
    public var path: String
    public var reason: Reason
    public init(path: String, reason: Reason) { self.path = path; self.reason = reason }

    public var message: String {
        switch reason {
        case .symbolicLink: return "symbolic link: hone reads regular files only (it never follows a link)"
        case .fifo: return "FIFO (named pipe): hone reads regular files only"
        case .device: return "device file: hone reads regular files only"
        case .socket: return "socket: hone reads regular files only"
        case .tooLarge(let limit): return "file is larger than \(limit >> 20) MiB: hone reads spec and status files up to \(limit >> 20) MiB"
        }
    }
    public var description: String { "\(path): \(message)" }

    /// The reason for a file of this `st_mode` type, nil for a regular file or a folder.
    static func reason(mode: mode_t) -> Reason? {
        switch mode & S_IFMT {
        case S_IFREG, S_IFDIR: return nil
        case S_IFLNK: return .symbolicLink
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        default: return .device
        }
    }
}

/// Top-level entries of the layout; nothing else is listed.
public enum Layout {
    public static let topFolders = ["models", "datasets", "runtimes", "groups", "evaluations", "status"]
    public static let projectFile = "hone.yaml"
    /// hone.yaml and what is under the top-level folders, except hidden files and folders (`.gitkeep`,
    /// editor temp files) — but a hidden name ending in `.yaml` is in (it is then reported, never
    /// skipped silently: `.x.yaml` fails the name check). The same rule for the working tree and commits.
    public static func isInLayout(_ path: String) -> Bool {
        if path == projectFile { return true }
        let u = path.utf8
        guard let slash = u.firstIndex(of: UInt8(ascii: "/")) else { return false }
        guard topFolders.contains(String(Substring(u[..<slash]))) else { return false }
        // A hidden component: a "/." anywhere.
        var previous: UInt8 = 0
        for c in u[slash...] {
            if previous == UInt8(ascii: "/") && c == UInt8(ascii: ".") { return path.hasSuffix(".yaml") }
            previous = c
        }
        return true
    }
}

/// Reads the checked-out files of a repository (what `hone validate` sees by default), with POSIX
/// calls: one readdir per folder, and per file an `openat` of each folder and the file that follows
/// no link (`O_NOFOLLOW`) and never blocks (`O_NONBLOCK`), an `fstat` and a bounded read.
public struct WorkingTreeSource: FileSource {
    public let root: URL
    private let rootPath: String
    private let lastFolder = LastFolder()
    public init(root: URL) {
        self.root = root.standardizedFileURL
        rootPath = self.root.path
    }
    public var label: String { "working tree" }
    /// Plain POSIX reads: any thread (each reader keeps its own open folder).
    public func readerForAnotherThread() throws -> FileSource? { WorkingTreeSource(root: root) }

    public func listFiles() throws -> [String] { try listing().files }

    /// A file or folder, not followed if it is a link (a link is neither).
    public func hasPath(_ path: String) throws -> Bool? {
        var st = stat()
        guard lstat(rootPath + "/" + path, &st) == 0 else { return false }
        let type = st.st_mode & S_IFMT
        return type == S_IFREG || type == S_IFDIR
    }

    /// HEAD's tree: plan on the working tree compares the code reconcile would run (the committed code).
    public func codeReader() throws -> CodeReader? {
        guard FileManager.default.fileExists(atPath: rootPath + "/.git"),
              let repository = try? Repository.open(rootPath), let head = try repository.headCommit() else { return nil }
        return CodeReader(repository: repository, commit: head)
    }

    /// Sorted as strings: each folder's entries are sorted with folders compared as "name/" (git's
    /// rule), which is the order of the full paths — no sort of 10,000 long paths. Entries are
    /// typed with `lstat` rules (d_type, never `stat`): a link to a folder is a refused link.
    public func listing() throws -> Listing {
        var out = Listing(files: [], refused: [])
        var top: [Entry] = Layout.topFolders.map { Entry(key: $0 + "/", name: $0, type: DT_DIR) }
        var st = stat()
        if lstat(rootPath + "/" + Layout.projectFile, &st) == 0 {
            top.append(Entry(key: Layout.projectFile, name: Layout.projectFile, type: WorkingTreeSource.direntType(st.st_mode)))
        }
        for var entry in top.sorted(by: { $0.key < $1.key }) {
            if entry.type == DT_DIR {
                guard lstat(rootPath + "/" + entry.name, &st) == 0 else { continue }
                entry.type = WorkingTreeSource.direntType(st.st_mode)
                // A file named like a folder is outside the layout (as in a commit); a link is refused.
                if entry.type == DT_REG { continue }
            }
            add(entry, dir: rootPath, prefix: "", hidden: false, into: &out)
        }
        return out
    }

    struct Entry { var key: String; var name: String; var type: Int }

    static func direntType(_ mode: mode_t) -> Int {
        switch mode & S_IFMT {
        case S_IFDIR: return DT_DIR
        case S_IFREG: return DT_REG
        case S_IFLNK: return DT_LNK
        case S_IFIFO: return DT_FIFO
        case S_IFSOCK: return DT_SOCK
        case S_IFCHR: return DT_CHR
        default: return DT_BLK
        }
    }

    /// Lists a folder entry: descends a folder, adds a regular file, records what is refused.
    private func add(_ entry: Entry, dir: String, prefix: String, hidden: Bool, into out: inout Listing) {
        let path = prefix + entry.name
        let isHidden = hidden || entry.name.hasPrefix(".")
        if entry.type == DT_DIR { return walk(dir + "/" + entry.name, prefix: path + "/", hidden: isHidden, into: &out) }
        // Hidden files are skipped unless their name ends in .yaml (Layout.isInLayout).
        if isHidden && !entry.name.hasSuffix(".yaml") { return }
        let reason: RefusedFile.Reason?
        switch entry.type {
        case DT_REG: reason = nil
        case DT_LNK: reason = .symbolicLink
        case DT_FIFO: reason = .fifo
        case DT_SOCK: reason = .socket
        default: reason = .device
        }
        if let reason { out.refused.append(RefusedFile(path: path, reason: reason)) } else { out.files.append(path) }
    }

    private func walk(_ dir: String, prefix: String, hidden: Bool, into out: inout Listing) {
        guard let d = opendir(dir) else { return }
        var entries: [Entry] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var type = Int(e.pointee.d_type)
            if type == DT_UNKNOWN {
                var st = stat()
                guard lstat(dir + "/" + name, &st) == 0 else { continue }
                type = WorkingTreeSource.direntType(st.st_mode)
            }
            entries.append(Entry(key: type == DT_DIR ? name + "/" : name, name: name, type: type))
        }
        closedir(d)
        entries.sort { $0.key < $1.key }
        for entry in entries { add(entry, dir: dir, prefix: prefix, hidden: hidden, into: &out) }
    }

    /// One readdir of the folder, reached without following a link; entries typed as by `lstat`.
    public func filesInFolder(_ folder: String) throws -> [String]? {
        let dir: Int32?
        do { dir = try openFolder(folder) } catch is RefusedFile { return [] }
        guard let dir, let d = fdopendir(dir) else { return [] }
        defer { closedir(d) }
        var files: [String] = []
        let prefix = folder.isEmpty ? "" : folder + "/"
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            var type = Int(e.pointee.d_type)
            if type == DT_UNKNOWN {
                var st = stat()
                guard fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                type = WorkingTreeSource.direntType(st.st_mode)
            }
            if type == DT_REG || type == DT_LNK { files.append(prefix + name) }
        }
        return files.sorted()
    }

    public func read(_ path: String, limit: Int) throws -> [UInt8]? {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return try lastFolder.with(folder, open: { try openFolder(folder) }) { dir in
            guard let dir, let (fd, size) = try openRegular(name, in: dir, path: path) else { return nil }
            defer { close(fd) }
            return try BoundedRead.bytes(of: fd, size: size, limit: limit, path: path)
        }
    }

    /// Opens a folder below the root one component at a time, following no link on the way (a link
    /// is refused, naming it); nil when absent.
    private func openFolder(_ folder: String) throws -> Int32? {
        var dir = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        let parts = folder.split(separator: "/").map(String.init)
        for (i, part) in parts.enumerated() {
            var st = stat()
            let found = fstatat(dir, part, &st, AT_SYMLINK_NOFOLLOW) == 0
            if found, let reason = RefusedFile.reason(mode: st.st_mode) {
                close(dir)
                throw RefusedFile(path: parts[...i].joined(separator: "/"), reason: reason)
            }
            let next = found ? openat(dir, part, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_DIRECTORY) : -1
            let failure = errno
            close(dir)
            guard next >= 0 else {
                // Swapped for a link since the fstatat.
                if found && failure == ELOOP { throw RefusedFile(path: parts[...i].joined(separator: "/"), reason: .symbolicLink) }
                return nil
            }
            dir = next
        }
        return dir
    }

    /// Opens the regular file `name` of an open folder; nil when absent or a folder. A special file
    /// or a link is refused after an `fstatat`, without being opened.
    private func openRegular(_ name: String, in dir: Int32, path: String) throws -> (fd: Int32, size: Int)? {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        if let reason = RefusedFile.reason(mode: st.st_mode) { throw RefusedFile(path: path, reason: reason) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP { throw RefusedFile(path: path, reason: .symbolicLink) }  // swapped for a link meanwhile
            return nil
        }
        // Checked again on the open file: it may have been replaced since the fstatat.
        guard fstat(fd, &st) == 0, RefusedFile.reason(mode: st.st_mode) == nil else {
            close(fd)
            throw RefusedFile(path: path, reason: RefusedFile.reason(mode: st.st_mode) ?? .device)
        }
        return (fd, Int(st.st_size))
    }
}

/// The folder of the last read, kept open: the loader reads in path order, so most reads share their
/// folder with the one before, and opening it link by link costs once per folder, not per file.
final class LastFolder: @unchecked Sendable {
    private let lock = NSLock()
    private var path: String?
    private var fd: Int32?
    deinit { if let fd { close(fd) } }

    /// Runs `body` with the folder's descriptor (nil when the folder is absent), opening it if it is
    /// not the last one; the descriptor stays valid during `body`.
    func with<T>(_ folder: String, open: () throws -> Int32?, _ body: (Int32?) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if path != folder {
            if let fd { close(fd) }
            path = nil; fd = nil
            fd = try open()
            path = folder
        }
        return try body(fd)
    }
}

/// Reads an open file to its end, refusing it past `limit` bytes: memory never holds more than
/// `limit + 1` bytes of it, whatever its size says.
enum BoundedRead {
    static func bytes(of fd: Int32, size: Int, limit: Int, path: String) throws -> [UInt8] {
        if size > limit { throw RefusedFile(path: path, reason: .tooLarge(limit: limit)) }
        var bytes: [UInt8] = []
        var capacity = max(size, 0) + 1  // one more than the size: the read that returns 0 ends it
        while true {
            let start = bytes.count
            var ended = false
            bytes.reserveCapacity(capacity)
            bytes += [UInt8](unsafeUninitializedCapacity: capacity - start) { buffer, count in
                var n = 0
                while n < buffer.count {
                    let want = buffer.count - n
                    let r = Foundation.read(fd, buffer.baseAddress! + n, want)
                    if r < 0 && errno == EINTR { continue }
                    if r <= 0 { ended = true; break }
                    n += r
                    // A short read of a regular file is its end: no read that returns 0 after it.
                    if r < want { ended = true; break }
                }
                count = n
            }
            if bytes.count > limit { throw RefusedFile(path: path, reason: .tooLarge(limit: limit)) }
            if ended { return bytes }
            // The file grew since its fstat: read on, up to one byte past the limit.
            capacity = min(capacity * 2, limit + 1)
        }
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
    public func read(_ path: String, limit: Int) throws -> [UInt8]? {
        guard let bytes = files[path] else { return nil }
        if bytes.count > limit { throw RefusedFile(path: path, reason: .tooLarge(limit: limit)) }
        return bytes
    }
    public func readerForAnotherThread() throws -> FileSource? { self }
    public func filesInFolder(_ folder: String) throws -> [String]? {
        let prefix = folder.isEmpty ? "" : folder + "/"
        return files.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }.sorted()
    }
    public func hasPath(_ path: String) throws -> Bool? { files.keys.contains { $0 == path || $0.hasPrefix(path + "/") } }
}

import Git

/// Reads the files of one commit through libgit2 (`--ref`): what reconcile and plan act on.
public final class CommitSource: FileSource {
    public let repository: Repository
    public let commit: ObjectID
    private var blobs: [String: ObjectID] = [:]
    private var sortedPaths: [String] = []
    /// Links (mode 120000) in the layout: refused, like links in the working tree.
    private var links: [String] = []
    private var listed = false

    public init(repository: Repository, commit: ObjectID) {
        self.repository = repository; self.commit = commit
    }
    public var label: String { "commit \(commit.short)" }

    public func listFiles() throws -> [String] {
        try listIfNeeded()
        return sortedPaths
    }

    public func listing() throws -> Listing {
        try listIfNeeded()
        return Listing(files: sortedPaths, refused: links.map { RefusedFile(path: $0, reason: .symbolicLink) })
    }

    /// The same listing over a handle of its own (libgit2 handles are not shared between threads);
    /// nil when the repository cannot be opened again by path (then reads stay on this thread).
    public func readerForAnotherThread() throws -> FileSource? {
        try listIfNeeded()
        guard let again = try? Repository.open(repository.gitDir) else { return nil }
        let reader = CommitSource(repository: again, commit: commit)
        reader.blobs = blobs
        reader.sortedPaths = sortedPaths
        reader.links = links
        reader.listed = true
        return reader
    }

    public func contentID(_ path: String) throws -> String? { try blobID(path)?.hex }

    public func hasPath(_ path: String) throws -> Bool? { !(try repository.tree(of: commit, under: path)).isEmpty }
    public func codeReader() throws -> CodeReader? { CodeReader(repository: repository, commit: commit) }

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
        for entry in entries {
            if entry.symbolicLink {
                // A link in place of a top folder is refused too, as in the working tree.
                if Layout.isInLayout(entry.path) || Layout.topFolders.contains(entry.path) { links.append(entry.path) }
                continue
            }
            guard Layout.isInLayout(entry.path) else { continue }
            blobs[entry.path] = entry.blob
            sortedPaths.append(entry.path)
        }
        // Git orders a folder as if its name ended in "/": nearly always sorted already.
        if !zip(sortedPaths, sortedPaths.dropFirst()).allSatisfy({ $0 < $1 }) { sortedPaths.sort() }
    }

    /// Read from the commit's tree when asked (only handlers' folders are), not kept with the listing.
    public func filesInFolder(_ folder: String) throws -> [String]? {
        let prefix = folder.isEmpty ? "" : folder + "/"
        return try repository.tree(of: commit, under: folder).map(\.path)
            .filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }
    }

    /// A link, or a path below one, is refused; a blob larger than `limit` too (git holds it whole,
    /// so reading it is bounded by the repository, but hone does not parse it).
    public func read(_ path: String, limit: Int) throws -> [UInt8]? {
        try listIfNeeded()
        guard let id = blobs[path] else {
            if let link = links.first(where: { path == $0 || path.hasPrefix($0 + "/") }) {
                throw RefusedFile(path: link, reason: .symbolicLink)
            }
            return nil
        }
        let bytes = try repository.readBlobBytes(id)
        if bytes.count > limit { throw RefusedFile(path: path, reason: .tooLarge(limit: limit)) }
        return bytes
    }
}
