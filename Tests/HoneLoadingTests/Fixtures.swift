import Foundation
import XCTest
import HoneModel
@testable import HoneLoading

let sha = String(repeating: "ab", count: 32)

/// A small valid repository with one of everything; tests break one file at a time.
let validRepository: [String: String] = [
    "hone.yaml": """
    # the project
    kind: Project
    name: acme
    owner: ml-platform
    pools:
      local:
        executor: local
        maxParallel: 2
      gpu:
        executor: slurm
        partition: gpu
        gres: "gpu:1"
        workdir: /shared/hone
        costPerHour: 2.5
        maxHours: 24

    """,
    "models/tiny-char/v1.yaml": "kind: ModelVersion\nuri: artifacts/tiny.npz\nsha256: \(sha)\ndescription: tiny\n",
    "models/support-bot/v1.yaml": "kind: ModelVersion\nuri: store/bot.npz\nsha256: \(sha)\n",
    "datasets/tickets/v3.yaml": "kind: DatasetVersion\nuri: data/tickets.jsonl\nsha256: \(sha)\n",
    "datasets/tickets-test/v1.yaml": "kind: DatasetVersion\nuri: data/test.jsonl\nsha256: \(sha)\n",
    "runtimes/numpy/v1.yaml": "kind: RuntimeVersion\npython: python3\nrequirements: [\"numpy>=1.26\"]\nenv: {OMP_NUM_THREADS: \"1\"}\n",
    "groups/support/group.yaml": "kind: Group\ndescription: Support-ticket assistant fine-tunes\n",
    "groups/support/runs/lora-r8.yaml": """
    kind: Run
    description: rank-8 adapter, lr 3e-3
    pool: local
    baseModel: tiny-char@v1
    trainDataset: tickets@v3
    runtime: numpy@v1
    handler: python handlers/finetune.py
    params: {epochs: 3, lr: 0.003}
    rerun: 0

    """,
    "groups/support/evals/lora-r8-test.yaml": """
    kind: Eval
    fromRun: lora-r8
    handler: python handlers/evaluate.py
    dataset: tickets-test@v1
    runtime: numpy@v1
    autoRelease: 3600s

    """,
    "groups/support/evals/bot-test.yaml": """
    kind: Eval
    model: support-bot@v1
    handler: python handlers/evaluate.py
    dataset: tickets-test@v1

    """,
    "groups/support/views/accuracy-first.yaml": """
    kind: View
    columns: [name, model, dataset, phase, metrics.accuracy, createdAt]
    pinned: [name]
    filter: {phase: Succeeded, model: "support-bot@*", metrics.accuracy: ">=0.5"}
    sort: {by: createdAt, order: desc}
    default: true

    """,
    "evaluations/base.yaml": "kind: Eval\nmodel: tiny-char@v1\nhandler: python e.py\ndataset: tickets-test@v1\n",
    "evaluations/views/all.yaml": "kind: View\ndefault: true\n",
    // The scripts the handlers above (and the tests' runFile/evalFile) name: validate checks they exist.
    "handlers/finetune.py": "print('train')\n",
    "handlers/evaluate.py": "print('eval')\n",
    "train.py": "print('train')\n",
    "eval.py": "print('eval')\n",
    "e.py": "print('eval')\n",
]

/// One expected diagnostic: path, line, column and a piece of the message.
struct Expect: CustomStringConvertible {
    var path: String
    var line: Int
    var column: Int
    var contains: String
    var severity: Diagnostic.Severity = .error
    init(_ path: String, _ line: Int, _ column: Int, _ contains: String, _ severity: Diagnostic.Severity = .error) {
        self.path = path; self.line = line; self.column = column; self.contains = contains; self.severity = severity
    }
    var description: String { "\(path):\(line):\(column): \(severity): …\(contains)…" }
    func matches(_ d: Diagnostic) -> Bool {
        d.path == path && d.line == line && d.column == column && d.message.contains(contains) && d.severity == severity
    }
}

func load(_ files: [String: String]) -> LoadResult {
    try! Loader(source: MemorySource(files: files)).load()
}

/// Loads the valid repository with some files replaced (nil removes one) and asserts that the
/// diagnostics are exactly `expected` (one per problem), and that every untouched object still loads.
@discardableResult
func check(_ changes: [String: String?], _ expected: [Expect], invalid: Set<String> = [],
           file: StaticString = #filePath, line: UInt = #line) -> LoadResult {
    var files = validRepository
    for (path, text) in changes { files[path] = text }
    let result = load(files)
    let got = result.diagnostics
    var unmatched = got
    for e in expected {
        if let i = unmatched.firstIndex(where: e.matches) { unmatched.remove(at: i) }
        else { XCTFail("missing diagnostic \(e)\n got:\n\(got.map(\.headline).joined(separator: "\n"))", file: file, line: line) }
    }
    for d in unmatched { XCTFail("unexpected diagnostic: \(d.headline)", file: file, line: line) }
    // Valid neighbours stay valid: every object file not changed (and not named invalid) is loaded.
    for path in validRepository.keys where changes[path] == nil && !invalid.contains(path) {
        if path.contains("/runs/") || path.contains("/evals/") || path.hasPrefix("evaluations/") && !path.contains("/views/") || path.contains("/views/") {
            let loaded = result.desired.runs.values.map(\.key.specPath) + result.desired.evals.values.map(\.key.specPath)
                + result.desired.views.values.map(\.key.specPath)
            XCTAssertTrue(loaded.contains(path), "\(path) should still load", file: file, line: line)
        }
    }
    return result
}

/// Runs the git CLI in a directory (test fixtures only; hone itself never shells out to git).
@discardableResult
func git(_ args: [String], in dir: URL) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
    p.arguments = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main",
                   "-c", "safe.directory=*"] + args
    p.currentDirectoryURL = dir
    let out = Pipe()
    p.standardOutput = out
    p.standardError = Pipe()
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw NSError(domain: "git", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "git \(args) failed"]) }
    return String(decoding: data, as: UTF8.self)
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hone-loading-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func writeFiles(_ files: [String: String], to root: URL) throws {
    for (path, text) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}
