import Foundation

/// Writes a whole file with open/write/close, creating or truncating it: no temporary file and no fsync
/// (`Data.write` fsyncs every file). Callers say why that is safe where they use it: a job's own files
/// are rewritten before any launch, status files are repaired from the journal.
package enum PlainFile {
    package static func write(_ data: Data, to path: String, mode: Int = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw ExecutorError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = fchmod(fd, mode_t(mode))  // an existing file keeps its mode otherwise (and the umask applies)
        try writeAll(data, to: fd, path: path)
    }

    /// Writes all of `data` to `fd` (short writes and EINTR retried); `path` names the file in the error.
    package static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        var written = 0
        while written < data.count {
            let n = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, data.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ExecutorError("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += n
        }
    }
}
