import Foundation
import HoneModel

/// Everything an executor needs to run one task of a job. The engine fills it; executors never read specs.
///
/// The engine first asks the executor for `jobDirectory(for:)`, materialises there
/// `src/` (a snapshot of the repository tree at the reconciled commit), `job.json` and `out/`,
/// then calls `launch`. Everything the job reads or writes lives in that directory.
public struct JobSpec: Sendable, Equatable {
    /// hone's deterministic id (specs/status.md): also the Slurm job name and the local job folder name.
    public var id: String
    /// "group/name" or "evaluations/name", for logs and the Slurm comment.
    public var object: String
    /// The task's name ("train", "evaluate").
    public var task: String
    /// The handler command line, run by `bash -c` inside `src/`.
    public var command: String
    /// Environment for the handler (HONE_JOB, runtime env, HONE_DEBUG...). Written to disk in the job script.
    public var environment: [String: String]
    /// Environment that must never be written to disk (debug passwords): passed only through the
    /// launching process's environment, and redacted as `***` from the task log.
    public var secretEnvironment: [String: String]
    /// The runtime to create (or reuse) before the handler runs; nil runs with the system PATH.
    public var runtime: RuntimeSetup?
    /// Upper bound of the task's duration (auto-release, pool maxHours); nil: none.
    public var timeLimitSeconds: Int?
    /// What the job inherits of the environment hone runs in.
    public var environmentPolicy = JobEnvironmentPolicy()
    /// A debug session instead of the handler: JupyterLab in the job's environment (see `DebugSession`).
    public var debugSession: DebugSession?

    public init(id: String, object: String, task: String, command: String,
                environment: [String: String] = [:], secretEnvironment: [String: String] = [:],
                runtime: RuntimeSetup? = nil, timeLimitSeconds: Int? = nil) {
        self.id = id; self.object = object; self.task = task; self.command = command
        self.environment = environment; self.secretEnvironment = secretEnvironment
        self.runtime = runtime; self.timeLimitSeconds = timeLimitSeconds
    }
}

/// A debug session (specs/debug.md): run.sh prepares the job exactly as for the handler, then starts a
/// JupyterLab server in that environment instead of it. The server comes from a layer of its own (a venv
/// with `requirements`, cached by digest beside the runtimes), so the user's runtime need not list Jupyter;
/// its kernel runs the job's own python. Its token is the value of `passwordVariable`, which must be in
/// `secretEnvironment`: it reaches the server through the environment only (`JUPYTER_TOKEN`). The handler
/// is not started: `hone-handler`, on the session's PATH, runs it as hone would. The port is chosen when
/// the server starts and written to `<job folder>/debug/port`; the session lives until the job is released.
public struct DebugSession: Sendable, Equatable {
    public var passwordVariable: String
    /// The interpreter the layer is built with (the runtime's, so the kernel can load the layer's ipykernel).
    public var python: String
    public var requirements: [String]
    /// The address the server listens on: 127.0.0.1 where hone runs on the same machine, 0.0.0.0 on a node.
    public var listenAddress: String

    public init(passwordVariable: String, python: String = "python3", requirements: [String] = ["jupyterlab"],
                listenAddress: String = "127.0.0.1") {
        self.passwordVariable = passwordVariable; self.python = python
        self.requirements = requirements; self.listenAddress = listenAddress
    }

    /// The layer's cache key.
    public var layerDigest: String { "debug-" + String(ContentHash.hex(([python] + requirements).joined(separator: "\n")).prefix(16)) }
}

/// A RuntimeVersion reduced to what it takes to build its environment once, cached by digest.
public struct RuntimeSetup: Sendable, Equatable {
    /// The RuntimeVersion's digest: the cache key of its environment.
    public var digest: String
    /// Interpreter used to create the venv (`python3`).
    public var python: String
    /// pip requirement strings.
    public var requirements: [String]
    /// Create the venv with `--system-site-packages` (reuses wheels already installed on the machine).
    public var systemSitePackages: Bool
    /// Environment variables the runtime sets.
    public var environment: [String: String]

    public init(digest: String, python: String, requirements: [String], systemSitePackages: Bool, environment: [String: String]) {
        self.digest = digest; self.python = python; self.requirements = requirements
        self.systemSitePackages = systemSitePackages; self.environment = environment
    }
}

/// How a job ended, in one vocabulary for every executor: each maps its own states (Slurm's `COMPLETED`,
/// `TIMEOUT`, `PREEMPTED`…, the local job script's `exitcode`) to these inside itself, so the engine never
/// reads an executor's words.
public enum JobOutcome: Sendable, Equatable {
    /// The handler exited 0.
    case succeeded
    /// The handler (or the job script before it) exited non-zero; nil when the executor knows it failed but
    /// not with which status. `detail`: the executor's own word when it says more than "failed" (Slurm's
    /// `OUT_OF_MEMORY`, `NODE_FAIL`…), for people.
    case failed(exitCode: Int32?, detail: String? = nil)
    /// Ended by the executor or its operator (`scancel`, an administrator), not by hone; `reason` for people.
    case cancelled(reason: String)
    /// Killed at the executor's time limit.
    case timedOut
    /// Taken off its resources for other work.
    case preempted
    /// Ended by its own release watchdog at its release time (an eval's `autoRelease`: run.sh's
    /// `releaseTimer` wrote `released`), as a reconciler would have released it.
    case released
    /// Gone without a recorded end: killed with everything it started, or its machine went away.
    case lost
}

/// A job that ended, as its executor found it.
public struct JobEnd: Sendable, Equatable {
    public var executorId: String
    public var outcome: JobOutcome
    /// The status recorded for the task (also when it was cancelled or timed out: 128+signal), nil when unknown.
    public var exitCode: Int32?
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(executorId: String, outcome: JobOutcome, exitCode: Int32?, startedAt: Date?, finishedAt: Date?) {
        self.executorId = executorId; self.outcome = outcome; self.exitCode = exitCode
        self.startedAt = startedAt; self.finishedAt = finishedAt
    }
}

/// What an executor knows about a job id.
public enum JobState: Sendable, Equatable {
    /// Never launched here (or its traces are gone).
    case notFound
    /// Accepted but not started (Slurm PENDING); `reason` says why, for people.
    case pending(executorId: String, reason: String)
    /// Started; `startedAt` when known.
    case running(executorId: String, startedAt: Date?)
    /// Ended.
    case finished(JobEnd)
}

/// What an executor can do beyond launch, poll and cancel. The engine and the CLI ask these, never which
/// executor it is.
public struct ExecutorCapabilities: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The job folder (`jobDirectory(for:)`) is on a filesystem this process reads and writes: the engine
    /// prepares `src/`, `job.json` and `out/` there before launch and collects from it afterwards. hone
    /// launches jobs only on executors that have it (so far all of them).
    public static let readsJobFolder = ExecutorCapabilities(rawValue: 1 << 0)
    /// `logFile(for:)` grows while the job runs and can be followed (`hone logs --follow`).
    public static let streamsLogs = ExecutorCapabilities(rawValue: 1 << 1)
    /// A process can be started in a running job's environment, from this machine (`hone debug --shell`).
    public static let execIntoJob = ExecutorCapabilities(rawValue: 1 << 2)
    /// A job can serve on a port, reachable at `host(ofRunningJob:)` (debug sessions, playgrounds).
    public static let exposesPort = ExecutorCapabilities(rawValue: 1 << 3)
    /// Jobs run on this machine, as processes this one can watch (`waitForAnyEnd`): they last as little as a
    /// process does, and another clone's jobs are out of its sight.
    public static let runsOnThisMachine = ExecutorCapabilities(rawValue: 1 << 4)
}

/// Where jobs run. Implementations must be idempotent by job id: launching an id that is already
/// launched (running or finished) returns its executor id and starts nothing.
/// Built from a pool's settings by `Executors.make` (the one place that knows every executor).
public protocol Executor: AnyObject, Sendable {
    var capabilities: ExecutorCapabilities { get }
    /// The folder that holds everything of one job; visible to wherever the job runs (and, with
    /// `.readsJobFolder`, to this process).
    func jobDirectory(for id: String) -> URL
    /// Start the task (or find it already started). Returns the executor's id for it (pid, Slurm job id).
    func launch(_ job: JobSpec) throws -> String
    /// The job's current state.
    func poll(id: String) throws -> JobState
    /// Stop the job and everything it started. Cancelling a finished or unknown job is not an error.
    /// `executorId`: what the status recorded, for a job whose folder is gone (found by what survives of it).
    /// Throws when the job may still run.
    func cancel(id: String, executorId: String?) throws
    /// The task's full log file (stdout+stderr of the handler, runtime creation output first).
    func logFile(for id: String) -> URL
    /// A job found `.notFound` or `.lost` whose recorded `executorId` still runs (its folder was removed while
    /// it ran): it is adopted as running, not recorded Lost.
    func stillRunningWithoutFolder(id: String, executorId: String) -> Bool
    /// Waits until one of these jobs ends, at most `timeout`; false, having waited for nothing, when it cannot
    /// watch them (the caller sleeps instead).
    func waitForAnyEnd(ids: [String], timeout: TimeInterval) -> Bool
    /// Asks a running job to release itself as at its release time (run.sh's `hone_release`: `released`, then
    /// its processes end and what it wrote is collected as usual): `hone debug --end`. Returns at once.
    func release(id: String) throws
    /// The host a running job's port is reached at (`.exposesPort`): "127.0.0.1" for this machine, the node's
    /// name on a cluster; nil when it does not run (yet).
    func host(ofRunningJob id: String) throws -> String?
}

extension Executor {
    public func cancel(id: String) throws { try cancel(id: id, executorId: nil) }
    public func stillRunningWithoutFolder(id: String, executorId: String) -> Bool { false }
    public func waitForAnyEnd(ids: [String], timeout: TimeInterval) -> Bool { false }
    public func host(ofRunningJob id: String) throws -> String? { nil }
    public func release(id: String) throws { try cancel(id: id) }
}

/// Errors of the executors area.
public struct ExecutorError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
