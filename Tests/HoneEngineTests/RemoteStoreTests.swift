import Foundation
import HoneLoading
import HoneModel
import XCTest
@testable import HoneEngine

/// `store: s3://…` against a real S3 server (moto) on loopback, started by the test: models go up before
/// the status naming them is committed, come down (verified) into another clone's empty cache, survive a
/// network lost mid-upload, and no credential reaches git, a status, a log or the terminal.
final class RemoteStoreTests: XCTestCase {
    /// Writes a model of `modelBytes` bytes (a run), or checks the model it is given against its sha256 (an
    /// eval). It prints the store's secret, as a careless handler would: hone must redact it.
    static let handler = #"""
    import hashlib, json, os
    job = json.load(open(os.environ["HONE_JOB"]))
    p, out = job["params"], job["outputDir"]
    print("the store secret is", os.environ.get("RCLONE_S3_SECRET_ACCESS_KEY"), flush=True)
    if job["kind"] == "run":
        line = ("weights %s\n" % p.get("seed", "a")).encode()
        open(os.path.join(out, "model.bin"), "wb").write(line * (p.get("modelBytes", 1000) // len(line) + 1))
        json.dump({"loss": 1.0}, open(os.path.join(out, "summary.json"), "w"))
    else:
        m = job["model"]
        ok = hashlib.sha256(open(m["path"], "rb").read()).hexdigest() == m["sha256"]
        json.dump({"accuracy": 1.0 if ok else 0.0}, open(os.path.join(out, "summary.json"), "w"))
    """#

    func repository(_ s3: S3TestServer, bucket: String? = nil, modelBytes: Int = 300_000, publish: Bool = false) throws -> HoneRepo {
        let repo = try HoneRepo(extraProject: "store: s3://\(bucket ?? s3.bucket)/team/store", initialCommit: false)
        try repo.write("handlers/store.py", RemoteStoreTests.handler)
        try repo.write("groups/g/runs/r1.yaml", """
            kind: Run
            baseModel: base@v1
            trainDataset: d@v1
            handler: python3 handlers/store.py
            params: {modelBytes: \(modelBytes)}
            \(publish ? "publish: {model: m, as: new}" : "")
            """)
        try repo.commit("init")
        return repo
    }

    func status(_ name: String, kind: ObjectKey.Kind, in root: URL) -> ObjectStatus? {
        let key = ObjectKey(scope: .group("g"), kind: kind, name: name)
        guard let text = try? String(contentsOf: root.appendingPathComponent(key.statusPath), encoding: .utf8) else { return nil }
        return StatusCodec.decode(key, text: text, path: key.statusPath).0
    }

    func assertNoSecret(_ s3: S3TestServer, in texts: [String: String], file: StaticString = #filePath, line: UInt = #line) {
        for (what, text) in texts {
            for secret in s3.secrets { XCTAssertFalse(text.contains(secret), "a credential is in \(what)", file: file, line: line) }
        }
    }

    func testARunsModelReachesAnEvalInAnotherCloneWithAnEmptyCache() throws {
        let s3 = try S3TestServer()
        let repo = try repository(s3, publish: true)
        let origin = repo.base.appendingPathComponent("origin.git")
        try repo.git("init", "-q", "--bare", "-b", "main", origin.path)
        try repo.git("remote", "add", "origin", origin.path)
        try repo.git("push", "-q", "origin", "main")
        let trained = try repo.reconcile(["--wait", "--push", "origin"], env: s3.environment)

        let run = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(run.phase, .succeeded, trained.output)
        let model = try XCTUnwrap(run.run?.model)
        let uri = try XCTUnwrap(model.uri), sha = try XCTUnwrap(model.sha256)
        XCTAssertTrue(uri.hasPrefix("store://sha256/\(sha)/"), uri)
        // In the bucket under the store's prefix, with the local store's layout, before anyone else needs it.
        XCTAssertEqual(try s3.sha256(of: "team/store/" + String(uri.dropFirst(8))), sha)
        // The published manifest names the same object: its URI resolves in the store and its digest verifies.
        let manifest = try XCTUnwrap(repo.read("models/m/v1.yaml"))
        XCTAssertTrue(manifest.contains("uri: \(uri)\n") && manifest.contains("sha256: \"\(sha)\"\n"), manifest)

        // A second clone (another CI runner): nothing in its local store; its evals need the draft and the published model.
        let other = repo.base.appendingPathComponent("other")
        try repo.git("clone", "-q", origin.path, other.path, in: repo.base)
        XCTAssertFalse(FileManager.default.fileExists(atPath: other.appendingPathComponent(".hone").path))
        try FileManager.default.createDirectory(at: other.appendingPathComponent("groups/g/evals"), withIntermediateDirectories: true)
        for (name, source) in [("draft", "fromRun: r1"), ("published", "model: m@v1")] {
            try Data("kind: Eval\n\(source)\ndataset: d@v1\nhandler: python3 handlers/store.py\n".utf8)
                .write(to: other.appendingPathComponent("groups/g/evals/\(name).yaml"))
        }
        try repo.git("add", "-A", in: other)
        try repo.git("commit", "-q", "-m", "evals", in: other)
        let evaluated = try repo.hone(["reconcile", "--wait"], env: s3.environment, in: other)
        XCTAssertEqual(evaluated.status, 0, evaluated.output)
        for name in ["draft", "published"] {
            let e = try XCTUnwrap(status(name, kind: .eval, in: other), evaluated.output)
            XCTAssertEqual(e.phase, .succeeded, "\(name): \(evaluated.output)")
            // The handler hashed what it was given: the very bytes the run wrote.
            XCTAssertEqual(e.metrics["accuracy"]?.doubleValue, 1.0, name)
        }
        let cached = other.appendingPathComponent(".hone/store/" + String(uri.dropFirst(8)))
        XCTAssertEqual(try ContentHash.hex(fileAt: cached), sha, "the download is in the second clone's local store")

        // No credential anywhere: git (every object of both clones), statuses and logs, the stores, the output.
        let otherObjects = try repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)", in: other)
            .split(separator: "\n").map { (try? repo.git("cat-file", "-p", String($0), in: other)) ?? "" }.joined(separator: "\n")
        // Every file of both checkouts — statuses, logs, the local stores — but the jobs' own folders, which hold
        // what the handler printed as it printed it (specs/secrets.md, "Limits").
        var files: [String: String] = [:]
        for root in [repo.root, other] {
            let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
            while let u = e?.nextObject() as? URL {
                if u.path.contains("/.hone/jobs/") || u.path.contains("/.hone/runtimes/") { continue }
                if let d = FileManager.default.contents(atPath: u.path) { files[u.path] = String(decoding: d, as: UTF8.self) }
            }
        }
        assertNoSecret(s3, in: files.merging(["git objects": try repo.allGitObjects(), "the second clone's git objects": otherObjects,
                                              "hone's output": trained.output + evaluated.output]) { a, _ in a })
        let log = try XCTUnwrap(repo.read(run.tasks[0].log ?? ""))
        XCTAssertTrue(log.contains("the store secret is ***"), log)
        try repo.assertHealthy()
    }

    func testANetworkLostMidUploadRecordsNothingAndTheNextReconcileFinishesTheUpload() throws {
        let s3 = try S3TestServer()
        let repo = try repository(s3, modelBytes: 6_000_000)
        let launched = try repo.hone(["reconcile"], env: s3.environment)
        XCTAssertEqual(launched.status, 0, launched.output)
        try waitUntil("the job ends", timeout: 60) {
            let jobs = repo.url(".hone/jobs")
            return ((try? FileManager.default.contentsOfDirectory(atPath: jobs.path)) ?? [])
                .contains { FileManager.default.fileExists(atPath: jobs.appendingPathComponent("\($0)/exitcode").path) }
        }
        let before = repo.head
        try s3.startRelay(cutAfter: 1_000_000)
        let cut = try repo.hone(["reconcile"], env: s3.environment)
        XCTAssertTrue(s3.wasCut, "the relay should have cut the upload: \(cut.output)")
        XCTAssertNotEqual(cut.status, 0, cut.output)
        XCTAssertTrue(cut.output.contains("unreachable after 3 attempts"), cut.output)
        XCTAssertTrue(cut.output.contains("kept in the local store"), cut.output)
        // Nothing recorded: the status names no model, no commit was made, nothing is in the bucket.
        XCTAssertEqual(repo.head, before, (try? repo.messages(since: before).joined(separator: "\n")) ?? "")
        let waiting = try XCTUnwrap(repo.status("r1"))
        XCTAssertTrue(waiting.phase.isActive, "\(waiting.phase)")
        XCTAssertNil(waiting.run?.model)
        XCTAssertEqual(try s3.objects(under: "team/store/sha256"), [])
        // …but the model is kept in the local store.
        let kept = try FileManager.default.contentsOfDirectory(atPath: repo.url(".hone/store/sha256").path)
        XCTAssertEqual(kept.count, 1)

        try s3.startRelay()
        let resumed = try repo.reconcile(["--wait"], env: s3.environment)
        let done = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(done.phase, .succeeded, resumed.output)
        let uri = try XCTUnwrap(done.run?.model?.uri)
        XCTAssertEqual(try s3.sha256(of: "team/store/" + String(uri.dropFirst(8))), done.run?.model?.sha256)
        XCTAssertTrue(uri.contains(kept[0]))
        assertNoSecret(s3, in: ["hone's output": launched.output + cut.output + resumed.output, "git objects": try repo.allGitObjects()])
        try repo.assertHealthy()
    }

    func testMainPublishesAPullRequestsModelFromAFreshRunnerWhoseCacheIsEmpty() throws {
        let s3 = try S3TestServer()
        let repo = try HoneRepo(extraProject: "store: s3://\(s3.bucket)/team/store", initialCommit: false)
        try repo.write("handlers/store.py", RemoteStoreTests.handler)
        try repo.write("groups/g/runs/r1.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: python3 handlers/store.py\npublish: {model: m, as: new}\n")
        try repo.commit("init")
        let origin = repo.base.appendingPathComponent("origin.git")
        try repo.git("init", "-q", "--bare", "-b", "main", origin.path)
        try repo.git("remote", "add", "origin", origin.path)
        try repo.git("push", "-q", "origin", "main")
        // The pull request's runner trains on its branch: the publish waits for the merge.
        try repo.git("checkout", "-q", "-b", "pr-1")
        let trained = try repo.reconcile(["--wait", "--push", "origin"], env: s3.environment)
        XCTAssertNil(repo.read("models/m/v1.yaml"), trained.output)
        // Merged; main's reconcile runs on a fresh runner with an empty .hone/store: the model is in the bucket.
        let main = repo.base.appendingPathComponent("main-runner")
        try repo.git("clone", "-q", "-b", "pr-1", origin.path, main.path, in: repo.base)
        try repo.git("checkout", "-q", "-B", "main", in: main)
        let published = try repo.hone(["reconcile", "--wait"], env: s3.environment, in: main)
        XCTAssertEqual(published.status, 0, published.output)
        let manifest = try String(contentsOf: main.appendingPathComponent("models/m/v1.yaml"), encoding: .utf8)
        let run = try XCTUnwrap(status("r1", kind: .run, in: main)?.run?.model)
        XCTAssertTrue(manifest.contains("uri: \(run.uri ?? "-")\n"), manifest)
        XCTAssertEqual(try s3.sha256(of: "team/store/" + String((run.uri ?? "").dropFirst(8))), run.sha256)
        // Looked up in the bucket, not downloaded: publishing needs the object there, not its bytes here.
        XCTAssertFalse(FileManager.default.fileExists(atPath: main.appendingPathComponent(".hone/store/sha256").path))
    }

    // MARK: The rclone transport against the server

    func transport(_ s3: S3TestServer, store: String? = nil, environment: [String: String]? = nil) throws -> RcloneTransport {
        guard case .remote(let url) = try StoreLocation.parse(store ?? "s3://\(s3.bucket)/unit").get() else { throw FixtureError("not remote") }
        var t = RcloneTransport(store: url, environment: ProcessInfo.processInfo.environment.merging(environment ?? s3.environment) { $1 },
                                redactor: SecretRedactor())
        t.backoff = 0.05
        return t
    }

    func testConcurrentUploadsOfTheSameObjectAreHarmless() throws {
        let s3 = try S3TestServer()
        let t = try transport(s3)
        let file = s3.base.appendingPathComponent("model.bin")
        try Data((0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: file)
        let digest = try ContentHash.hex(fileAt: file)
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { try t.upload(file, to: "sha256/\(digest)/model.bin") } catch { failures.mutate { $0.append("\(error)") } }
        }
        XCTAssertEqual(failures.value, [])
        XCTAssertEqual(try s3.sha256(of: "unit/sha256/\(digest)/model.bin"), digest)
        XCTAssertEqual(try t.list("sha256"), ["\(digest)/model.bin"])
    }

    func testClearErrorsForAMissingBucketAMissingObjectANetworkDownAndNoRclone() throws {
        let s3 = try S3TestServer()
        let file = s3.base.appendingPathComponent("f.txt")
        try Data("x\n".utf8).write(to: file)
        func error(_ body: () throws -> Void) -> RemoteStoreError? {
            do { try body(); return nil } catch let e as RemoteStoreError { return e } catch { XCTFail("\(error)"); return nil }
        }
        let noBucket = error { try transport(s3, store: "s3://no-such-bucket/p").upload(file, to: "f.txt") }
        guard case .bucketMissing? = noBucket else { return XCTFail("\(String(describing: noBucket))") }
        XCTAssertTrue(noBucket!.description.contains("s3://no-such-bucket/p: the bucket or container does not exist"), noBucket!.description)

        let missing = error { try transport(s3).download("sha256/00/none.bin", folder: false, to: s3.base.appendingPathComponent("none")) }
        XCTAssertEqual(missing, .notFound(store: "s3://\(s3.bucket)/unit", object: "sha256/00/none.bin"))

        s3.stopRelay()
        let started = Date()
        let down = error { try transport(s3).upload(file, to: "f.txt") }
        guard case .unreachable(_, let detail, 3)? = down else { return XCTFail("\(String(describing: down))") }
        XCTAssertTrue(detail.contains("connection refused"), detail)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.15, "two waits of 0.05 s and 0.1 s between the three tries")
        for e in [noBucket!, down!] { for secret in s3.secrets { XCTAssertFalse(e.description.contains(secret), e.description) } }

        let noRclone = error { try transport(s3, environment: s3.environment.merging(["PATH": s3.base.path]) { $1 }).upload(file, to: "f.txt") }
        XCTAssertEqual(noRclone, .rcloneMissing)
        XCTAssertTrue(noRclone!.description.contains("apt-get install rclone"), noRclone!.description)
    }

    func testRefusedCredentialsAreSaidWithoutShowingThem() throws {
        let s3 = try S3TestServer(checkingCredentials: true)
        let file = s3.base.appendingPathComponent("f.txt")
        try Data("x\n".utf8).write(to: file)
        do {
            try transport(s3).upload(file, to: "f.txt")
            XCTFail("the server refuses every key")
        } catch let e as RemoteStoreError {
            guard case .credentials = e else { return XCTFail("\(e)") }
            XCTAssertTrue(e.description.contains("the credentials were refused or are missing") && e.description.contains("403"), e.description)
            for secret in s3.secrets { XCTAssertFalse(e.description.contains(secret), e.description) }
        }
    }

    func waitUntil(_ what: String, timeout: TimeInterval, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { throw FixtureError("timed out waiting until \(what)") }
            usleep(20_000)
        }
    }
}

/// A value shared by threads.
final class Locked<T>: @unchecked Sendable {
    private var stored: T
    private let lock = NSLock()
    init(_ value: T) { stored = value }
    var value: T { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ body: (inout T) -> Void) { lock.lock(); defer { lock.unlock() }; body(&stored) }
}

/// The second backend: `store: sftp://…` against a real sshd on loopback.
final class SFTPStoreTests: XCTestCase {
    func testAModelGoesUpBySFTPAndComesBackIntoAnEmptyCache() throws {
        let sshd = try SFTPTestServer()
        let repo = try HoneRepo(extraProject: "store: \(sshd.store)", initialCommit: false)
        try repo.write("handlers/store.py", RemoteStoreTests.handler)
        try repo.write("groups/g/runs/r1.yaml", "kind: Run\nbaseModel: base@v1\ntrainDataset: d@v1\nhandler: python3 handlers/store.py\nparams: {modelBytes: 100000}\n")
        try repo.commit("init")
        let trained = try repo.reconcile(["--wait"], env: sshd.environment)
        let run = try XCTUnwrap(repo.status("r1"))
        XCTAssertEqual(run.phase, .succeeded, trained.output)
        let uri = try XCTUnwrap(run.run?.model?.uri), sha = try XCTUnwrap(run.run?.model?.sha256)
        // On the server's disk, at the store's layout.
        let onServer = sshd.storeFolder.appendingPathComponent(String(uri.dropFirst(8)))
        XCTAssertEqual(try ContentHash.hex(fileAt: onServer), sha)

        // An empty local cache: the eval's input comes back over sftp, verified.
        try FileManager.default.removeItem(at: repo.url(".hone/store"))
        try repo.write("groups/g/evals/e1.yaml", "kind: Eval\nfromRun: r1\ndataset: d@v1\nhandler: python3 handlers/store.py\n")
        try repo.commit("eval")
        let evaluated = try repo.reconcile(["--wait"], env: sshd.environment)
        let e = try XCTUnwrap(repo.evalStatus("e1"))
        XCTAssertEqual(e.phase, .succeeded, evaluated.output)
        XCTAssertEqual(e.metrics["accuracy"]?.doubleValue, 1.0)
        XCTAssertEqual(try ContentHash.hex(fileAt: repo.url(".hone/store/" + String(uri.dropFirst(8)))), sha)
        try repo.assertHealthy()
    }
}
