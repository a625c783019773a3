import Foundation
import Git
import HoneExecutors
import HoneLoading
import HoneModel
import HonePlanning

/// Why a job could not be prepared: recorded as a failed attempt with this event, never thrown at the user.
struct PreparationFailure: Error {
    var reason: String
    var message: String
    /// The version input (`datasets/d/v1`) whose artifact could not be verified: no job read it, so the
    /// digest the attempt recorded for it must not freeze the version (specs/versions.md).
    var unverifiedInput: String? = nil
}

/// Turns a Pending status into a ready job directory (specs/job-contract.md): `src/` (the tree of the spec's
/// commit), `out/`, and `job.json` (inputs verified against their sha256 where they are); returns the JobSpec.
struct JobPreparation {
    let repository: Repository
    let desired: DesiredState
    let recorded: [ObjectKey: ObjectStatus]
    let store: ArtifactStore
    let environment: [String: String]
    var index = SnapshotIndex()
    /// A Slurm node may have no credentials for a remote store: its inputs are staged in the job's folder
    /// (under the pool's workdir) instead of read from the local cache (docs/slurm.md).
    var stagesInputs = false

    /// `source` receives the snapshot `src/` was copied from (see `recycleSource`; call its `barrier()` before
    /// the job starts).
    func prepare(_ status: ObjectStatus, directory: URL, source: inout SourceSnapshot?) throws -> JobSpec {
        let fm = FileManager.default
        try? fm.removeItem(at: directory.appendingPathComponent("src"))
        try? fm.removeItem(at: directory.appendingPathComponent("out"))
        try fm.createDirectory(at: directory.appendingPathComponent("out"), withIntermediateDirectories: true)
        let src = directory.appendingPathComponent("src")
        guard let commitHex = status.specCommit, let commit = ObjectID(hex: commitHex) else {
            throw PreparationFailure(reason: "NoSpecCommit", message: "the status records no spec commit to snapshot")
        }
        // The handler runs the code exactly as committed beside the spec.
        source = try snapshot(commit, into: src)

        var job: [String: JSONValue] = [
            "kind": .string(status.key.kind.rawValue), "object": .string(status.key.display), "id": .string(status.id),
            "attempt": .int(status.attempt), "params": .object(status.params),
            "outputDir": .string(directory.appendingPathComponent("out").path),
        ]
        // Checkpoints: beside out/, never collected, stored or published, and kept when the same attempt is
        // prepared again or requeued (Slurm), so the handler can resume from them (specs/job-contract.md).
        let checkpoints = directory.appendingPathComponent("checkpoints")
        try fm.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        job["checkpointDir"] = .string(checkpoints.path)
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
            try modelInput(eval.model, fromRun: eval.fromRunKey, into: &job, src: src, directory: directory)
            job["dataset"] = try input(.dataset, eval.dataset, src: src, directory: directory)
            runtimeRef = eval.runtime
            timeLimit = eval.autoRelease
            if eval.debug.enabled { try debugEnvironment(eval, status, env: &env, secrets: &secrets) }
        case .playground:
            guard let p = desired.playgrounds[status.key] else { throw PreparationFailure(reason: "SpecMissing", message: "the playground's spec is gone") }
            task = "serve"
            command = p.handler
            try modelInput(p.model, fromRun: p.fromRunKey, into: &job, src: src, directory: directory)
            runtimeRef = p.runtime
            // The job-side limit of the executor stops the server at its auto-release time even when no
            // reconciler runs then.
            timeLimit = p.autoRelease
            try serving(p, status, job: &job, env: &env, secrets: &secrets)
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

    /// Debug mode: the password from its variable where hone runs, passed in that variable only.
    func debugEnvironment(_ eval: EvalSpec, _ status: ObjectStatus, env: inout [String: String], secrets: inout [String: String]) throws {
        env["HONE_DEBUG"] = "1"
        guard let password = environment[eval.debug.passwordEnv], !password.isEmpty else {
            throw PreparationFailure(reason: "DebugPasswordMissing",
                                     message: "debug mode is on but \(eval.debug.passwordEnv) is not set where hone runs: set it in the environment of `hone reconcile` (never in git), then start another attempt with `hone rerun \(status.key.display)`, commit and reconcile (a failed attempt is not retried by reconcile alone)")
        }
        // Shorter values are not redacted (they would mask ordinary words): refuse them.
        guard password.utf8.count >= SecretRedactor.minimumLength else {
            throw PreparationFailure(reason: "DebugPasswordTooShort",
                                     message: "debug mode is on but \(eval.debug.passwordEnv) is shorter than \(SecretRedactor.minimumLength) characters: hone could not keep it out of logs; choose a longer one, then `hone rerun \(status.key.display)`, commit and reconcile")
        }
        secrets[eval.debug.passwordEnv] = password
        env["HONE_DEBUG_PASSWORD_ENV"] = eval.debug.passwordEnv
    }

    /// What a playground's server gets besides its model: where to listen, and its key (in its variable only).
    func serving(_ p: PlaygroundSpec, _ status: ObjectStatus, job: inout [String: JSONValue], env: inout [String: String],
                 secrets: inout [String: String]) throws {
        let listen = try Self.listen(for: status)
        job["listen"] = .object(["host": .string(listen.host), "port": .int(listen.port)])
        env["HONE_LISTEN_HOST"] = listen.host
        env["HONE_LISTEN_PORT"] = String(listen.port)
        guard let variable = p.apiKeyEnv else { return }
        guard let key = environment[variable], key.utf8.count >= SecretRedactor.minimumLength else {
            throw PreparationFailure(reason: "ApiKeyMissing",
                                     message: "apiKeyEnv is \(variable) but it is \(environment[variable] == nil ? "not set" : "shorter than \(SecretRedactor.minimumLength) characters") where hone runs: set it in the environment of `hone reconcile` (never in git), then `hone rerun \(status.key.display)`, commit and reconcile; a playground that should have a key never starts open")
        }
        job["apiKeyEnv"] = .string(variable)
        secrets[variable] = key
    }

    /// Where a playground's server listens: its recorded endpoint when the attempt is prepared again,
    /// else a free port on loopback of this machine (local pools run here).
    static func listen(for status: ObjectStatus) throws -> (host: String, port: Int) {
        if let e = status.playground?.endpoint, let (host, port) = PlaygroundClient.parse(endpoint: e) { return (host, Int(port)) }
        do { return ("127.0.0.1", try PlaygroundClient.freePort(host: "127.0.0.1")) } catch {
            throw PreparationFailure(reason: "NoPort", message: "\(error)")
        }
    }

    /// The model an eval or playground reads: a registry version (with the base of an adapter), or the
    /// draft model of a succeeded run of its group (checked against its sha256).
    func modelInput(_ ref: VersionRef?, fromRun runKey: ObjectKey?, into job: inout [String: JSONValue], src: URL, directory: URL) throws {
        if let m = ref {
            var model = try input(.model, m, src: src, directory: directory)
            // A published adapter names the base it is applied to: the job gets it too.
            if let baseRef = desired.version(.model, m)?.base {
                let base = try input(.model, baseRef, src: src, directory: directory)
                job["baseModel"] = base
                if case .object(var o) = model { o["base"] = base; model = .object(o) }
            }
            job["model"] = model
        } else if let runKey {
            guard let rs = recorded[runKey], rs.phase == .succeeded, let m = rs.run?.model, let uri = m.uri, let sha = m.sha256 else {
                throw PreparationFailure(reason: "RunNotReady", message: "run \(runKey.display) has no succeeded model")
            }
            let path = try verified(uri: uri, sha256: sha, what: "draft model of \(runKey.display)", src: src, directory: directory)
            var model: [String: JSONValue] = ["name": .string(m.name), "version": .string(m.version), "path": .string(path.path),
                                              "fromRun": .string(runKey.display), "sha256": .string(sha)]
            // The run's output may be an adapter: its base model, as the run had it.
            if let run = desired.runs[runKey] {
                let base = try input(.model, run.baseModel, src: src, directory: directory)
                job["baseModel"] = base
                model["base"] = base
            }
            job["model"] = .object(model)
        }
    }

    /// A version's artifact, checked against its sha256 before any job reads it.
    func input(_ kind: VersionKind, _ ref: VersionRef, src: URL, directory: URL) throws -> JSONValue {
        guard let v = desired.version(kind, ref), let uri = v.uri, let sha = v.sha256 else {
            throw PreparationFailure(reason: "InputMissing", message: "\(kind.noun) version \(ref) is not in the repository")
        }
        let path: URL
        do { path = try verified(uri: uri, sha256: sha, what: "\(kind.noun) \(ref)", src: src, directory: directory) } catch var f as PreparationFailure {
            f.unverifiedInput = SpecDigest.inputKey(kind, ref)
            throw f
        }
        return .object(["name": .string(ref.name), "version": .string(ref.version), "path": .string(path.path), "sha256": .string(sha)])
    }

    /// The local path of a verified input. A `store://` object missing from the local store is fetched from
    /// a remote store first; when `stagesInputs`, a remote store's object is handed to the job as a copy in
    /// its folder (`inputs/<sha256>/<name>`).
    func verified(uri: String, sha256: String, what: String, src: URL, directory: URL) throws -> URL {
        if uri.hasPrefix("store://") {
            do { try store.fetch(uri, sha256: sha256) } catch let e as RemoteStoreError {
                switch e {
                case .notFound: throw PreparationFailure(reason: "InputMissing", message: "\(what): \(e)")
                case .failed: throw PreparationFailure(reason: "InputUnreadable", message: "\(what): \(e)")
                // The store or its credentials may be back at the next pass: the attempt waits.
                case .unreachable, .credentials, .bucketMissing, .rcloneMissing: throw e
                }
            }
        }
        let url = try verifiedLocal(uri: uri, sha256: sha256, what: what, src: src)
        guard stagesInputs, store.remote != nil, uri.hasPrefix("store://") else { return url }
        let stageIn = directory.appendingPathComponent("inputs")
        let staged = stageIn.appendingPathComponent(sha256).appendingPathComponent(url.lastPathComponent)
        do {
            try? FileManager.default.removeItem(at: staged)
            try FileManager.default.createDirectory(at: staged.deletingLastPathComponent(), withIntermediateDirectories: true)
            // A hard link when the workdir is on the cache's file system, else a copy (the store's objects never change).
            do { try FileManager.default.linkItem(at: url, to: staged) } catch { try FileManager.default.copyItem(at: url, to: staged) }
        } catch {
            throw PreparationFailure(reason: "InputUnreadable", message: "\(what): cannot stage \(uri) in \(stageIn.path): \(error.localizedDescription)")
        }
        return staged
    }

    func verifiedLocal(uri: String, sha256: String, what: String, src: URL) throws -> URL {
        guard let url = store.resolve(uri, snapshot: src) else {
            throw PreparationFailure(reason: "InputUnreadable", message: "\(what): hone cannot read uri \(uri)")
        }
        var st = stat()
        guard lstat(url.path, &st) == 0 else {
            throw PreparationFailure(reason: "InputMissing", message: "\(what): \(uri) does not exist (\(url.path))")
        }
        // A repository-relative input is the job's own fresh copy in src/: nothing to remember it by.
        let inSnapshot = !uri.hasPrefix("store://") && !uri.hasPrefix("file://") && !uri.hasPrefix("/")
        let actual: String
        defer { store.inputCache.save() }
        do { actual = try store.digest(ofInput: url, cache: inSnapshot ? nil : store.inputCache) } catch let refusal as OutputFile.Refusal {
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
