import Foundation
import HoneLoading
import HoneModel
import XCTest

/// The LoRA example end to end through `hone reconcile` (examples/lora, as `make demo EXAMPLE=lora` runs
/// it): two PEFT LoRA fine-tunes of a Hugging Face model folder through transformers' Trainer, evals of the
/// base and of each adapter, one publish, and an eval of the published adapter, all on the CPU. Checked as a
/// user would: the adapters beat the base; the published adapter, loaded from its manifest's base alone,
/// scores what its run's draft scored; no checkpoint is in the manifest or the store; the playground serving
/// the published adapter answers `hone chat` as the eval of that adapter answered, and stops when its spec goes.
final class LoraExampleTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testTheLoraExampleTrainsEvaluatesAndPublishesThroughReconcile() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("hone-lora-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: base) }
        let repo = base.appendingPathComponent("lora")
        let made = try HoneRepo.exec("/bin/bash", [Self.root.appendingPathComponent("scripts/lora-repo.sh").path, repo.path], in: Self.root, env: [:])
        XCTAssertEqual(made.status, 0, made.output)
        try seedRuntime(in: repo)

        let honeEnv = HoneRepo.gitEnv
        let r = try HoneRepo.exec(HoneRepo.honeBinary.path, ["reconcile", "--wait", "--timeout", "20m", "--poll-interval", "0.5"], in: repo, env: honeEnv)
        // Whatever happens below, no playground server outlives the test.
        defer {
            if let pg = try? statusesByName(repo)["pyqa-chat"], pg.phase == .running, let pid = pg.tasks.first?.executorId.flatMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        XCTAssertEqual(r.status, 0, r.output)
        let statuses = try statusesByName(repo)
        for name in ["lora-r4", "lora-r16", "base-test", "lora-r4-test", "lora-r16-test", "published-test"] {
            XCTAssertEqual(statuses[name]?.phase, .succeeded, "\(name): \(log(repo, name))")
        }
        func metric(_ eval: String, _ key: String) -> Double? {
            switch statuses[eval]?.metrics[key] { case .double(let d)?: return d; case .int(let i)?: return Double(i); default: return nil }
        }
        let baseEM = try XCTUnwrap(metric("base-test", "exact_match")), basePPL = try XCTUnwrap(metric("base-test", "perplexity"))
        for eval in ["lora-r4-test", "lora-r16-test"] {
            XCTAssertGreaterThan(try XCTUnwrap(metric(eval, "exact_match")), baseEM + 0.3, eval)
            XCTAssertLessThan(try XCTUnwrap(metric(eval, "perplexity")), basePPL / 5, eval)
        }
        // The published adapter is the same files on the same base: the same scores.
        XCTAssertEqual(metric("published-test", "exact_match"), metric("lora-r16-test", "exact_match"))
        XCTAssertEqual(try XCTUnwrap(metric("published-test", "perplexity")), try XCTUnwrap(metric("lora-r16-test", "perplexity")), accuracy: 1e-9)
        XCTAssertNil(statuses["lora-r16"]?.metrics["_meta"])

        // The manifest names the base and the files; checkpoints were written, and are in no manifest and not
        // in the store.
        let manifest = try String(contentsOf: repo.appendingPathComponent("models/pyqa-lora/v1.yaml"), encoding: .utf8)
        let baseSha = "94ec7711437f5b907904cd6d0ca735b5c60da00eea81d46191ca15721b00ef3b"
        XCTAssertTrue(manifest.contains("base:\n  model: tiny-gpt@v1\n  sha256: \(baseSha)\n")
                      || manifest.contains("base:\n  model: tiny-gpt@v1\n  sha256: \"\(baseSha)\"\n"), manifest)
        XCTAssertTrue(manifest.contains("- path: adapter_config.json") && manifest.contains("- path: adapter_model.safetensors"), manifest)
        XCTAssertFalse(manifest.contains("checkpoint") || manifest.contains("optimizer"), manifest)
        let run = try XCTUnwrap(statuses["lora-r16"])
        let checkpoints = repo.appendingPathComponent(".hone/jobs/\(run.id)/checkpoints")
        let saved = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path)
        XCTAssertTrue(saved.contains { $0.hasPrefix("checkpoint-") }, "the Trainer saved checkpoints into checkpointDir: \(saved)")
        let stored = try FileManager.default.subpathsOfDirectory(atPath: repo.appendingPathComponent(".hone/store/sha256").path)
        XCTAssertFalse(stored.contains { $0.contains("checkpoint") || $0.contains("optimizer") }, "\(stored)")

        let check = try HoneRepo.exec(HoneRepo.honeBinary.path, ["check", "--require-results"], in: repo, env: honeEnv)
        XCTAssertEqual(check.status, 0, check.output)
        let verify = try HoneRepo.exec(HoneRepo.honeBinary.path, ["verify"], in: repo, env: honeEnv)
        XCTAssertEqual(verify.status, 0, verify.output)
        XCTAssertTrue(verify.stdout.contains("ok        model pyqa-lora@v1"), verify.output)
        try checkPlayground(repo, honeEnv)
    }

    /// The playground of the published adapter is ready after `reconcile --wait` and answers each question as
    /// the eval of the same adapter did (both greedy, the same prompt format); deleting its spec stops it.
    func checkPlayground(_ repo: URL, _ honeEnv: [String: String]) throws {
        let pg = try XCTUnwrap(try statusesByName(repo)["pyqa-chat"])
        XCTAssertEqual(pg.phase, .running)
        XCTAssertEqual(pg.playground?.ready, true)
        let pid = try XCTUnwrap(pg.tasks.first?.executorId.flatMap { Int32($0) })
        let questions = try String(contentsOf: repo.appendingPathComponent("data/test.jsonl"), encoding: .utf8)
            .split(separator: "\n").prefix(3).map { try JSONValue.parse(Data($0.utf8)) }
        let results = try String(contentsOf: repo.appendingPathComponent("status/groups/pyqa/evals/published-test/results.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        for q in questions {
            let prompt = try XCTUnwrap(q["prompt"]?.stringValue)
            let question = String(prompt.dropFirst("Q: ".count).dropLast("\nA:".count))
            let evalAnswer = try XCTUnwrap(results.first { $0["id"] == q["id"] }?["got"]?.stringValue)
            let chat = try HoneRepo.exec(HoneRepo.honeBinary.path, ["chat", "pyqa/pyqa-chat", question, "-o", "json"], in: repo, env: honeEnv)
            XCTAssertEqual(chat.status, 0, chat.output)
            let answer = try XCTUnwrap(try JSONValue.parse(Data(chat.stdout.utf8))["answers"]?.arrayValue?.first)
            XCTAssertEqual(answer["content"]?.stringValue?.trimmingCharacters(in: .whitespaces), evalAnswer, "\(question): \(answer)")
        }
        try FileManager.default.removeItem(at: repo.appendingPathComponent("groups/pyqa/playgrounds/pyqa-chat.yaml"))
        XCTAssertEqual(try HoneRepo.exec("/usr/bin/git", ["commit", "-qam", "stop the playground"], in: repo, env: honeEnv).status, 0)
        let stop = try HoneRepo.exec(HoneRepo.honeBinary.path, ["reconcile"], in: repo, env: honeEnv)
        XCTAssertEqual(stop.status, 0, stop.output)
        let deadline = Date().addingTimeInterval(60)
        while kill(pid, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertNotEqual(kill(pid, 0), 0, "the deleted playground's server is gone")
    }

    /// The runtime of the example pins what scripts/ml-venv.sh pins: when that venv is complete (make test
    /// makes it), it is the runtime's venv, so CI does not install torch a second time. The pins are compared
    /// first, so a runtime that drifted from the venv is built for real instead.
    func seedRuntime(in repo: URL) throws {
        let venv = URL(fileURLWithPath: ProcessInfo.processInfo.environment["HONE_ML_VENV"] ?? NSHomeDirectory() + "/.cache/hone/ml-venv")
        guard let pins = try? String(contentsOf: venv.appendingPathComponent(".hone-pins"), encoding: .utf8) else { return }
        let load = try Workspace(path: repo.path).load(ref: nil, includeStatus: false)
        let runtime = try XCTUnwrap(load.desired.version(.runtime, VersionRef(name: "hf", version: "v1")))
        let venvPins = Set(pins.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
        guard Set(runtime.requirements).isSubset(of: venvPins) else { return }
        let cache = repo.appendingPathComponent(".hone/runtimes")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: cache.appendingPathComponent(runtime.digest).path, withDestinationPath: venv.path)
        FileManager.default.createFile(atPath: venv.appendingPathComponent(".hone-complete").path, contents: Data())
    }

    func statusesByName(_ repo: URL) throws -> [String: ObjectStatus] {
        var out: [String: ObjectStatus] = [:]
        for (kind, folder) in [(ObjectKey.Kind.run, "runs"), (.eval, "evals"), (.playground, "playgrounds")] {
            let dir = repo.appendingPathComponent("status/groups/pyqa/\(folder)")
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where file.hasSuffix(".yaml") {
                let name = String(file.dropLast(5))
                let key = ObjectKey(scope: .group("pyqa"), kind: kind, name: name)
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                out[name] = StatusCodec.decode(key, text: text, path: key.statusPath).0
            }
        }
        return out
    }

    func log(_ repo: URL, _ name: String) -> String {
        for path in ["runs/\(name)/train.log", "evals/\(name)/evaluate.log"] {
            if let s = try? String(contentsOf: repo.appendingPathComponent("status/groups/pyqa/\(path)"), encoding: .utf8) { return String(s.suffix(3000)) }
        }
        return "(no log)"
    }
}
