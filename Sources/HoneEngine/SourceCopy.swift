import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Private copies of snapshot files: what a job writes into its `src/` (its handler, a dataset of the
/// repository) changes only its own copy, never the snapshot or another job's. A copy shares the snapshot's
/// blocks where the file system can (FICLONE: btrfs, XFS, bcachefs...), else the kernel copies the bytes
/// (copy_file_range), else read/write.
enum SourceCopy {
    /// Copies `from` to the new file `to` (which must not exist) with mode `mode`.
    static func copy(from: String, to: String, mode: mode_t) throws {
        let input = open(from, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("cannot read \(from)") }
        defer { close(input) }
        let output = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { throw failure("cannot create \(to)") }
        defer { close(output) }
        if ioctl(output, ficlone, input) == 0 { return }
        var info = stat()
        guard fstat(input, &info) == 0 else { throw failure("cannot read \(from)") }
        var left = Int(info.st_size)
        if let copyRange = copyFileRange {
            while left > 0 {
                let n = copyRange(input, nil, output, nil, left, 0)
                if n <= 0 { break }
                left -= n
            }
            if left == 0 { return }
            // Not supported here (or the file changed size): the rest by hand, from where it stopped.
        }
        try copyByHand(input, output, to)
    }

    private static func copyByHand(_ input: Int32, _ output: Int32, _ path: String) throws {
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(input, buffer, size)
            if n == 0 { return }
            if n < 0 { if errno == EINTR { continue }; throw failure("cannot copy to \(path)") }
            var done = 0
            while done < n {
                let w = write(output, buffer + done, n - done)
                if w < 0 { if errno == EINTR { continue }; throw failure("cannot copy to \(path)") }
                done += w
            }
        }
    }

    /// FICLONE = _IOW(0x94, 9, int).
    private static let ficlone: UInt = 0x4004_9409

    /// glibc ≥ 2.27's copy_file_range (declared only under _GNU_SOURCE).
    private static let copyFileRange: (@convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int)? = {
        guard let symbol = dlsym(nil, "copy_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int).self)
    }()

    private static func failure(_ message: String) -> PreparationFailure {
        PreparationFailure(reason: "SnapshotFailed", message: "\(message): \(String(cString: strerror(errno)))")
    }

    // MARK: telling an untouched copy

    /// The coarse clock now: every change made so far has a ctime not after the first tick past it.
    static func coarseNow() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        return now
    }

    /// The first coarse-clock time after `start` (waiting for it, a tick at most: 4 ms here): a time after
    /// every change made before `start` and not after any change made from now on. The kernel stamps each
    /// change of a file (content, mode, links, times) with the coarse clock (or a finer one, never earlier),
    /// so once that clock has moved on, any later change gets a ctime at least this. No process can set ctime.
    static func changeBarrier(after start: timespec = coarseNow()) -> timespec {
        var now = coarseNow()
        while !isBefore(start, now) {
            usleep(200)
            now = coarseNow()
        }
        return now
    }

    static func isBefore(_ a: timespec, _ b: timespec) -> Bool {
        a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec)
    }

    /// `sec.nsec`, as it goes into a spare's name.
    static func format(_ t: timespec) -> String { "\(t.tv_sec).\(t.tv_nsec)" }

    static func parse(_ text: Substring) -> timespec? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let s = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        return timespec(tv_sec: s, tv_nsec: n)
    }
}
