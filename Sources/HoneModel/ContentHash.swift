import Crypto
import Foundation

/// SHA-256 in lowercase hex: the digests of specs, versions and artifacts (specs/versions.md). swift-crypto's
/// implementation (BoringSSL on Linux, with the CPU's SHA extensions); this type only adds the hex text
/// hone records everywhere. Not called `SHA256`, which would shadow swift-crypto's own type.
public struct ContentHash: Sendable {
    private var inner = Crypto.SHA256()

    public init() {}

    public mutating func update<D: DataProtocol>(_ data: D) { inner.update(data: data) }

    public mutating func update(_ string: String) { inner.update(data: Array(string.utf8)) }

    /// Bytes straight from a buffer (a file read into a reused buffer: no copy, no allocation).
    public mutating func update(bytes: UnsafeRawBufferPointer) { inner.update(bufferPointer: bytes) }

    public func finalize() -> String { ContentHash.hexText(inner.finalize()) }

    public static func hex<D: DataProtocol>(_ data: D) -> String { hexText(Crypto.SHA256.hash(data: data)) }
    public static func hex(_ string: String) -> String { hex(Array(string.utf8)) }

    /// The digest of a file, read in chunks of 1 MiB.
    public static func hex(fileAt url: URL) throws -> String {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: url.path]) }
        defer { close(fd) }
        var hash = ContentHash()
        try hash.updateReading(fd: fd)
        return hash.finalize()
    }

    /// Reads `fd` from its current offset to its end into the hash; returns the number of bytes read.
    @discardableResult
    public mutating func updateReading(fd: Int32, chunkSize: Int = 1 << 20) throws -> Int {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunkSize)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            if n == 0 { return total }
            inner.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += n
        }
    }

    private static func hexText(_ digest: Crypto.SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
