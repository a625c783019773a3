import Foundation
@testable import HoneEngine
import HoneExecutors
import HoneModel
import XCTest

/// The digest of a file or folder is what specs/versions.md says: checked against the shell command the
/// page gives (`find … | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum`), not against hone's own
/// SHA-256, both directly and through a reconcile that verifies a folder dataset.
final class ArtifactDigestTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hone-digest-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ path: String, _ text: String, in root: URL) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// The folder's digest by the command specs/versions.md gives.
    func shellDigest(of folder: URL) throws -> String {
        let r = try HoneRepo.exec("/bin/bash", ["-c", "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"],
                                  in: folder, env: [:])
        XCTAssertEqual(r.status, 0, r.output)
        return String(r.stdout.prefix(64))
    }

    /// Files whose order tells code-point sorting of whole paths from a folder-by-folder walk.
    func writeTree(in root: URL) throws {
        for (path, text) in [("a.txt", "alpha\n"), ("B.txt", "Big\n"), ("sub/x.txt", "x\n"), ("sub-dir/y.txt", "y\n"),
                             ("sub.txt", "dot\n"), (".hidden", "h\n"), (".cache/f", "hd\n"), ("with space.txt", "sp\n")] {
            try write(path, text, in: root)
        }
    }

    func testAFoldersDigestIsTheSortedSha256sumManifestOfItsRegularFiles() throws {
        let folder = dir.appendingPathComponent("data")
        try writeTree(in: folder)
        let store = ArtifactStore(project: nil, repositoryRoot: dir)
        let digest = try store.digest(ofInput: folder)
        XCTAssertEqual(digest, try shellDigest(of: folder))

        // The manifest, line by line, in the documented order.
        let order = [".cache/f", ".hidden", "B.txt", "a.txt", "sub-dir/y.txt", "sub.txt", "sub/x.txt", "with space.txt"]
        let manifest = try order.map { "\(try store.digest(ofInput: folder.appendingPathComponent($0)))  \($0)\n" }.joined()
        XCTAssertEqual(digest, ContentHash.hex(manifest))

        // Empty folders do not count; a hidden file's content does.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("empty/deeper"), withIntermediateDirectories: true)
        XCTAssertEqual(try store.digest(ofInput: folder), digest)
        try write(".hidden", "changed\n", in: folder)
        XCTAssertNotEqual(try store.digest(ofInput: folder), digest)
        XCTAssertEqual(try store.digest(ofInput: folder), try shellDigest(of: folder))

        // A file's digest is sha256sum's; an empty folder's is the digest of the empty manifest.
        let file = try HoneRepo.exec("/usr/bin/sha256sum", ["a.txt"], in: folder, env: [:])
        XCTAssertEqual(try store.digest(ofInput: folder.appendingPathComponent("a.txt")), String(file.stdout.prefix(64)))
        XCTAssertEqual(try store.digest(ofInput: folder.appendingPathComponent("empty")),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

        // A link inside is refused, not followed and not skipped.
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("sub/link").path, withDestinationPath: "../a.txt")
        XCTAssertThrowsError(try store.digest(ofInput: folder)) { error in
            XCTAssertEqual((error as? OutputFile.Refusal)?.path.hasSuffix("sub/link"), true, "\(error)")
        }
    }

    func testARunsModelIsStoredAtTheAddressOfItsDigest() throws {
        let store = ArtifactStore(project: nil, repositoryRoot: dir)
        var refused: [OutputFile.Refusal] = []
        // Several files: the folder of the model files, addressed by their folder digest.
        let job = dir.appendingPathComponent("job")
        try write("out/model.bin", "weights\n", in: job)
        try write("out/tok/vocab.txt", "a\nb\n", in: job)
        try write("out/summary.json", "{\"loss\": 1}", in: job)
        try write("out/metrics.jsonl", "{\"step\": 1}\n", in: job)
        let stored = try XCTUnwrap(try store.storeModel(jobDirectory: job, refused: &refused))
        XCTAssertEqual(stored.uri, "store://sha256/\(stored.sha256)")
        let folder = try XCTUnwrap(store.resolve(stored.uri))
        XCTAssertEqual(folder.path, dir.appendingPathComponent(".hone/store/sha256/\(stored.sha256)").path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["model.bin", "tok"])
        XCTAssertEqual(try shellDigest(of: folder), stored.sha256)
        XCTAssertEqual(try store.digest(ofInput: folder), stored.sha256, "an eval of this model would fail its check")

        // One file: the file itself, under its own sha256.
        let one = dir.appendingPathComponent("one")
        try write("out/adapter.npz", "adapter\n", in: one)
        try write("out/summary.json", "{}", in: one)
        let single = try XCTUnwrap(try store.storeModel(jobDirectory: one, refused: &refused))
        XCTAssertEqual(single.sha256, ContentHash.hex("adapter\n"))
        XCTAssertEqual(single.uri, "store://sha256/\(single.sha256)/adapter.npz")
        XCTAssertEqual(try String(contentsOf: try XCTUnwrap(store.resolve(single.uri)), encoding: .utf8), "adapter\n")
        XCTAssertEqual(refused, [])
    }

    /// A dataset that is a committed folder: the digest from the documented command lets the job run; a
    /// wrong one fails the job before its handler starts, naming the digest hone computed.
    func testAFolderDatasetIsVerifiedAgainstTheDocumentedDigest() throws {
        let repo = try HoneRepo()
        try writeTree(in: repo.url("data/folder"))
        let digest = try shellDigest(of: repo.url("data/folder"))
        let wrong = String(repeating: "0", count: 64)
        try repo.write("datasets/folder/v1.yaml", "kind: DatasetVersion\nuri: data/folder\nsha256: \(digest)\n")
        try repo.write("datasets/folder/v2.yaml", "kind: DatasetVersion\nuri: data/folder\nsha256: \(wrong)\n")
        try repo.run("right", extra: "validationDataset: folder@v1")
        try repo.run("wrong", extra: "validationDataset: folder@v2")
        try repo.commit("runs on a folder dataset")
        try repo.reconcile()

        let right = try XCTUnwrap(repo.status("right"))
        XCTAssertEqual(right.phase, .succeeded, "\(right.events.map(\.message))")
        XCTAssertEqual(right.inputs["datasets/folder/v1"], digest)
        let failed = try XCTUnwrap(repo.status("wrong"))
        XCTAssertEqual(failed.phase, .failed)
        let event = try XCTUnwrap(failed.event("InputDigestMismatch"), "\(failed.events.map(\.reason))")
        XCTAssertEqual(event.message, "dataset folder@v2: data/folder has sha256 \(digest), but its version says \(wrong)")
        XCTAssertEqual(repo.executions(of: "g/wrong"), 0, "the handler of a job with a wrong input ran")
        XCTAssertEqual(repo.executions(of: "g/right"), 1)
    }
}
