import Foundation
import XCTest
@testable import HoneExecutors

/// The one reader of a job's files: no link followed, regular files only, never more than asked.
final class OutputFileTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("hone-output-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("out"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Runs `body` on another thread and fails if it has not returned within `seconds` (a blocked open).
    func withinDeadline<T>(_ seconds: Double = 10, _ body: @escaping @Sendable () -> T) -> T? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        Thread.detachNewThread { result = body(); done.signal() }
        guard done.wait(timeout: .now() + seconds) == .success else { XCTFail("still blocked after \(seconds) s"); return nil }
        return result
    }

    func testLinksAreRefusedAtTheEndAndOnTheWay() throws {
        try Data("secret".utf8).write(to: root.appendingPathComponent("elsewhere.txt"))
        XCTAssertEqual(symlink(path("elsewhere.txt"), path("out/summary.json")), 0)
        XCTAssertThrowsError(try OutputFile.open("out/summary.json", under: root.path)) { error in
            XCTAssertEqual(error as? OutputFile.Refusal, .symbolicLink("out/summary.json"))
        }
        // A linked folder on the way is refused too.
        XCTAssertEqual(symlink(root.path, path("linked")), 0)
        XCTAssertThrowsError(try OutputFile.open("linked/elsewhere.txt", under: root.path)) { error in
            XCTAssertEqual(error as? OutputFile.Refusal, .symbolicLink("linked/elsewhere.txt"))
        }
        XCTAssertNil(OutputFile.smallText("out/summary.json", in: root))
        XCTAssertNil(try OutputFile.open("out/missing.json", under: root.path))
        XCTAssertEqual(OutputFile.smallText("elsewhere.txt", in: root), "secret")
    }

    func testAFIFOAndADeviceAreRefusedWithoutBlocking() throws {
        XCTAssertEqual(mkfifo(path("out/results.jsonl"), 0o644), 0)
        let root = self.root!
        let refusal = withinDeadline { () -> String in
            do { _ = try OutputFile.open("out/results.jsonl", under: root.path); return "opened" } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal, "out/results.jsonl is a FIFO, not a regular file")
        XCTAssertThrowsError(try OutputFile.open(path: "/dev/zero")) { error in
            XCTAssertEqual(error as? OutputFile.Refusal, .notRegular("/dev/zero", kind: "a device"))
        }
    }

    func testTailAndHeadReadOnlyWhatIsAsked() throws {
        // A 2 GB sparse file: reading it whole would take 2 GB of memory.
        let fd = open(path("out/big.log"), O_WRONLY | O_CREAT, 0o644)
        XCTAssertEqual(ftruncate(fd, 2_000_000_000), 0)
        XCTAssertEqual(pwrite(fd, "end\n", 4, 2_000_000_000), 4)
        close(fd)
        let file = try XCTUnwrap(try OutputFile.open("out/big.log", under: root.path))
        XCTAssertEqual(file.size, 2_000_000_004)
        XCTAssertEqual(try file.tail(6), Data([0, 0]) + Data("end\n".utf8))
        XCTAssertEqual(try file.read(upTo: 3), Data([0, 0, 0]))
        XCTAssertNil(try file.contents(upTo: 1 << 20))
    }

    func testFolderListingHoldsRegularFilesOnlyAndNamesTheRest() throws {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("out/sub"), withIntermediateDirectories: true)
        try Data("w".utf8).write(to: root.appendingPathComponent("out/sub/model.bin"))
        try Data("{}".utf8).write(to: root.appendingPathComponent("out/summary.json"))
        XCTAssertEqual(symlink("/proc/self/environ", path("out/environ")), 0)
        XCTAssertEqual(symlink("/etc", path("out/sub/etc")), 0)
        XCTAssertEqual(mkfifo(path("out/pipe"), 0o644), 0)
        let listed = OutputFile.regularFiles(in: "out", under: root.path)
        XCTAssertEqual(listed.files, ["sub/model.bin", "summary.json"])
        XCTAssertEqual(Set(listed.refused.map(\.description)), [
            "out/environ is a symbolic link (hone never follows links in a job's files)",
            "out/sub/etc is a symbolic link (hone never follows links in a job's files)",
            "out/pipe is a FIFO, not a regular file",
        ])
    }

    /// The executor's record files are read the same way: a FIFO or a link put in place of `started` or
    /// `exitcode` by a handler neither blocks a poll nor is followed.
    func testAJobRecordIgnoresAFIFOOrALinkInPlaceOfItsFiles() throws {
        XCTAssertEqual(mkfifo(path("started"), 0o644), 0)
        try Data("0\n".utf8).write(to: root.appendingPathComponent("elsewhere"))
        XCTAssertEqual(symlink(path("elsewhere"), path("exitcode")), 0)
        let root = self.root!
        let record = withinDeadline { JobRecord.read(root) }
        XCTAssertEqual(record?.started, false)
        XCTAssertEqual(record?.ended, false)
        XCTAssertNil(record?.exitCode)
    }
}
