import Foundation
internal import CGit2

/// A git object id: 40 lowercase hex digits (SHA-1).
public struct ObjectID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let hex: String

    /// Accepts exactly 40 hex digits (either case); stores them lowercase.
    public init?(hex: String) {
        guard hex.utf8.count == 40, hex.utf8.allSatisfy({ isHexDigit($0) }) else { return nil }
        self.hex = hex.lowercased()
    }

    init(_ oid: git_oid) {
        var oid = oid
        self.hex = withUnsafeBytes(of: &oid.id) { raw in
            String(unsafeUninitializedCapacity: 40) { buf in
                let digits: StaticString = "0123456789abcdef"
                let d = digits.utf8Start
                for (i, byte) in raw.enumerated() {
                    buf[2 * i] = d[Int(byte >> 4)]
                    buf[2 * i + 1] = d[Int(byte & 0x0f)]
                }
                return 40
            }
        }
    }

    init(_ oid: UnsafePointer<git_oid>) { self.init(oid.pointee) }

    var oid: git_oid {
        var oid = git_oid()
        _ = hex.withCString { git_oid_fromstr(&oid, $0) }
        return oid
    }

    /// The first seven digits.
    public var short: String { String(hex.prefix(7)) }
    public var description: String { hex }
    public static func < (a: ObjectID, b: ObjectID) -> Bool { a.hex < b.hex }
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

private func isHexDigit(_ c: UInt8) -> Bool {
    (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
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

    public init(path: String, blob: ObjectID, executable: Bool) {
        self.path = path
        self.blob = blob
        self.executable = executable
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
