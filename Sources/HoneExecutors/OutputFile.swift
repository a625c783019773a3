import Foundation
import HoneModel

/// A file a job wrote (or an input it reads), opened the one way hone reads such files: never through a
/// symbolic link, only a regular file, and never more than the caller asks for. A handler controls what is
/// in its job folder, so `out/summary.json -> /proc/self/environ` would otherwise make the reconciler read
/// (and commit) its own environment, and a FIFO or `/dev/zero` would make it block or read without end.
///
/// Each path component below the trusted folder is opened with `O_NOFOLLOW`; the last one is `lstat`ed
/// first (a FIFO or device is never opened), then opened with `O_NOFOLLOW | O_NONBLOCK` and checked again
/// with `fstat` (it may have been swapped in between). Owns its descriptor.
package final class OutputFile {
    /// Why a path was not read.
    package enum Refusal: Error, Equatable, CustomStringConvertible {
        case symbolicLink(String)
        case notRegular(String, kind: String)
        case unreadable(String, reason: String)

        package var path: String {
            switch self {
            case .symbolicLink(let p), .notRegular(let p, _), .unreadable(let p, _): return p
            }
        }
        package var description: String {
            switch self {
            case .symbolicLink(let p): return "\(p) is a symbolic link (hone never follows links in a job's files)"
            case .notRegular(let p, let kind): return "\(p) is \(kind), not a regular file"
            case .unreadable(let p, let reason): return "\(p) cannot be read: \(reason)"
            }
        }
    }

    package let path: String
    package let size: Int
    package let device: UInt64
    package let inode: UInt64
    /// Modification and change times in nanoseconds since the epoch, as `fstat` gave them at open.
    package let mtimeNs: Int64
    package let ctimeNs: Int64
    private let fd: Int32

    private init(fd: Int32, path: String, status st: stat) {
        self.fd = fd; self.path = path
        size = Int(st.st_size); device = UInt64(st.st_dev); inode = UInt64(st.st_ino)
        mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }

    deinit { close(fd) }

    /// Opens `relative` (a `/`-separated path) inside `root`, following no link on the way, `root`'s own
    /// last component included. nil when there is no such file.
    package static func open(_ relative: String, under root: String) throws(Refusal) -> OutputFile? {
        var parts = relative.split(separator: "/").map(String.init)
        guard let name = parts.popLast() else { throw .notRegular(relative, kind: "a folder") }
        guard let dir = try openFolder(parts, under: root, display: relative) else { return nil }
        defer { close(dir) }
        return try openLast(name, in: dir, display: relative)
    }

    /// A descriptor of the folder `parts` inside `root`, each component (and `root`'s last) opened with
    /// O_NOFOLLOW; nil when one is missing. The caller closes it.
    static func openFolder(_ parts: [String], under root: String, display: String) throws(Refusal) -> Int32? {
        var dir = Foundation.open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else {
            var code = errno, st = stat()
            if code == ENOENT { return nil }
            if code == ENOTDIR, lstat(root, &st) == 0, st.st_mode & S_IFMT == S_IFLNK { code = ELOOP }
            throw refusal(code, display: root)
        }
        for part in parts {
            let next = openat(dir, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            var code = errno
            // O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR on Linux: say which it was.
            var st = stat()
            if next < 0, code == ENOTDIR, fstatat(dir, part, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_mode & S_IFMT == S_IFLNK { code = ELOOP }
            close(dir)
            guard next >= 0 else {
                if code == ENOENT { return nil }
                throw refusal(code, display: display)
            }
            dir = next
        }
        return dir
    }

    /// Opens an absolute path whose last component must not be a link (an input's uri: the folders above
    /// it are the user's own layout). nil when there is no such file.
    package static func open(path: String) throws(Refusal) -> OutputFile? {
        let url = URL(fileURLWithPath: path)
        let parent = Foundation.open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else {
            if errno == ENOENT { return nil }
            throw refusal(errno, display: path)
        }
        defer { close(parent) }
        return try openLast(url.lastPathComponent, in: parent, display: path)
    }

    private static func openLast(_ name: String, in dir: Int32, display: String) throws(Refusal) -> OutputFile? {
        var st = stat()
        guard fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw refusal(errno, display: display)
        }
        try check(st, display: display)
        let fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw refusal(errno, display: display)
        }
        guard fstat(fd, &st) == 0 else { let e = errno; close(fd); throw refusal(e, display: display) }
        do { try check(st, display: display) } catch { close(fd); throw error }
        return OutputFile(fd: fd, path: display, status: st)
    }

    static func check(_ st: stat, display: String) throws(Refusal) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFLNK: throw .symbolicLink(display)
        case S_IFDIR: throw .notRegular(display, kind: "a folder")
        case S_IFIFO: throw .notRegular(display, kind: "a FIFO")
        case S_IFCHR, S_IFBLK: throw .notRegular(display, kind: "a device")
        case S_IFSOCK: throw .notRegular(display, kind: "a socket")
        default: throw .notRegular(display, kind: "a special file")
        }
    }

    static func refusal(_ code: Int32, display: String) -> Refusal {
        // O_NOFOLLOW on a link fails with ELOOP; O_DIRECTORY on a link or a file with ENOTDIR.
        if code == ELOOP { return .symbolicLink(display) }
        if code == ENOTDIR { return .notRegular(display, kind: "inside something that is not a folder") }
        return .unreadable(display, reason: String(cString: strerror(code)))
    }

    // MARK: Reading

    /// At most `limit` bytes from `offset` (fewer at the end of the file).
    package func read(upTo limit: Int, from offset: Int = 0) throws(Refusal) -> Data {
        var out = Data(count: max(0, limit))
        var got = 0
        while got < limit {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, limit - got, off_t(offset + got)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw .unreadable(path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            got += n
        }
        out.count = got
        return out
    }

    /// The whole file when it is at most `limit` bytes; nil when it is larger (nothing read).
    package func contents(upTo limit: Int) throws(Refusal) -> Data? {
        size > limit ? nil : try read(upTo: limit)
    }

    /// The last `count` bytes (as the file's size was when it was opened).
    package func tail(_ count: Int) throws(Refusal) -> Data {
        try read(upTo: min(count, size), from: max(0, size - count))
    }

    /// The file in chunks of `chunkSize` bytes, from its start to its end, memory bounded by one chunk.
    package func forEachChunk(_ chunkSize: Int = 1 << 20, _ body: (Data) throws -> Void) throws {
        var offset = 0
        while true {
            let chunk = try read(upTo: chunkSize, from: offset)
            if chunk.isEmpty { return }
            try body(chunk)
            offset += chunk.count
        }
    }

    /// The sha256 of the whole file (lowercase hex), read from its start through one reused buffer.
    package func sha256() throws -> String {
        var hash = ContentHash()
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw Refusal.unreadable(path, reason: String(cString: strerror(errno))) }
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
        do { try hash.updateReading(fd: fd, chunkSize: 4 << 20) } catch {
            throw Refusal.unreadable(path, reason: "\(error)")
        }
        return hash.finalize()
    }

    /// Streams the file into `dest` (created or truncated, mode 0644), passing every chunk to `each` as well.
    package func copy(to dest: String, each: (Data) -> Void = { _ in }) throws {
        let out = Foundation.open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard out >= 0 else { throw ExecutorError("cannot write \(dest): \(String(cString: strerror(errno)))") }
        defer { close(out) }
        try forEachChunk { chunk in
            each(chunk)
            try PlainFile.writeAll(chunk, to: out, path: dest)
        }
    }

    /// A small record file of a job's folder (`pid`, `started`, `exitcode`…) as text: nil when it is missing,
    /// refused (a link, a FIFO a handler put there) or larger than `cap`. Polling never blocks on it.
    package static func smallText(_ name: String, in directory: URL, cap: Int = 4096) -> String? {
        guard let file = try? OutputFile.open(name, under: directory.path), let data = try? file.contents(upTo: cap) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Folders

    /// The regular files under `folder` (relative to `root`, "" for `root` itself), as paths relative to
    /// `folder`, sorted; and what was not listed (links, FIFOs, devices…), with their paths relative to `root`.
    /// Links to folders are not entered.
    package static func regularFiles(in folder: String, under root: String) -> (files: [String], refused: [Refusal]) {
        var files: [String] = [], refused: [Refusal] = []
        func walk(_ dirfd: Int32, _ prefix: String) {
            guard let dir = fdopendir(dirfd) else { close(dirfd); return }
            defer { closedir(dir) }
            var names: [String] = []
            while let e = readdir(dir) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            for name in names.sorted() {
                let rel = prefix.isEmpty ? name : prefix + "/" + name
                let shown = folder.isEmpty ? rel : folder + "/" + rel
                var st = stat()
                guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                    refused.append(refusal(errno, display: shown)); continue
                }
                if st.st_mode & S_IFMT == S_IFDIR {
                    let sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if sub >= 0 { walk(sub, rel) } else { refused.append(refusal(errno, display: shown)) }
                    continue
                }
                do { try check(st, display: shown); files.append(rel) } catch { refused.append(error) }
            }
        }
        do {
            let parts = folder.split(separator: "/").map(String.init)
            if let fd = try openFolder(parts, under: root, display: folder) { walk(fd, "") }
        } catch { refused.append(error) }
        return (files.sorted(), refused)
    }
}
