import Foundation
import Git
import HoneExecutors
import HoneLoading
import HoneModel

/// Why a job could not be prepared: recorded as a failed attempt with this event, never thrown at the user.
struct PreparationFailure: Error {
    var reason: String
    var message: String
}

/// What `JobPreparation.snapshot` learns about a commit, kept by the reconciler for its later jobs
/// (most jobs of a pass share the commit their attempt was created on).
final class SnapshotIndex {
    struct Snapshot {
        var key: String
        var entries: [TreeEntry]
        /// Inode of each entry's file in `.hone/snapshots/<key>/` (filled once the folder exists).
        var inodes: [ino_t] = []
        var device: dev_t = 0
        /// How many direct children (files and sub-folders) each folder has, "" being the root.
        var folderSizes: [String: Int] = [:]
    }
    var byCommit: [ObjectID: Snapshot] = [:]
}

/// Turns a Pending status into a ready job directory (design §3): `src/` (the tree of the spec's
/// commit), `out/`, and `job.json` (inputs verified against their sha256 where they are); returns the JobSpec.
struct JobPreparation {
    let repository: Repository
    let desired: DesiredState
    let recorded: [ObjectKey: ObjectStatus]
    let store: ArtifactStore
    let environment: [String: String]
    var index = SnapshotIndex()

    /// `snapshotKey` receives the key of the snapshot `src/` was made from (see `recycleSource`).
    func prepare(_ status: ObjectStatus, directory: URL, snapshotKey: inout String?) throws -> JobSpec {
        let fm = FileManager.default
        try? fm.removeItem(at: directory.appendingPathComponent("src"))
        try? fm.removeItem(at: directory.appendingPathComponent("out"))
        try fm.createDirectory(at: directory.appendingPathComponent("out"), withIntermediateDirectories: true)
        let src = directory.appendingPathComponent("src")
        guard let commitHex = status.specCommit, let commit = ObjectID(hex: commitHex) else {
            throw PreparationFailure(reason: "NoSpecCommit", message: "the status records no spec commit to snapshot")
        }
        // The handler runs the code exactly as committed beside the spec.
        snapshotKey = try snapshot(commit, into: src)

        var job: [String: JSONValue] = [
            "kind": .string(status.key.kind.rawValue), "object": .string(status.key.display), "id": .string(status.id),
            "attempt": .int(status.attempt), "params": .object(status.params),
            "outputDir": .string(directory.appendingPathComponent("out").path),
        ]
        var env: [String: String] = [:]
        var secrets: [String: String] = [:]
        var runtimeRef: VersionRef? = nil
        var timeLimit: Int? = nil
        let task: String
        let command: String

        switch status.key.kind {
        case .run:
            guard let run = desired.runs[status.key] else { throw PreparationFailure(reason: "SpecMissing", message: "the run's spec is gone") }
            task = "train"
            command = run.handler
            job["baseModel"] = try input(.model, run.baseModel, src: src, directory: directory)
            job["trainDataset"] = try input(.dataset, run.trainDataset, src: src, directory: directory)
            if let v = run.validationDataset { job["validationDataset"] = try input(.dataset, v, src: src, directory: directory) }
            runtimeRef = run.runtime
            if let h = desired.project?.pools[run.pool]?.maxHours { timeLimit = Int(h * 3600) }
        case .eval:
            guard let eval = desired.evals[status.key] else { throw PreparationFailure(reason: "SpecMissing", message: "the eval's spec is gone") }
            task = "evaluate"
            command = eval.handler
            if let m = eval.model {
                job["model"] = try input(.model, m, src: src, directory: directory)
            } else if let runKey = eval.fromRunKey {
                guard let rs = recorded[runKey], rs.phase == .succeeded, let m = rs.model, let uri = m.uri, let sha = m.sha256 else {
                    throw PreparationFailure(reason: "RunNotReady", message: "run \(runKey.display) has no succeeded model")
                }
                let path = try verified(uri: uri, sha256: sha, what: "draft model of \(runKey.display)", src: src)
                job["model"] = .object(["name": .string(m.name), "version": .string(m.version), "path": .string(path.path),
                                        "fromRun": .string(runKey.display), "sha256": .string(sha)])
            }
            job["dataset"] = try input(.dataset, eval.dataset, src: src, directory: directory)
            runtimeRef = eval.runtime
            timeLimit = eval.autoRelease
            if eval.debug.enabled {
                env["HONE_DEBUG"] = "1"
                guard let password = environment[eval.debug.passwordEnv], !password.isEmpty else {
                    throw PreparationFailure(reason: "DebugPasswordMissing",
                                             message: "debug mode is on but \(eval.debug.passwordEnv) is not set where hone runs: set it (never in git) and reconcile again")
                }
                // Shorter values are not redacted (they would mask ordinary words): refuse them.
                guard password.utf8.count >= SecretRedactor.minimumLength else {
                    throw PreparationFailure(reason: "DebugPasswordTooShort",
                                             message: "debug mode is on but \(eval.debug.passwordEnv) is shorter than \(SecretRedactor.minimumLength) characters: hone could not keep it out of logs; choose a longer one")
                }
                secrets[eval.debug.passwordEnv] = password
                env["HONE_DEBUG_PASSWORD_ENV"] = eval.debug.passwordEnv
            }
        case .view:
            throw PreparationFailure(reason: "NotAJob", message: "views do not run")
        }
        var runtime: RuntimeSetup? = nil
        if let r = runtimeRef, let v = desired.version(.runtime, r) {
            runtime = RuntimeSetup(digest: v.digest, python: v.python, requirements: v.requirements,
                                   systemSitePackages: v.systemSitePackages, environment: v.env)
            job["runtime"] = .object(["name": .string(r.name), "version": .string(r.version)])
        }
        let jobFile = directory.appendingPathComponent("job.json")
        // In place, no fsync: no handler reads it before the launch that follows (a job is prepared only
        // while it was never launched).
        try Workspace.plainWrite(jobFile, Data((JSONValue.object(job).prettyJSON + "\n").utf8))
        env["HONE_JOB"] = jobFile.path
        env["HONE_JOB_ID"] = status.id
        return JobSpec(id: status.id, object: status.key.display, task: task, command: command, environment: env,
                       secretEnvironment: secrets, runtime: runtime, timeLimitSeconds: timeLimit)
    }

    /// `src/`: the commit's tree (without status/). Extracted once per content into `.hone/snapshots/<digest>/`
    /// (read-only), then hard-linked per job: a fresh folder per job without re-extracting every blob.
    /// A `src/` that an earlier job of this snapshot left untouched is taken over instead (see
    /// `recycleSource`): creating folders is what costs most here. Returns the snapshot's key.
    @discardableResult
    func snapshot(_ commit: ObjectID, into src: URL) throws -> String {
        let fm = FileManager.default
        var known = try index.byCommit[commit] ?? {
            let entries = try repository.tree(of: commit).filter { !$0.path.hasPrefix("status/") }
            // Keyed by the content without status/ (hone's own commits change only status/, so they share one).
            let key = SHA256.hex(entries.map { "\($0.blob.hex) \($0.executable ? "x" : "-") \($0.path)\n" }.joined())
            return SnapshotIndex.Snapshot(key: key, entries: entries)
        }()
        defer { index.byCommit[commit] = known }
        let entries = known.entries, key = known.key
        let cache = JobPreparation.snapshotFolder(repositoryRoot: store.repositoryRoot, key: key)
        if !fm.fileExists(atPath: cache.path) {
            let tmp = URL(fileURLWithPath: cache.path + ".tmp-\(getpid())")
            try? fm.removeItem(at: tmp)
            var folders: Set<String> = []
            for entry in entries {
                let url = tmp.appendingPathComponent(entry.path)
                let folder = url.deletingLastPathComponent().path
                if folders.insert(folder).inserted { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                try repository.readBlob(entry.blob).write(to: url)
                chmod(url.path, entry.executable ? 0o555 : 0o444)
            }
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
            if rename(tmp.path, cache.path) != 0 { try? fm.removeItem(at: tmp) }  // another reconciler won: use its copy
        }
        if known.inodes.isEmpty {
            var st = stat()
            known.device = stat(cache.path, &st) == 0 ? st.st_dev : 0
            known.inodes = entries.map { entry in lstat(cache.path + "/" + entry.path, &st) == 0 ? st.st_ino : 0 }
            var children: [String: Set<String>] = [:]
            for entry in entries {
                var folder = ""
                for part in entry.path.split(separator: "/").map(String.init) {
                    children[folder, default: []].insert(part)
                    folder = folder.isEmpty ? part : folder + "/" + part
                }
            }
            known.folderSizes = children.mapValues(\.count)
        }
        if takeSpare(of: known, into: src) { return key }
        var folders: Set<String> = []
        for entry in entries {
            let url = src.appendingPathComponent(entry.path)
            let folder = url.deletingLastPathComponent().path
            if folders.insert(folder).inserted { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            if link(cache.appendingPathComponent(entry.path).path, url.path) != 0 {
                // Another file system, or no hard links: copy.
                try repository.readBlob(entry.blob).write(to: url)
                if entry.executable { chmod(url.path, 0o755) }
            }
        }
        return key
    }

    static func snapshotFolder(repositoryRoot: URL, key: String) -> URL {
        repositoryRoot.appendingPathComponent(".hone/snapshots/\(key)")
    }

    /// Where finished jobs' untouched `src/` folders wait to be taken over by the next job of the same snapshot.
    static func spareFolder(repositoryRoot: URL, key: String) -> URL {
        repositoryRoot.appendingPathComponent(".hone/snapshots/\(key).spare")
    }

    /// Spares kept per snapshot: as many as jobs may end between two launches (more are removed).
    static let maxSpares = 16

    /// Once a job has ended and been collected: its `src/` goes to the spares of its snapshot (a rename), or
    /// is removed when there are enough spares already. Whether it is still pristine is checked when taken.
    static func recycleSource(_ src: URL, key: String?, repositoryRoot: URL) {
        let fm = FileManager.default
        if let key {
            let spares = spareFolder(repositoryRoot: repositoryRoot, key: key)
            let count = (try? fm.contentsOfDirectory(atPath: spares.path).count) ?? 0
            if count < maxSpares {
                try? fm.createDirectory(at: spares, withIntermediateDirectories: true)
                let name = src.deletingLastPathComponent().lastPathComponent
                if rename(src.path, spares.appendingPathComponent(name).path) == 0 { return }
            }
        }
        try? fm.removeItem(at: src)
    }

    /// Moves a spare `src/` of this snapshot into place, if one is there and holds exactly the snapshot's
    /// files (same inodes: hard links of the snapshot, nothing added, removed or replaced by its last job).
    /// A spare that fails the check is removed.
    func takeSpare(of snapshot: SnapshotIndex.Snapshot, into src: URL) -> Bool {
        let fm = FileManager.default
        let spares = JobPreparation.spareFolder(repositoryRoot: store.repositoryRoot, key: snapshot.key)
        guard let names = try? fm.contentsOfDirectory(atPath: spares.path) else { return false }
        for name in names.sorted() {
            guard rename(spares.appendingPathComponent(name).path, src.path) == 0 else { continue }
            if JobPreparation.isPristine(src, snapshot: snapshot) { return true }
            try? fm.removeItem(at: src)
        }
        return false
    }

    /// `src` holds exactly the snapshot's files, each a hard link of the snapshot's copy (same inode), and
    /// no other entry (each folder has as many children as the snapshot's).
    static func isPristine(_ src: URL, snapshot: SnapshotIndex.Snapshot) -> Bool {
        guard snapshot.inodes.count == snapshot.entries.count, !snapshot.inodes.contains(0) else { return false }
        for (folder, count) in snapshot.folderSizes {
            guard let dir = opendir(folder.isEmpty ? src.path : src.path + "/" + folder) else { return false }
            var n = 0
            while let e = readdir(dir) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { n += 1 }
            }
            closedir(dir)
            if n != count { return false }
        }
        for (entry, inode) in zip(snapshot.entries, snapshot.inodes) {
            var mine = stat()
            guard lstat(src.path + "/" + entry.path, &mine) == 0, (mine.st_mode & S_IFMT) == S_IFREG, mine.st_ino == inode,
                  mine.st_dev == snapshot.device
            else { return false }
        }
        return true
    }

    /// A version's artifact, checked against its sha256 before any job reads it.
    func input(_ kind: VersionKind, _ ref: VersionRef, src: URL, directory: URL) throws -> JSONValue {
        guard let v = desired.version(kind, ref), let uri = v.uri, let sha = v.sha256 else {
            throw PreparationFailure(reason: "InputMissing", message: "\(kind.noun) version \(ref) is not in the repository")
        }
        let path = try verified(uri: uri, sha256: sha, what: "\(kind.noun) \(ref)", src: src)
        return .object(["name": .string(ref.name), "version": .string(ref.version), "path": .string(path.path), "sha256": .string(sha)])
    }

    func verified(uri: String, sha256: String, what: String, src: URL) throws -> URL {
        guard let url = store.resolve(uri, snapshot: src) else {
            throw PreparationFailure(reason: "InputUnreadable", message: "\(what): hone cannot read uri \(uri)")
        }
        var st = stat()
        guard lstat(url.path, &st) == 0 else {
            throw PreparationFailure(reason: "InputMissing", message: "\(what): \(uri) does not exist (\(url.path))")
        }
        let actual: String
        do { actual = try store.digest(ofInput: url) } catch let refusal as OutputFile.Refusal {
            throw PreparationFailure(reason: "InputNotRegular", message: "\(what): \(uri): \(refusal); an input must be a regular file or a folder of regular files")
        } catch {
            throw PreparationFailure(reason: "InputUnreadable", message: "\(what): \(uri): \(error)")
        }
        guard actual == sha256 else {
            throw PreparationFailure(reason: "InputDigestMismatch", message: "\(what): \(uri) has sha256 \(actual), but its version says \(sha256)")
        }
        return url
    }
}
