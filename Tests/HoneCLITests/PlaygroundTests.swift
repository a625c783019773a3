import Foundation
import XCTest
import HoneLoading
import HoneModel

/// Playgrounds on the local pool, end to end: `hone reconcile --wait` starts the quickstart's real
/// serving handler (examples/quickstart/handlers/serve.py) on a port hone picked, returns once it
/// answers, and the server is then talked to over real HTTP (curl as an independent client, and
/// `hone chat`); release and spec deletion are observed by the server process being gone.
final class PlaygroundTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let key = "pg-test-key-7f3a9c2e51"
    var dir: URL!
    let env = ["HONE_TEST_PG_KEY": PlaygroundTests.key]

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hone-pg-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.repoRoot.appendingPathComponent("examples/quickstart"), to: dir)
        try? FileManager.default.removeItem(at: dir.appendingPathComponent(".hone"))
        // Only the playgrounds: no training, no evals.
        for f in ["runs/lr-small", "runs/lr-large", "evals/base-test", "evals/lr-small-test", "evals/lr-large-test", "playgrounds/try-base"] {
            try FileManager.default.removeItem(at: dir.appendingPathComponent("groups/support/\(f).yaml"))
        }
        // Each server holds one of its pool's slots until released: room for three.
        let project = dir.appendingPathComponent("hone.yaml")
        try (try String(contentsOf: project, encoding: .utf8)).replacingOccurrences(of: "maxParallel: 2", with: "maxParallel: 4")
            .write(to: project, atomically: true, encoding: .utf8)
        try git("init", "-q")
    }

    override func tearDownWithError() throws {
        // Stop every server this test started: delete the specs and reconcile (what a user does), then
        // make sure no process is left even if that failed.
        let pids = (try? statuses().compactMap { $0.phase == .running ? $0.tasks.first?.executorId.flatMap { Int32($0) } : nil }) ?? []
        try? FileManager.default.removeItem(at: dir.appendingPathComponent("groups/support/playgrounds"))
        _ = try? commit("stop")
        _ = try? runHone(["reconcile"], in: dir, environment: env)
        for pid in pids where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: dir)
    }

    func git(_ args: String...) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-c", "user.name=pg", "-c", "user.email=pg@localhost"] + args
        p.currentDirectoryURL = dir
        try p.run()
        p.waitUntilExit()
    }

    func commit(_ message: String) throws {
        try git("add", "-A")
        try git("commit", "-q", "-m", message)
    }

    func playground(_ name: String, _ extra: String = "") throws {
        let text = "kind: Playground\nmodel: tiny-char@v1\nruntime: numpy@v1\nhandler: python handlers/serve.py\nparams: {temperature: 0.5, max_tokens: 60}\n" + extra
        let url = dir.appendingPathComponent("groups/support/playgrounds/\(name).yaml")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func status(_ name: String) throws -> ObjectStatus {
        let key = ObjectKey(scope: .group("support"), kind: .playground, name: name)
        let text = try String(contentsOf: dir.appendingPathComponent(key.statusPath), encoding: .utf8)
        let (s, problems) = StatusCodec.decode(key, text: text, path: key.statusPath)
        return try XCTUnwrap(s, "\(problems)")
    }

    func statuses() throws -> [ObjectStatus] {
        let folder = dir.appendingPathComponent("status/groups/support/playgrounds")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.filter { $0.hasSuffix(".yaml") }.map { try status(String($0.dropLast(5))) }
    }

    /// curl: an HTTP client that is not hone's.
    func curl(_ args: [String]) throws -> (code: Int, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "-m", "20", "-w", "\n%{http_code}"] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 }

    /// Polls `condition` (reconciling before each look when asked) until it holds or the deadline passes.
    func eventually(_ what: String, timeout: TimeInterval = 60, reconcile: Bool = false, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if reconcile { _ = try runHone(["reconcile"], in: dir, environment: env) }
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.3)
        }
        XCTFail("timed out waiting for: \(what)")
    }

    func testReconcileServesThreePlaygroundsChatComparesThemAndTheKeyGuardsOne() throws {
        try playground("keyed", "apiKeyEnv: HONE_TEST_PG_KEY\n")
        try playground("second")
        try playground("third")
        try commit("three playgrounds")
        let r = try runHone(["reconcile", "--wait", "--timeout", "5m", "--poll-interval", "0.2"], in: dir, environment: env)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)

        var endpoints: [String: String] = [:]
        for name in ["keyed", "second", "third"] {
            let s = try status(name)
            XCTAssertEqual(s.phase, .running, "\(name): \(s.events)")
            XCTAssertEqual(s.playground?.ready, true, "reconcile --wait returned once \(name) answered")
            let endpoint = try XCTUnwrap(s.playground?.endpoint)
            XCTAssertTrue(endpoint.hasPrefix("http://127.0.0.1:"), "loopback on the local pool: \(endpoint)")
            XCTAssertNotNil(s.releaseAt, "autoRelease defaults to 3600s")
            endpoints[name] = endpoint
        }
        XCTAssertEqual(Set(endpoints.values).count, 3, "each on its own port: \(endpoints)")

        // The keyed one: 401 without the key, an answer with it.
        let body = #"{"messages": [{"role": "user", "content": "my earbuds do not charge"}], "max_tokens": 20}"#
        let refused = try curl(["-H", "Content-Type: application/json", "-d", body, endpoints["keyed"]! + "/v1/chat/completions"])
        XCTAssertEqual(refused.code, 401, refused.body)
        let answered = try curl(["-H", "Content-Type: application/json", "-H", "Authorization: Bearer \(Self.key)", "-d", body,
                                 endpoints["keyed"]! + "/v1/chat/completions"])
        XCTAssertEqual(answered.code, 200, answered.body)
        let doc = try JSONValue.parse(Data(answered.body.utf8))
        XCTAssertEqual(doc["model"]?.stringValue, "tiny-char@v1")
        XCTAssertFalse((doc["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue ?? "").isEmpty, answered.body)
        XCTAssertEqual(try curl([endpoints["second"]! + "/v1/models"]).code, 200, "an open playground needs no key")

        // hone chat: the same prompt to all three, answers with latency and tokens.
        let chat = try runHone(["chat", "support/keyed", "support/second", "support/third", "hello there", "--max-tokens", "25", "-o", "json"],
                               in: dir, environment: env)
        XCTAssertEqual(chat.status, 0, chat.stdout + chat.stderr)
        let answers = try XCTUnwrap(try JSONValue.parse(Data(chat.stdout.utf8))["answers"]?.arrayValue)
        XCTAssertEqual(answers.map { $0["playground"]?.stringValue }, ["support/keyed", "support/second", "support/third"])
        for a in answers {
            XCTAssertEqual(a["error"], .null, "\(a)")
            XCTAssertFalse((a["content"]?.stringValue ?? "").isEmpty, "\(a)")
            XCTAssertGreaterThan(a["latencySeconds"]?.doubleValue ?? -1, 0)
            XCTAssertEqual(a["usage"]?["completionTokens"]?.doubleValue.map { $0 <= 25 }, true, "\(a)")
        }
        let side = try runHone(["chat", "support/second", "support/third", "hello"], in: dir, environment: env)
        XCTAssertEqual(side.status, 0, side.stderr)
        XCTAssertTrue(side.stdout.split(separator: "\n").first?.contains("== support/second") == true
                      && side.stdout.split(separator: "\n").first?.contains("== support/third") == true, "side by side:\n\(side.stdout)")
        // Without the key where hone runs, chat says so (the others still answer).
        let noKey = try runHone(["chat", "support/keyed", "support/second", "hi"], in: dir, environment: ["HONE_TEST_PG_KEY": ""])
        XCTAssertEqual(noKey.status, 1)
        XCTAssertTrue(noKey.stdout.contains("needs the key in HONE_TEST_PG_KEY"), noKey.stdout)

        // The key is in no status, log or commit.
        let tracked = try runGit(["log", "-p", "--all"])
        XCTAssertFalse(tracked.contains(Self.key), "the key reached git")
        let job = try String(contentsOf: dir.appendingPathComponent(".hone/jobs").appendingPathComponent(try status("keyed").id).appendingPathComponent("job.json"), encoding: .utf8)
        XCTAssertTrue(job.contains("\"apiKeyEnv\" : \"HONE_TEST_PG_KEY\"") || job.contains("\"apiKeyEnv\": \"HONE_TEST_PG_KEY\""), job)
        XCTAssertTrue(job.contains("\"listen\""), job)
        XCTAssertFalse(job.contains(Self.key), "job.json names the variable, never the key")

        // Deleting a spec stops its server: the process goes, the status says Deleted, chat says it is not serving.
        let third = try status("third")
        let pid = try XCTUnwrap(third.tasks.first?.executorId.flatMap { Int32($0) })
        XCTAssertTrue(isAlive(pid))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("groups/support/playgrounds/third.yaml"))
        try commit("drop third")
        XCTAssertEqual(try runHone(["reconcile"], in: dir, environment: env).status, 0)
        try eventually("the deleted playground's server is gone") { !isAlive(pid) }
        XCTAssertEqual(try status("third").phase, .cancelled)
        XCTAssertEqual(try status("third").events.last?.reason, "Deleted")
        XCTAssertNotEqual(try curl([endpoints["third"]! + "/v1/models"]).code, 200)
        let gone = try runHone(["chat", "support/third", "hi"], in: dir, environment: env)
        XCTAssertEqual(gone.status, 1)
        XCTAssertTrue(gone.stdout.contains("is not serving: Deleted"), gone.stdout)

        let listed = try runHone(["get", "playgrounds", "-o", "json"], in: dir, environment: env)
        XCTAssertTrue(listed.stdout.contains("\"ready\" : true") || listed.stdout.contains("\"ready\": true"), listed.stdout)
        let described = try runHone(["describe", "playground", "support/keyed"], in: dir, environment: env)
        XCTAssertTrue(described.stdout.contains("Endpoint:") && described.stdout.contains("(ready)"), described.stdout)
        XCTAssertTrue(described.stdout.contains("from $HONE_TEST_PG_KEY"), described.stdout)
        XCTAssertFalse(described.stdout.contains(Self.key))
    }

    func testAutoReleaseAndIdleReleaseStopTheServer() throws {
        try playground("brief", "autoRelease: 4s\n")
        try playground("idle", "idleRelease: 3s\n")
        try commit("short-lived playgrounds")
        let r = try runHone(["reconcile", "--wait", "--timeout", "5m", "--poll-interval", "0.2"], in: dir, environment: env)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let brief = try XCTUnwrap(try status("brief").tasks.first?.executorId.flatMap { Int32($0) })
        let idle = try XCTUnwrap(try status("idle").tasks.first?.executorId.flatMap { Int32($0) })
        try eventually("both released", reconcile: true) {
            try status("brief").phase.isFinal && status("idle").phase.isFinal
        }
        let briefEvents = try status("brief").events, idleEvents = try status("idle").events
        XCTAssertEqual(briefEvents.filter { $0.reason == "AutoReleased" }.count, 1, "\(briefEvents)")
        XCTAssertEqual(idleEvents.filter { $0.reason == "IdleReleased" }.count, 1, "\(idleEvents)")
        try eventually("the released servers are gone") { !isAlive(brief) && !isAlive(idle) }
        // Another pass records nothing more: released once.
        XCTAssertEqual(try runHone(["reconcile"], in: dir, environment: env).status, 0)
        XCTAssertEqual(try status("brief").events.filter { $0.reason == "AutoReleased" }.count, 1)
    }

    func testInvalidPlaygroundsAreErrorsAtTheirLines() throws {
        try playground("both", "fromRun: lr-small\n")
        try playground("badkey", "apiKeyEnv: sk-live-abc def\n")
        try playground("baddur", "idleRelease: soon\n")
        let r = try runHone(["validate"], in: dir)
        XCTAssertEqual(r.status, 1)
        let out = r.stdout + r.stderr
        XCTAssertTrue(out.contains("groups/support/playgrounds/both.yaml:6:10: error: a playground takes exactly one of \"model\" and \"fromRun\""), out)
        XCTAssertTrue(out.contains("groups/support/playgrounds/badkey.yaml:6:12: error: \"apiKeyEnv\" must name an environment variable"), out)
        XCTAssertTrue(out.contains("groups/support/playgrounds/baddur.yaml:6:14: error: \"idleRelease\" must be a duration"), out)
    }

    func runGit(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = args
        p.currentDirectoryURL = dir
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
