import Foundation
import HoneLoading
import HoneModel
import XCTest

/// Adapters and checkpoints through a real reconcile (specs/job-contract.md, versions.md): a run's job gets a
/// `checkpointDir` outside `outputDir`, whose files are never stored or published; an eval of the run's
/// output, and an eval of the published adapter, get the base model in `job.json`; the published manifest
/// names the base, the files and their total size.
final class AdapterJobTests: XCTestCase {
    static let handler = #"""
    import json, os, sys
    job = json.load(open(os.environ["HONE_JOB"]))
    out = job["outputDir"]
    if job["kind"] == "run":
        ckpt = job["checkpointDir"]
        assert not os.path.realpath(ckpt).startswith(os.path.realpath(out) + os.sep), (ckpt, out)
        os.makedirs(os.path.join(ckpt, "checkpoint-1"), exist_ok=True)
        open(os.path.join(ckpt, "checkpoint-1", "optimizer.pt"), "w").write("optimizer state of " + job["id"])
        open(os.path.join(out, "adapter_config.json"), "w").write('{"peft_type": "LORA", "r": 4}\n')
        open(os.path.join(out, "adapter_model.safetensors"), "w").write("lora weights\n")
        json.dump({"loss": 1.0, "_meta": {"loss": {"direction": "min"}}}, open(os.path.join(out, "summary.json"), "w"))
    else:
        model = job["model"]
        base = job.get("baseModel")
        assert base is not None, "no baseModel in job.json"
        assert model.get("base") == base, (model, base)
        base_text = open(base["path"]).read()
        assert os.path.isfile(os.path.join(model["path"], "adapter_config.json")), model["path"]
        json.dump({"base_ok": 1 if base_text == "base weights\n" else 0}, open(os.path.join(out, "summary.json"), "w"))
        open(os.path.join(out, "results.jsonl"), "w").write(json.dumps({"id": "1", "base": base["name"] + "@" + base["version"],
                                                                          "baseSha256": base["sha256"]}) + "\n")
    """#

    func testAnAdapterRunsEvalsGetTheBaseAndItsCheckpointsAreNeverPublished() throws {
        let repo = try HoneRepo()
        try repo.write("handlers/adapter.py", AdapterJobTests.handler)
        try repo.write("groups/g/runs/lora.yaml", """
            kind: Run
            baseModel: base@v1
            trainDataset: d@v1
            handler: python3 handlers/adapter.py
            publish: {model: m, as: new}
            """)
        try repo.write("groups/g/evals/draft.yaml", "kind: Eval\nfromRun: lora\ndataset: d@v1\nhandler: python3 handlers/adapter.py\n")
        try repo.write("groups/g/evals/published.yaml", "kind: Eval\nmodel: m@v1\ndataset: d@v1\nhandler: python3 handlers/adapter.py\n")
        try repo.commit("an adapter, its evals")
        try repo.reconcile()
        try repo.reconcile()

        let run = try XCTUnwrap(repo.status("lora"))
        XCTAssertEqual(run.phase, .succeeded, repo.read("status/groups/g/runs/lora/train.log") ?? "")
        XCTAssertEqual(run.metrics["loss"], .double(1.0))
        XCTAssertNil(run.metrics["_meta"], "the kit's _meta is not a metric")
        XCTAssertEqual(run.metricsMeta, ["loss": MetricAnnotation(kind: .metric, direction: .min)], "it is recorded as how the metrics read")
        XCTAssertTrue(repo.read("status/groups/g/runs/lora.yaml")?.contains("metricsMeta:") ?? false)
        let job = try JSONValue.parse(Data(contentsOf: repo.url(".hone/jobs/\(run.id)/job.json")))
        guard case .object(let fields) = job, case .string(let ckpt)? = fields["checkpointDir"], case .string(let out)? = fields["outputDir"] else {
            return XCTFail("job.json: \(job)")
        }
        XCTAssertFalse(ckpt.hasPrefix(out))
        XCTAssertTrue(FileManager.default.fileExists(atPath: ckpt + "/checkpoint-1/optimizer.pt"), "the checkpoint stays for a resume")

        // The manifest: the base it needs, every file with its size, no checkpoint.
        let manifest = try XCTUnwrap(repo.read("models/m/v1.yaml"))
        let baseSha = ContentHash.hex("base weights\n")
        XCTAssertTrue(manifest.contains("base:\n  model: base@v1\n  sha256: \(baseSha)"), manifest)
        XCTAssertTrue(manifest.contains("path: adapter_model.safetensors"), manifest)
        XCTAssertTrue(manifest.contains("size: \(30 + 13)\n"), manifest)
        XCTAssertFalse(manifest.contains("optimizer") || manifest.contains("checkpoint"), manifest)
        XCTAssertEqual(try repo.hone(["validate"]).status, 0, "the manifest with base and files is a valid ModelVersion")
        let storeFiles = try FileManager.default.subpathsOfDirectory(atPath: repo.url(".hone/store").path)
        XCTAssertFalse(storeFiles.contains { $0.contains("checkpoint") }, "\(storeFiles)")
        let optimizerDigest = ContentHash.hex("optimizer state of \(run.id)")
        XCTAssertFalse(storeFiles.contains { $0.hasSuffix(optimizerDigest) }, "no checkpoint blob")

        // Both evals found the base from job.json alone (their handler fails otherwise).
        for name in ["draft", "published"] {
            let s = try XCTUnwrap(repo.status(name, kind: .eval))
            XCTAssertEqual(s.phase, .succeeded, "\(name): " + (repo.read("status/groups/g/evals/\(name)/evaluate.log") ?? ""))
            XCTAssertEqual(s.metrics["base_ok"], .int(1), name)
            let rows = try XCTUnwrap(repo.read("status/groups/g/evals/\(name)/results.jsonl"))
            XCTAssertTrue(rows.contains("\"base\": \"base@v1\"") && rows.contains(baseSha), rows)
        }
        // The published adapter's base is one of its eval's inputs (its digest is in the eval's specDigest).
        XCTAssertEqual(repo.status("published", kind: .eval)?.inputs["models/base/v1"], baseSha)
    }
}
