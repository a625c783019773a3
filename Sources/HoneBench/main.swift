// hone-bench: times the Git layer on one big commit (bench/commit.sh). Not part of the `hone` product.
//   hone-bench DIR [FILES] [--stage]   (--stage: sync the index of commit 2 with stage(paths:), the slow way)
// Makes a repository at DIR with FILES spec files (one commit), then records FILES status files of ~1 KB
// the way the reconciler does: redact (secrets in scope), writeCommit, write the work tree, sync the index.
// Prints timings.
import Foundation
import Git
import HoneModel

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: hone-bench DIR [FILES]\n".utf8))
    exit(2)
}
let dir = args[1]
let count = args.count > 2 ? Int(args[2]) ?? 10_000 : 10_000

func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> T {
    let start = Date()
    let result = try body()
    // Unbuffered, so each line appears as its phase ends.
    FileHandle.standardOutput.write(Data((label.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%8.0f ms\n", Date().timeIntervalSince(start) * 1000)).utf8))
    return result
}

func writeWorkTree(_ files: [String: FileChange]) throws {
    var folders = Set<String>()
    for (path, change) in files {
        guard case .write(let data, _) = change else { continue }
        let url = URL(fileURLWithPath: dir + "/" + path)
        let folder = url.deletingLastPathComponent().path
        if folders.insert(folder).inserted { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try data.write(to: url)
    }
}

let repo = try Repository.create(at: dir)
let who = Signature(name: "bench", email: "bench@example.com")
let names = (1...count).map { String(format: "e%05d", $0) }

var specs: [String: FileChange] = [:]
for n in names {
    specs["groups/b/evals/\(n).yaml"] = .write(Data("kind: Eval\nmodel: base@v1\ndataset: d@v1\nhandler: \"true\"\n# \(n)\n".utf8))
}
let first = try timed("commit 1: \(count) spec files") {
    try repo.writeCommit(branch: "main", parent: nil, changes: specs, message: "specs", author: who)
}
try writeWorkTree(specs)
try timed("commit 1: syncIndex(with:paths:)") { try repo.syncIndex(with: first, paths: specs.keys.sorted()) }

// ~1 KB status files, each different (ids, timestamps), like status/groups/<g>/evals/<e>.yaml.
var statuses: [String: FileChange] = [:]
for (i, n) in names.enumerated() {
    var text = "kind: EvalStatus\nphase: Pending\nid: \(String(format: "%016x", i &* 2654435761))\nattempt: 1\n"
    text += "createdAt: 2025-01-01T00:00:00Z\nowner: bench@example.com\npool: local\nmodel: base@v1\ndataset: d@v1\n"
    text += "events:\n"
    while text.utf8.count < 1000 { text += "- at: 2025-01-01T00:00:\(String(format: "%02d", text.utf8.count % 60))Z\n  message: queued \(n) on local\n" }
    statuses["status/groups/b/evals/\(n).yaml"] = .write(Data(text.utf8))
}
// What the recorder adds when secrets are in scope (CI: a push token, a debug password): every file it
// commits passes through the redactor (none of them holds a secret here: the common case).
let redactor = SecretRedactor(["tok3n-value-Zr9x", "pw-debug-Qx81-never", "gh-0123456789abcdef", "hf_secret_abcdef"])
let redactedBytes = timed("redact \(count) status files (4 secrets)") {
    statuses.values.reduce(0) { n, change in
        guard case .write(let data, _) = change else { return n }
        return n + redactor.redact(data).count
    }
}
precondition(redactedBytes > 0)
let second = try timed("commit 2: \(count) status files") {
    try repo.writeCommit(branch: "main", parent: first, changes: statuses, message: "statuses", author: who)
}
try timed("commit 2: write work tree") { try writeWorkTree(statuses) }
if args.contains("--stage") {
    try timed("commit 2: stage(paths:)") { try repo.stage(paths: statuses.keys.sorted()) }
} else {
    try timed("commit 2: syncIndex(with:paths:)") { try repo.syncIndex(with: second, paths: statuses.keys.sorted()) }
}
// What recovery after an interrupted sync does: read every recorded file back from the commit.
let bytes = try timed("read \(count) files back with blob(at:in:)") {
    try statuses.keys.reduce(0) { n, path in n + (try repo.blob(at: path, in: second)?.count ?? 0) }
}
precondition(bytes > 0)
// For comparison: the same work-tree files rewritten with open/write/close. Foundation's Data.write(to:)
// (used above, as the reconciler does) fsyncs every file.
try timed("rewrite work tree with open/write/close") {
    for (path, change) in statuses {
        guard case .write(let data, _) = change else { continue }
        let fd = open(dir + "/" + path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { throw CocoaError(.fileWriteUnknown) }
    }
}
print("head \(second.hex)")
