import Foundation
import HoneModel
import XCTest

/// Digests decide reruns and guard inputs: checked against FIPS vectors and the system's sha256sum.
final class ContentHashTests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(ContentHash.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(ContentHash.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(ContentHash.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testStreamingInPiecesEqualsOneShotAndSha256sum() throws {
        var bytes = [UInt8](repeating: 0, count: 200_003)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        var s = ContentHash()
        var i = 0
        for size in [1, 63, 64, 65, 127, 1000, 4096] {
            while i < bytes.count {
                let end = min(bytes.count, i + size)
                s.update(bytes[i..<end])
                i = end
                if i % 7 == 0 { break }
            }
        }
        if i < bytes.count { s.update(bytes[i...]) }
        let streamed = s.finalize()
        XCTAssertEqual(streamed, ContentHash.hex(bytes))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(try ContentHash.hex(fileAt: file), streamed)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [file.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(String(out.prefix(64)), streamed)
    }
}
