import Foundation
@testable import HoneEngine
import HoneExecutors
import HoneModel
import XCTest

/// Model folders in the store (specs/versions.md, "The artifact store"): kept by file, each file once, never
/// copied when the store is on the job's file system; and "verify once": the stat cache reads an unchanged
/// input no more, and still catches a file rewritten in place with its size and mtime restored.
final class ModelFolderStoreTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hone-folders-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ path: String, _ text: String, in root: URL) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func inode(_ url: URL) -> (ino: UInt64, links: Int) {
        var st = stat()
        XCTAssertEqual(lstat(url.path, &st), 0, url.path)
        return (UInt64(st.st_ino), Int(st.st_nlink))
    }

    func testAModelFolderIsStoredByFileOnceAcrossVersionsWithoutACopy() throws {
        let store = ArtifactStore(project: nil, repositoryRoot: dir)
        var refused: [OutputFile.Refusal] = []
        let jobA = dir.appendingPathComponent("jobA"), jobB = dir.appendingPathComponent("jobB")
        try write("out/adapter_model.safetensors", "weights A\n", in: jobA)
        try write("out/adapter_config.json", "{\"r\": 4}\n", in: jobA)
        try write("out/tokenizer/vocab.txt", "shared vocab\n", in: jobA)
        try write("out/adapter_model.safetensors", "weights B\n", in: jobB)
        try write("out/adapter_config.json", "{\"r\": 16}\n", in: jobB)
        try write("out/tokenizer/vocab.txt", "shared vocab\n", in: jobB)
        let a = try XCTUnwrap(try store.storeModel(jobDirectory: jobA, refused: &refused))
        let b = try XCTUnwrap(try store.storeModel(jobDirectory: jobB, refused: &refused))
        XCTAssertNotEqual(a.sha256, b.sha256)
        XCTAssertEqual(a.files.map(\.path), ["adapter_config.json", "adapter_model.safetensors", "tokenizer/vocab.txt"])
        XCTAssertEqual(a.size, 9 + 10 + 13)

        // No copy: the stored file is the job's own file (same inode), linked from its blob.
        let storedWeights = try XCTUnwrap(store.resolve(a.uri)).appendingPathComponent("adapter_model.safetensors")
        XCTAssertEqual(inode(storedWeights).ino, inode(jobA.appendingPathComponent("out/adapter_model.safetensors")).ino)
        // The file both versions share is one blob, one inode.
        let vocabA = try XCTUnwrap(store.resolve(a.uri)).appendingPathComponent("tokenizer/vocab.txt")
        let vocabB = try XCTUnwrap(store.resolve(b.uri)).appendingPathComponent("tokenizer/vocab.txt")
        XCTAssertEqual(inode(vocabA).ino, inode(vocabB).ino)
        let vocabDigest = ContentHash.hex("shared vocab\n")
        XCTAssertEqual(inode(store.blobs.path(of: vocabDigest)).ino, inode(vocabA).ino)
        let blobFiles = try FileManager.default.subpathsOfDirectory(atPath: dir.appendingPathComponent(".hone/store/blobs/sha256").path)
            .filter { !$0.contains(".tmp") && $0.split(separator: "/").count == 2 }
        XCTAssertEqual(blobFiles.count, 5 + 2, "3 + 2 distinct files and two manifests: \(blobFiles)")

        // The folder's manifest is a blob at the folder's digest: a remote store needs only blobs.
        let manifest = try String(contentsOf: store.blobs.path(of: a.sha256), encoding: .utf8)
        XCTAssertEqual(ContentHash.hex(manifest), a.sha256)
        XCTAssertTrue(manifest.hasSuffix("\(vocabDigest)  tokenizer/vocab.txt\n"), manifest)
        XCTAssertEqual(try store.files(ofModel: a.uri, sha256: a.sha256), a.files)
        XCTAssertEqual(try store.digest(ofInput: try XCTUnwrap(store.resolve(b.uri))), b.sha256)

        // A store on another file system: the blob is copied (and is then not the job's file).
        let elsewhere = LocalBlobStore(root: URL(fileURLWithPath: "/dev/shm/hone-test-\(UUID().uuidString.prefix(8))"))
        defer { try? FileManager.default.removeItem(at: elsewhere.root) }
        var shm = stat(), tmp = stat()
        if stat("/dev/shm", &shm) == 0, stat(dir.path, &tmp) == 0, shm.st_dev != tmp.st_dev {
            let src = jobA.appendingPathComponent("out/adapter_config.json")
            try elsewhere.put(src, digest: ContentHash.hex("{\"r\": 4}\n"))
            let copied = elsewhere.path(of: ContentHash.hex("{\"r\": 4}\n"))
            XCTAssertEqual(try String(contentsOf: copied, encoding: .utf8), "{\"r\": 4}\n")
            XCTAssertNotEqual(inode(copied).ino, inode(src).ino)
        }
    }

    /// The cache is trusted when device, inode, size, mtime and ctime match and the entry is not racy;
    /// ctime catches a rewrite in place that restores size and mtime.
    func testTheStatCacheSparesUnchangedFilesAndCatchesARewriteWithTimesRestored() throws {
        let store = ArtifactStore(project: nil, repositoryRoot: dir)
        let model = dir.appendingPathComponent("base/model.safetensors")
        try write("base/model.safetensors", "original weights\n", in: dir)
        try write("base/config.json", "{}\n", in: dir)
        let folder = dir.appendingPathComponent("base")
        let truth = try store.digest(ofInput: folder)

        // Racy: hashed right after the write, the entry is recorded but not trusted yet.
        let cache = StatCache(file: dir.appendingPathComponent(".hone/stat-cache.json"))
        XCTAssertEqual(try store.digest(ofInput: folder, cache: cache), truth)
        cache.save()
        try tamper(cache: dir.appendingPathComponent(".hone/stat-cache.json"), path: model.path)
        XCTAssertEqual(try store.digest(ofInput: folder, cache: StatCache(file: cache.file)), truth, "a racy entry is not used")

        // Once the files are older than the racy window, a matching entry is used: the file is not read
        // (shown by an entry whose recorded digest is false).
        try waitUntilOlderThanRacyWindow(model)
        let settled = StatCache(file: cache.file, empty: true)
        XCTAssertEqual(try store.digest(ofInput: folder, cache: settled), truth)
        settled.save()
        try tamper(cache: cache.file!, path: model.path)
        XCTAssertNotEqual(try store.digest(ofInput: folder, cache: StatCache(file: cache.file)), truth, "the entry was used, the file not read")

        // Rewritten in place, same size, mtime set back: ctime differs, so the file is read again.
        var before = stat()
        XCTAssertEqual(stat(model.path, &before), 0)
        let fd = open(model.path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = "poisoned weights\n".withCString { pwrite(fd, $0, 17, 0) }
        close(fd)
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, model.path, &times, 0), 0)
        var after = stat()
        XCTAssertEqual(stat(model.path, &after), 0)
        XCTAssertEqual(after.st_size, before.st_size)
        XCTAssertEqual(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec)
        XCTAssertEqual(after.st_mtim.tv_sec, before.st_mtim.tv_sec)
        let now = try store.digest(ofInput: folder, cache: StatCache(file: cache.file))
        XCTAssertNotEqual(now, truth)
        XCTAssertEqual(now, try store.digest(ofInput: folder), "the rewrite was read, not taken from the cache")
    }

    /// Replaces the digest recorded for `path` with a false one, keeping its stat fields.
    func tamper(cache file: URL, path: String) throws {
        var entries = try JSONDecoder().decode([String: StatCache.Entry].self, from: Data(contentsOf: file))
        XCTAssertNotNil(entries[path], "\(entries.keys)")
        entries[path]?.sha256 = String(repeating: "f", count: 64)
        try JSONEncoder().encode(entries).write(to: file)
    }

    func waitUntilOlderThanRacyWindow(_ url: URL) throws {
        var st = stat()
        XCTAssertEqual(stat(url.path, &st), 0)
        let changed = max(Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec),
                          Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
        let deadline = Date().addingTimeInterval(10)
        while changed + StatCache.racyWindowNs + 10_000_000 >= StatCache.nowNs() {
            XCTAssertLessThan(Date(), deadline)
            usleep(50_000)
        }
    }
}

/// `hone digest` and `hone verify` as a user runs them.
final class VerifyCommandTests: XCTestCase {
    func testDigestPrintsTheFolderDigestAndVerifyCatchesAnEditedModel() throws {
        let repo = try HoneRepo()
        let outside = repo.base.appendingPathComponent("models/tiny")
        try FileManager.default.createDirectory(at: outside.appendingPathComponent("tok"), withIntermediateDirectories: true)
        try Data("weights\n".utf8).write(to: outside.appendingPathComponent("model.safetensors"))
        try Data("{}\n".utf8).write(to: outside.appendingPathComponent("tok/config.json"))
        let shell = try HoneRepo.exec("/bin/bash", ["-c", "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"], in: outside, env: [:])
        let digest = try repo.hone(["digest", outside.path])
        XCTAssertEqual(digest.status, 0, digest.output)
        XCTAssertEqual(digest.stdout, "\(shell.stdout.prefix(64))  \(outside.path)\n")
        XCTAssertEqual(try repo.hone(["digest", "/dev/zero"]).status, 1)

        try repo.write("models/tiny/v1.yaml", "kind: ModelVersion\nuri: \(outside.path)\nsha256: \(shell.stdout.prefix(64))\n")
        let ok = try repo.hone(["verify"])
        XCTAssertEqual(ok.status, 0, ok.output)
        XCTAssertTrue(ok.stdout.contains("ok        model tiny@v1  \(outside.path)"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("ok        dataset d@v1"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("verified 3 versions"), ok.stdout)
        XCTAssertTrue(repo.exists(".hone/stat-cache.json"))

        // Same size, mtime set back: still caught (ctime), with and without --deep.
        let file = outside.appendingPathComponent("model.safetensors")
        var before = stat()
        XCTAssertEqual(stat(file.path, &before), 0)
        try Data("WEIGHTS\n".utf8).write(to: file)
        var times = [before.st_atim, before.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, file.path, &times, 0), 0)
        for args in [["verify"], ["verify", "--deep"]] {
            let bad = try repo.hone(args)
            XCTAssertEqual(bad.status, 1, bad.output)
            XCTAssertTrue(bad.stdout.contains("MISMATCH  model tiny@v1  \(outside.path) has sha256 "), bad.stdout)
        }
        try FileManager.default.removeItem(at: outside)
        let gone = try repo.hone(["verify"])
        XCTAssertEqual(gone.status, 1)
        XCTAssertTrue(gone.stdout.contains("MISSING   model tiny@v1"), gone.stdout)
    }
}
