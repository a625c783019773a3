import Foundation
import Git
import HoneLoading
import HoneModel
import YAML

/// The files one step changes, and the trailers that say why (`Hone-Action: create support/x id=…`).
struct ChangeSet {
    var files: [String: FileChange] = [:]
    var trailers: [String] = []
    var lines: [String] = []
    /// Each trailer's verb (`create`, `launch`, `collect`…), in the same order.
    var verbs: [String] = []
    /// Objects that already have a trailer.
    var keys: Set<ObjectKey> = []
    var isEmpty: Bool { files.isEmpty }

    mutating func write(_ path: String, _ text: String) { files[path] = .write(Data(text.utf8)) }
    mutating func write(_ path: String, data: Data) { files[path] = .write(data) }
    mutating func delete(_ path: String) { files[path] = .delete }
    /// The same change set with every file's content and every line passed through `redactor`.
    func redacted(by redactor: SecretRedactor) -> ChangeSet {
        guard !redactor.isEmpty else { return self }
        var out = self
        for (path, change) in files {
            if case .write(let data, let executable) = change { out.files[path] = .write(redactor.redact(data), executable: executable) }
        }
        out.lines = lines.map(redactor.redact)
        out.trailers = trailers.map(redactor.redact)
        return out
    }
    mutating func action(_ verb: String, _ key: ObjectKey, id: String?, line: String) {
        trailers.append("Hone-Action: \(verb) \(key.display)\(id.map { " id=\($0)" } ?? "")")
        verbs.append(verb)
        keys.insert(key)
        lines.append(line)
    }
    /// `other` comes later: its files win; its trailers are added (each once).
    mutating func merge(_ other: ChangeSet) {
        files.merge(other.files) { _, b in b }
        for i in other.trailers.indices where !trailers.contains(other.trailers[i]) {
            trailers.append(other.trailers[i])
            lines.append(other.lines[i])
            verbs.append(other.verbs[i])
        }
        keys.formUnion(other.keys)
    }
}

/// Commits change sets onto a branch (libgit2's race guard), then mirrors them into the index and the
/// working tree so `git status` stays clean; optionally pushes, re-applying onto the remote's tip
/// when it moved. With `noCommit` it only writes the working tree. It owns the secrets in scope: every file
/// and message it writes, and every line it reports, passes through their redactor first.
final class Recorder {
    let workspace: Workspace
    let repository: Repository
    let branch: String
    let syncWorkTree: Bool
    let noCommit: Bool
    let push: String?
    private let report: (String) -> Void
    var secrets: SecretScope
    private(set) var commits: [ObjectID] = []
    /// The parent of the last commit `record` wrote (the tip it found, after any retries).
    private(set) var lastParent: ObjectID?
    /// Set when a push re-applied our commit on a remote tip that moved: what the reconciler loaded
    /// before is stale, so it must reload before acting further.
    var rebased = false
    /// The last commit the remote accepted (`--push`): what another clone sees.
    private(set) var lastPushed: ObjectID?

    init(workspace: Workspace, repository: Repository, branch: String, syncWorkTree: Bool, noCommit: Bool, push: String?,
         secrets: SecretScope, progress: @escaping (String) -> Void) {
        self.workspace = workspace; self.repository = repository; self.branch = branch
        self.syncWorkTree = syncWorkTree; self.noCommit = noCommit; self.push = push; self.secrets = secrets; self.report = progress
    }

    /// Reports a line, redacted.
    func progress(_ line: String) { report(secrets.redactor.redact(line)) }

    var tip: ObjectID? { try? repository.referenceTarget("refs/heads/\(branch)") }

    /// Writes the change set as one commit (or only to the working tree with --no-commit).
    func record(_ unredacted: ChangeSet, subject: String) throws {
        guard !unredacted.isEmpty else { return }
        let changes = unredacted.redacted(by: secrets.redactor)
        if noCommit {
            try writeWorkTree(changes.files)
            return
        }
        let message = secrets.redactor.redact(subject) + "\n\n" + changes.lines.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
            + changes.trailers.joined(separator: "\n") + "\n"
        let started = Date()
        // Authored as the user running hone (their git config), dated now; the trailers mark it as hone's.
        let user = repository.defaultSignature()
        let signature = Signature(name: user.name, email: user.email, time: Date())
        var attempt = 0
        var id: ObjectID
        // Journal first: a reconciler killed between the commit and the working-tree update leaves the
        // list of paths to bring in line with the branch (see recoverInterruptedSync).
        if syncWorkTree { try beginSync(Array(changes.files.keys)) }
        while true {
            let parent = tip
            do {
                id = try repository.writeCommit(branch: branch, parent: parent, changes: changes.files, message: message, author: signature, committer: signature)
                lastParent = parent
                break
            } catch let e as GitError where e.isConflict && attempt < 20 {
                attempt += 1   // someone committed meanwhile: our files are hone's own, so re-apply on the new tip
                if e.isLocked { removeStaleLock("refs/heads/\(branch)", olderThan: 0.5) }
                usleep(50_000)
            }
        }
        commits.append(id)
        let committed = Date()
        CrashPoint.hit("mid-commit")
        if syncWorkTree {
            try writeWorkTree(changes.files, matching: id)
            endSync()
        }
        if Recorder.timings {
            progress(String(format: "timing: commit of %d files %.0f ms, working tree and index %.0f ms",
                            changes.files.count, committed.timeIntervalSince(started) * 1000, Date().timeIntervalSince(committed) * 1000))
        }
        if let remote = push { try pushWithRetry(remote: remote, commit: id, changes: changes, message: message, signature: signature) }
    }

    /// `HONE_TIMINGS=1`: print how long each commit took (bench/reconcile.sh).
    static let timings = PhaseClock.enabled

    /// Writes files into the working tree and brings the index in line. With `matching` (the commit that
    /// holds exactly these contents) the index entries come from that commit's tree and the files' stat
    /// data, without re-reading or re-hashing them; without it each file is hashed from disk.
    func writeWorkTree(_ files: [String: FileChange], matching commit: ObjectID? = nil) throws {
        let writeStarted = Date()
        var folders: Set<String> = []
        for (path, change) in files.sorted(by: { $0.key < $1.key }) {
            let url = workspace.url(path)
            switch change {
            case .write(let data, _):
                // Not atomic (temp + rename costs a second file per status): a reconciler killed mid-write
                // leaves the path in the journal, and the next one rewrites it from the branch.
                let folder = url.deletingLastPathComponent().path
                if folders.insert(folder).inserted { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                try Workspace.plainWrite(url, data)  // no temp file, no fsync: the journal repairs a torn write
            case .delete:
                try? FileManager.default.removeItem(at: url)
                Recorder.removeEmptyParents(of: url, upTo: workspace.root)
            }
        }
        let written = Date()
        if !noCommit {
            func updateIndex() throws {
                if let commit { try repository.syncIndex(with: commit, paths: files.keys.sorted()) }
                else { try repository.stage(paths: files.keys.sorted()) }
            }
            do { try updateIndex() } catch let e as GitError where e.isLocked && removeStaleLock("index", olderThan: 10) { try updateIndex() }
        }
        if Recorder.timings {
            progress(String(format: "timing: %d working-tree files: write %.0f ms, stage %.0f ms", files.count,
                            written.timeIntervalSince(writeStarted) * 1000, Date().timeIntervalSince(written) * 1000))
        }
    }

    /// A `.lock` file left by a process killed while writing (a reconciler killed mid-commit) is removed and said;
    /// otherwise every later commit would fail on it. A ref's lock lives for a millisecond while a writer holds it
    /// (0.5 s is no live writer's); the index's may be held longer (git commit holds it while its editor is open).
    @discardableResult
    func removeStaleLock(_ name: String, olderThan age: TimeInterval) -> Bool {
        guard repository.removeStaleLock(name, olderThan: age) else { return false }
        progress("removed .git/\(name).lock, left by a process killed while writing it")
        return true
    }

    // MARK: Working-tree journal

    var journal: URL { workspace.url(".hone/worktree-sync") }

    /// Written in place, not atomically (no new file per commit): it is written before the commit, so a
    /// reconciler killed while writing it has committed nothing and a partial list is harmless.
    func beginSync(_ paths: [String]) throws {
        let data = Data(paths.sorted().joined(separator: "\n").utf8)
        try workspace.privateFolder()
        try Workspace.plainWrite(journal, data)
    }

    /// Empties the journal (kept as an empty file: nothing to repair).
    func endSync() { truncate(journal.path, 0) }

    /// After a reconciler died between a commit and the working-tree update: brings the journalled paths
    /// (index and working tree) in line with the branch tip. Returns how many paths it touched.
    func recoverInterruptedSync() throws -> Int {
        guard syncWorkTree, let text = try? String(contentsOf: journal, encoding: .utf8), !text.isEmpty, let tip else { return 0 }
        var files: [String: FileChange] = [:]
        for path in text.split(separator: "\n").map(String.init) where !path.isEmpty {
            if let data = try repository.blob(at: path, in: tip) { files[path] = .write(data) } else { files[path] = .delete }
        }
        try writeWorkTree(files, matching: tip)
        endSync()
        return files.count
    }

    static func removeEmptyParents(of url: URL, upTo root: URL) {
        var dir = url.deletingLastPathComponent()
        while dir.path.count > root.path.count, (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.isEmpty == true {
            try? FileManager.default.removeItem(at: dir)
            dir = dir.deletingLastPathComponent()
        }
    }

    /// Pushes; on a non-fast-forward, fetches, re-applies this commit's files on the remote tip
    /// (dropping statuses the remote holds for a newer attempt) and tries again.
    private func pushWithRetry(remote: String, commit: ObjectID, changes: ChangeSet, message: String, signature: Signature) throws {
        var current = commit
        var files = changes.files
        // The commit our files were made on: what "changed by someone else" is measured against.
        var base = try repository.commit(commit).parents.first
        for attempt in 1...6 {
            do {
                try repository.push(remote: remote, refspecs: ["refs/heads/\(branch):refs/heads/\(branch)"])
                lastPushed = current
                return
            } catch let e as GitError where e.pushRefusal != nil {
                guard attempt < 6 else { throw HoneError("push to \(remote) still rejected after \(attempt) tries: \(e)") }
                progress("push rejected (the remote moved): fetching \(remote) and re-applying")
                try repository.fetch(remote: remote)
                guard let remoteTip = try repository.referenceTarget("refs/remotes/\(remote)/\(branch)") else { throw e }
                // The remote was busy with another push, which did not land (yet): try again on the same tip.
                if remoteTip == base {
                    usleep(UInt32.random(in: 20_000...100_000))
                    continue
                }
                files = try dropChangedByOthers(files, base: base, remoteTip: remoteTip)
                // Nothing of ours left (the remote holds all of it): our branch becomes the remote's tip.
                let rebased = files.isEmpty ? remoteTip
                    : try repository.writeCommitDetached(parent: remoteTip, changes: files, message: message, author: signature)
                let remoteFiles = syncWorkTree ? try remoteChanges(from: base, to: remoteTip, ours: files, dropped: changes.files, in: rebased) : [:]
                if syncWorkTree { try beginSync(Array(remoteFiles.keys)) }
                try repository.compareAndSwap(ref: "refs/heads/\(branch)", to: rebased, expected: current)
                if syncWorkTree {
                    try writeWorkTree(remoteFiles, matching: rebased)
                    endSync()
                }
                current = rebased
                base = remoteTip
                if !files.isEmpty { commits.append(rebased) }
                self.rebased = true
            }
        }
    }

    /// What the working tree needs after a rebase onto the remote: what the remote added since `base`, our
    /// files over it, and the remote's copy of the files of ours it kept (journalled like a commit).
    private func remoteChanges(from base: ObjectID?, to remoteTip: ObjectID, ours files: [String: FileChange],
                               dropped all: [String: FileChange], in rebased: ObjectID) throws -> [String: FileChange] {
        var remoteFiles: [String: FileChange] = [:]
        for d in try repository.diff(from: base, to: remoteTip) {
            if let old = d.oldPath, d.status == .deleted || d.status == .renamed { remoteFiles[old] = .delete }
            if let new = d.newPath, d.status != .deleted, let data = try repository.blob(at: new, in: rebased) { remoteFiles[new] = .write(data) }
        }
        for (p, c) in files { remoteFiles[p] = c }
        for p in all.keys where files[p] == nil {
            if let data = try repository.blob(at: p, in: rebased) { remoteFiles[p] = .write(data) } else { remoteFiles[p] = .delete }
        }
        return remoteFiles
    }

    /// A status the remote changed since the commit ours was made on is the remote's to keep, with the files
    /// beside it (log, metrics, results): someone else created, claimed or advanced that attempt (a newer
    /// attempt, another reconciler's claim), and re-applying ours would undo it. The reconciler reloads and
    /// acts again on the remote's copy — it adopts, it does not launch.
    private func dropChangedByOthers(_ files: [String: FileChange], base: ObjectID?, remoteTip: ObjectID) throws -> [String: FileChange] {
        var out = files
        for path in files.keys where path.hasPrefix("status/") && path.hasSuffix(".yaml") {
            let theirs = try repository.blob(at: path, in: remoteTip)
            let before = try base.flatMap { try repository.blob(at: path, in: $0) }
            guard theirs != before else { continue }
            out[path] = nil
            let folder = String(path.dropLast(".yaml".count)) + "/"
            for other in files.keys where other.hasPrefix(folder) { out[other] = nil }
            let what: String
            if let t = theirs, case .write(let mine, _)? = files[path], let r = Recorder.attempt(in: t), let m = Recorder.attempt(in: mine), r > m {
                what = "it records attempt \(r), newer than ours (\(m))"
            } else {
                what = "another reconciler changed it meanwhile"
            }
            progress("kept \(path) from the remote: \(what)")
        }
        return out
    }

    static func attempt(in data: Data) -> Int? {
        YAMLParser.parse([UInt8](data)).root?["attempt"]?.scalar.flatMap { Int($0) }
    }
}

/// Test hook: `HONE_CRASH_AT=<point>` kills the reconciler (SIGKILL) the first time it reaches that
/// point, to prove that a reconciler killed anywhere loses nothing and launches nothing twice.
/// Points: after-intent-commit, after-launch, before-collect, mid-commit.
enum CrashPoint {
    nonisolated(unsafe) static var point = ProcessInfo.processInfo.environment["HONE_CRASH_AT"]
    static func hit(_ name: String) {
        guard point == name else { return }
        FileHandle.standardError.write(Data("hone: HONE_CRASH_AT=\(name): killing myself\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
