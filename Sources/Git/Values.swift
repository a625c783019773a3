import Foundation
internal import CGit2

/// A git object id (SHA-1), shown as 40 lowercase hex digits. Kept as its 20 bytes (big-endian words,
/// so that ordering matches the hex text): listing a tree of 10,000 files makes 10,000 of them.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible, Comparable {
    private let high: UInt64
    private let middle: UInt64
    private let low: UInt32

    /// Accepts exactly 40 hex digits (either case).
    public init?(hex: String) {
        var digits = [UInt8](); digits.reserveCapacity(40)
        for c in hex.utf8 {
            guard let v = hexValue(c), digits.count < 40 else { return nil }
            digits.append(v)
        }
        guard digits.count == 40 else { return nil }
        func word(_ from: Int, _ count: Int) -> UInt64 {
            var w: UInt64 = 0
            for i in from..<(from + count) { w = w << 4 | UInt64(digits[i]) }
            return w
        }
        high = word(0, 16); middle = word(16, 16); low = UInt32(word(32, 8))
    }

    init(_ oid: git_oid) {
        var oid = oid
        (high, middle, low) = withUnsafeBytes(of: &oid.id) { raw in
            func word(_ from: Int, _ count: Int) -> UInt64 {
                var w: UInt64 = 0
                for i in from..<(from + count) { w = w << 8 | UInt64(raw[i]) }
                return w
            }
            return (word(0, 8), word(8, 8), UInt32(word(16, 4)))
        }
    }

    init(_ oid: UnsafePointer<git_oid>) { self.init(oid.pointee) }

    var oid: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { raw in
            for i in 0..<8 { raw[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * i)) }
            for i in 0..<8 { raw[8 + i] = UInt8(truncatingIfNeeded: middle >> (56 - 8 * i)) }
            for i in 0..<4 { raw[16 + i] = UInt8(truncatingIfNeeded: low >> (24 - 8 * i)) }
        }
        return oid
    }

    /// The 40 lowercase hex digits.
    public var hex: String {
        String(unsafeUninitializedCapacity: 40) { buf in
            let digits: StaticString = "0123456789abcdef"
            let d = digits.utf8Start
            func put(_ w: UInt64, bytes: Int, at start: Int) {
                for i in 0..<(2 * bytes) { buf[start + i] = d[Int((w >> UInt64(4 * (2 * bytes - 1 - i))) & 0xf)] }
            }
            put(high, bytes: 8, at: 0); put(middle, bytes: 8, at: 16); put(UInt64(low), bytes: 4, at: 32)
            return 40
        }
    }

    /// The first seven digits.
    public var short: String { String(hex.prefix(7)) }
    public var description: String { hex }
    public static func < (a: ObjectID, b: ObjectID) -> Bool { (a.high, a.middle, a.low) < (b.high, b.middle, b.low) }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: return c - 48
    case 97...102: return c - 87
    case 65...70: return c - 55
    default: return nil
    }
}

/// Encoded as its 40-hex string.
extension ObjectID: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = ObjectID(hex: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 40-hex object id: \(text)")
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// An author or committer. `time` has whole-second precision once it has been through git.
public struct Signature: Sendable, Equatable {
    public var name: String
    public var email: String
    public var time: Date

    public init(name: String, email: String, time: Date = Date()) {
        self.name = name
        self.email = email
        self.time = time
    }

    init(_ sig: UnsafePointer<git_signature>) {
        let s = sig.pointee
        name = s.name.map { String(cString: $0) } ?? ""
        email = s.email.map { String(cString: $0) } ?? ""
        time = Date(timeIntervalSince1970: TimeInterval(s.when.time))
    }
}

public struct CommitInfo: Sendable {
    public let id: ObjectID
    public let tree: ObjectID
    public let parents: [ObjectID]
    public let author: Signature
    public let committer: Signature
    /// The full raw message (subject, body, trailers).
    public let message: String

    /// The first line of the message.
    public var subject: String {
        String(message.prefix { $0 != "\n" })
    }
}

/// A blob in a tree: `path` is relative to the repository root, with `/` separators.
public struct TreeEntry: Sendable, Hashable {
    public let path: String
    public let blob: ObjectID
    public let executable: Bool
    /// Mode 120000: the blob holds a link's target, not a file's bytes.
    public let symbolicLink: Bool

    public init(path: String, blob: ObjectID, executable: Bool, symbolicLink: Bool = false) {
        self.path = path
        self.blob = blob
        self.executable = executable
        self.symbolicLink = symbolicLink
    }
}

/// One change to a path in `Repository.writeCommit`.
public enum FileChange: Sendable, Equatable {
    case write(Data, executable: Bool = false)
    /// Removes the file at the path, or every file under it when the path names a folder; absent paths are ignored.
    case delete
}

/// One file changed between two trees.
public struct DiffEntry: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case added, deleted, modified, renamed
    }
    public let status: Status
    /// nil for `added`.
    public let oldPath: String?
    /// nil for `deleted`.
    public let newPath: String?

    public init(status: Status, oldPath: String?, newPath: String?) {
        self.status = status
        self.oldPath = oldPath
        self.newPath = newPath
    }

    /// The path the file has after the change (or had, when deleted).
    public var path: String { newPath ?? oldPath ?? "" }
}
