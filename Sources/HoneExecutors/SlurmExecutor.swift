import Foundation
import HoneModel

/// Runs jobs as Slurm batch jobs through the Slurm client commands (`sbatch`, `squeue`, `scontrol`,
/// `sacct`, `scancel`), which must be on PATH and reach the cluster (SLURM_CONF passes through).
///
/// Idempotence by id: the Slurm job is named with hone's deterministic id, and its Slurm id is written to
/// `<jobdir>/slurm-id` right after `sbatch` succeeds; `launch` looks in that file, then in `squeue -t all --name`,
/// then in the job completion log / accounting (`sacct`) before it submits anything. A new instance (a restarted
/// reconciler) therefore finds and polls what an earlier one submitted.
public final class SlurmExecutor: Executor, @unchecked Sendable {
    public let settings: SlurmPoolSettings
    /// `settings.workdir`, resolved (see `Executors.make`).
    public let workdir: URL
    let runner: SlurmCommandRunner
    /// The job folder is on the shared workdir, which this machine mounts too; a job on a node serves a
    /// port at the node's name (reached through `ssh -L` from elsewhere).
    public let capabilities: ExecutorCapabilities = [.readsJobFolder, .streamsLogs, .exposesPort]

    /// Slurm states after which a job never runs again.
    static let finalStates: Set<String> = [
        "COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED",
        "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED",
    ]
    /// Non-final states in which the job's script is not running (yet or again).
    static let pendingStates: Set<String> = [
        "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD",
    ]

    /// - Parameter environment: the environment of every Slurm command (SLURM_CONF, PATH…); a job sees it
    ///   too, since it is submitted with `--export=ALL`.
    public init(settings: SlurmPoolSettings, workdir: URL, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        self.workdir = workdir
        self.runner = SlurmCommandRunner(environment: environment, timeout: settings.commandTimeout)
    }

    // MARK: Layout

    public func jobDirectory(for id: String) -> URL {
        workdir.appendingPathComponent("jobs", isDirectory: true).appendingPathComponent(id, isDirectory: true)
    }

    /// Where runtimes (venvs cached by digest) are created, by the job itself on the cluster side.
    public var runtimeCache: URL { workdir.appendingPathComponent("runtimes", isDirectory: true) }

    public func logFile(for id: String) -> URL { jobDirectory(for: id).appendingPathComponent(JobScript.Files.log) }

    /// `<jobdir>/slurm-id`: the Slurm job id, written right after sbatch succeeds.
    public func slurmIdFile(for id: String) -> URL { jobDirectory(for: id).appendingPathComponent("slurm-id") }

    /// `<jobdir>/slurm.out`: Slurm's own stdout/stderr of the batch script.
    public func slurmOutputFile(for id: String) -> URL { jobDirectory(for: id).appendingPathComponent("slurm.out") }

    // MARK: Executor

    public func launch(_ job: JobSpec) throws -> String {
        if let existing = try findSlurmId(job.id) {
            recordSlurmId(existing, for: job.id)
            return existing
        }
        let dir = jobDirectory(for: job.id)
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        try fm.createDirectory(at: runtimeCache, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("run.sh")
        let text = JobScript.render(job: job, jobDirectory: dir, runtimeCache: runtimeCache)
        try Data(text.utf8).write(to: script, options: .atomic)
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)

        let args = sbatchArguments(for: job, script: script)
        // sbatch's environment is the job's (--export=ALL): the policy's, and secrets travel only in it.
        let out = try runner.check("sbatch", args, environment: job.environmentPolicy.environment(from: runner.environment, secrets: job.secretEnvironment))
        guard let slurmId = Self.parseParsable(out) else {
            throw ExecutorError("`sbatch` printed no job id: \(out.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        recordSlurmId(slurmId, for: job.id)
        return slurmId
    }

    /// The sbatch command line (without the program name) for a job whose script is `script`.
    public func sbatchArguments(for job: JobSpec, script: URL) -> [String] {
        let dir = jobDirectory(for: job.id)
        var args = [
            "--parsable",
            "--job-name=\(job.id)",
            "--comment=hone:\(job.object)",
            "--chdir=\(dir.path)",
            "--output=\(slurmOutputFile(for: job.id).path)",
            "--error=\(slurmOutputFile(for: job.id).path)",
            "--export=ALL",
        ]
        let s = settings
        if let v = s.partition, !v.isEmpty { args.append("--partition=\(v)") }
        if let v = s.gres, !v.isEmpty { args.append("--gres=\(v)") }
        if let v = s.cpusPerTask { args.append("--cpus-per-task=\(v)") }
        if let v = s.mem, !v.isEmpty { args.append("--mem=\(v)") }
        if let v = s.account, !v.isEmpty { args.append("--account=\(v)") }
        if let v = s.qos, !v.isEmpty { args.append("--qos=\(v)") }
        if let v = s.constraint, !v.isEmpty { args.append("--constraint=\(v)") }
        if let seconds = job.timeLimitSeconds, seconds > 0 {
            args.append("--time=\((seconds + 59) / 60)")
        }
        args += s.extraArgs
        args.append(script.path)
        return args
    }

    public func poll(id: String) throws -> JobState {
        guard let slurmId = try findSlurmId(id) else { return .notFound }
        let record = JobRecord.read(jobDirectory(for: id))
        // 1. squeue (live jobs, and finished ones for MinJobAge); 2. scontrol (squeue may have missed it in a
        // race); 3. the job completion log / accounting: jobs purged from slurmctld's memory.
        if let (current, reason) = try squeueState(slurmId) {
            let info = Self.pendingStates.contains(current) ? nil : try? scontrolInfo(slurmId)
            let known = info ?? (Self.finalStates.contains(current) ? sacctInfo(slurmId, name: id) : nil)
                ?? SlurmJobInfo()
            return state(slurmId, current, reason: reason, known, record)
        }
        if let info = try? scontrolInfo(slurmId), let state = info.state {
            return self.state(slurmId, state, reason: info.reason ?? "", info, record)
        }
        if let acct = sacctInfo(slurmId, name: id), let state = acct.state {
            return self.state(slurmId, state, reason: "", acct, record)
        }
        // 4. Slurm has forgotten it: what the job script left behind is all there is.
        guard record.ended, let code = record.exitCode else {
            return .finished(JobEnd(executorId: slurmId, outcome: .lost, exitCode: nil, startedAt: record.startedAt, finishedAt: nil))
        }
        return .finished(JobEnd(executorId: slurmId, outcome: code == 0 ? .succeeded : .failed(exitCode: code),
                                exitCode: code, startedAt: record.startedAt, finishedAt: record.finishedAt))
    }

    /// A Slurm state (and what Slurm and the job script say of the job) as a JobState.
    func state(_ slurmId: String, _ state: String, reason: String, _ info: SlurmJobInfo, _ record: JobRecord) -> JobState {
        if Self.pendingStates.contains(state) { return .pending(executorId: slurmId, reason: reason) }
        guard Self.finalStates.contains(state) else { return .running(executorId: slurmId, startedAt: info.startedAt) }
        // The job script's record first: Slurm's ExitCode is the batch script's, which a signal muddles.
        let code = (record.ended ? record.exitCode : nil) ?? info.exitCode
        return .finished(JobEnd(executorId: slurmId, outcome: Self.outcome(state, exitCode: code), exitCode: code,
                                startedAt: info.startedAt, finishedAt: info.finishedAt))
    }

    /// Slurm's final states in hone's words.
    static func outcome(_ state: String, exitCode: Int32?) -> JobOutcome {
        switch state {
        case "CANCELLED": return .cancelled(reason: "cancelled on Slurm (scancel or an administrator)")
        case "PREEMPTED": return .preempted
        case "TIMEOUT": return .timedOut
        default:
            if exitCode == 0 { return .succeeded }
            return .failed(exitCode: exitCode, detail: state == "COMPLETED" || state == "FAILED" ? nil : state)
        }
    }

    public func cancel(id: String, executorId: String?) throws {
        var ids: [String] = []
        if let fromFile = readSlurmIdFile(id) { ids.append(fromFile) }
        for q in try squeueIds(name: id) where !ids.contains(q) { ids.append(q) }
        for slurmId in ids {
            let r = try runner.run("scancel", [slurmId])
            if r.succeeded { continue }
            // Already finished (or already purged) is fine.
            let err = r.stderr.lowercased()
            if err.contains("already completing or completed") || err.contains("invalid job id") { continue }
            if let (state, _) = try? squeueState(slurmId), Self.finalStates.contains(state) { continue }
            throw SlurmCommandRunner.failure("scancel", [slurmId], r)
        }
    }

    /// SIGUSR1 to the batch script (run.sh), which releases the job from inside.
    public func release(id: String) throws {
        guard let slurmId = try findSlurmId(id) else { return }
        _ = try runner.check("scancel", ["--batch", "--signal=USR1", slurmId])
    }

    /// The address of the node running the job's batch script (`scontrol show job` BatchHost, then that
    /// node's NodeAddr: the name Slurm reaches it by).
    public func host(ofRunningJob id: String) throws -> String? {
        guard let slurmId = try findSlurmId(id) else { return nil }
        let job = Self.parseKeyValues(try runner.check("scontrol", ["show", "job", "-o", slurmId]))
        guard job["JobState"].map(Self.normalizeState) == "RUNNING", let node = job["BatchHost"], !node.isEmpty, node != "(null)"
        else { return nil }
        let info = (try? runner.check("scontrol", ["show", "node", "-o", node])).map(Self.parseKeyValues) ?? [:]
        return info["NodeAddr"].flatMap { $0.isEmpty || $0 == "(null)" ? nil : $0 } ?? node
    }

    // MARK: Finding a job

    /// The Slurm id of hone job `id`, if it was ever submitted (slurm-id file, squeue, jobcomp/accounting).
    public func findSlurmId(_ id: String) throws -> String? {
        if let fromFile = readSlurmIdFile(id) { return fromFile }
        if let queued = try squeueIds(name: id).first { return queued }
        return sacctIds(name: id).last
    }

    func readSlurmIdFile(_ id: String) -> String? {
        guard let raw = OutputFile.smallText("slurm-id", in: jobDirectory(for: id)) else { return nil }
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty || !text.allSatisfy({ $0.isNumber || $0 == "_" }) ? nil : text
    }

    func recordSlurmId(_ slurmId: String, for id: String) {
        guard readSlurmIdFile(id) != slurmId else { return }
        let dir = jobDirectory(for: id)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? Data((slurmId + "\n").utf8).write(to: slurmIdFile(for: id), options: .atomic)
    }

    /// `squeue -h -t all --name NAME -o %i|%Z`, in submission order — only jobs that run in this job's
    /// folder: another repository on the same cluster can hold a job with the same name (same spec).
    func squeueIds(name: String) throws -> [String] {
        let out = try runner.check("squeue", ["-h", "-t", "all", "--name", name, "-o", "%i|%Z"])
        return out.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let f = line.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let id = f.first, !id.isEmpty else { return nil }
            return f.count < 2 || isOurDirectory(f[1], name: name) ? id : nil
        }.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
    }

    /// Whether a working directory Slurm reports is this job's folder (unknown counts as ours).
    func isOurDirectory(_ reported: String, name: String) -> Bool {
        let r = reported.hasSuffix("/") ? String(reported.dropLast()) : reported
        guard !r.isEmpty, r != "(null)" else { return true }
        return r == jobDirectory(for: name).standardizedFileURL.path
    }

    /// Jobs named `name` in the job completion log (`sacct -c`), else accounting (`sacct`); empty when
    /// neither is available.
    func sacctIds(name: String) -> [String] {
        for extra in [["-c"], []] {
            guard let r = try? runner.run("sacct", extra + ["-S", "1970-01-01T00:00:00", "--name", name,
                                                             "-o", "JobID,JobName,WorkDir", "-P", "-n", "-X"]),
                  r.succeeded else { continue }
            let ids = r.stdout.split(whereSeparator: \.isNewline).compactMap { line -> String? in
                let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard f.count >= 2, f[1] == name, !f[0].isEmpty else { return nil }
                return f.count < 3 || isOurDirectory(f[2], name: name) ? f[0] : nil
            }
            if !ids.isEmpty { return ids.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) } }
        }
        return []
    }

    // MARK: State sources

    /// `squeue -h -t all -j ID -o %T|%r`: nil when squeue no longer knows the job.
    func squeueState(_ slurmId: String) throws -> (state: String, reason: String)? {
        let r = try runner.run("squeue", ["-h", "-t", "all", "-j", slurmId, "-o", "%T|%r"])
        if !r.succeeded {
            if r.stderr.lowercased().contains("invalid job id") { return nil }
            throw SlurmCommandRunner.failure("squeue", ["-h", "-t", "all", "-j", slurmId, "-o", "%T|%r"], r)
        }
        guard let line = r.stdout.split(whereSeparator: \.isNewline).first else { return nil }
        let parts = line.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let state = Self.normalizeState(parts[0])
        guard !state.isEmpty else { return nil }
        return (state, parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
    }

    struct SlurmJobInfo {
        var state: String? = nil
        var reason: String? = nil
        var exitCode: Int32? = nil
        var startedAt: Date? = nil
        var finishedAt: Date? = nil
    }

    /// `scontrol show job -o ID`; throws when scontrol no longer knows the job.
    func scontrolInfo(_ slurmId: String) throws -> SlurmJobInfo {
        let out = try runner.check("scontrol", ["show", "job", "-o", slurmId])
        let fields = Self.parseKeyValues(out)
        return SlurmJobInfo(state: fields["JobState"].map(Self.normalizeState),
                            reason: fields["Reason"],
                            exitCode: fields["ExitCode"].flatMap(Self.parseExitCode),
                            startedAt: fields["StartTime"].flatMap(Self.parseDate),
                            finishedAt: fields["EndTime"].flatMap(Self.parseDate))
    }

    /// `sacct -c -j ID` (the jobcomp file; works without slurmdbd), else plain `sacct -j ID`.
    func sacctInfo(_ slurmId: String, name: String) -> SlurmJobInfo? {
        for extra in [["-c"], []] {
            guard let r = try? runner.run("sacct", extra + ["-j", slurmId, "-o", "JobID,JobName,State,ExitCode,Start,End",
                                                             "-P", "-n", "-X"]),
                  r.succeeded else { continue }
            for line in r.stdout.split(whereSeparator: \.isNewline) {
                let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
                guard f.count >= 6, f[0] == slurmId, f[1] == name else { continue }
                return SlurmJobInfo(state: Self.normalizeState(f[2]), reason: nil,
                                    exitCode: Self.parseExitCode(f[3]),
                                    startedAt: Self.parseDate(f[4]), finishedAt: Self.parseDate(f[5]))
            }
        }
        return nil
    }

    // MARK: Parsing

    /// "CANCELLED by 0" → "CANCELLED"; "COMPLETED+" → "COMPLETED".
    static func normalizeState(_ raw: String) -> String {
        let word = raw.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
        return word.trimmingCharacters(in: CharacterSet(charactersIn: "+")).uppercased()
    }

    /// `sbatch --parsable` prints "ID" or "ID;cluster".
    static func parseParsable(_ out: String) -> String? {
        for line in out.split(whereSeparator: \.isNewline) {
            let id = line.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if !id.isEmpty, id.allSatisfy(\.isNumber) { return id }
        }
        return nil
    }

    /// Slurm's "E:S": the exit status, or 128+S when a signal ended it.
    static func parseExitCode(_ raw: String) -> Int32? {
        let parts = raw.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard let first = parts.first, let code = Int32(first) else { return nil }
        if parts.count > 1, let sig = Int32(parts[1]), sig != 0, code == 0 { return 128 + sig }
        return code
    }

    /// Slurm's local-time "2026-11-25T21:15:07"; nil for "Unknown", "None" and the like.
    static func parseDate(_ raw: String) -> Date? {
        let s = raw.trimmingCharacters(in: .whitespaces)
        guard s.count >= 19, s.first?.isNumber == true else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone.current
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.date(from: String(s.prefix(19)))
    }

    /// `Key=Value Key=Value …` of `scontrol -o` (values never contain spaces for the keys hone reads).
    static func parseKeyValues(_ out: String) -> [String: String] {
        var fields: [String: String] = [:]
        let line = out.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        for token in line.split(separator: " ") {
            guard let eq = token.firstIndex(of: "=") else { continue }
            let key = String(token[..<eq])
            if fields[key] == nil { fields[key] = String(token[token.index(after: eq)...]) }
        }
        return fields
    }
}
