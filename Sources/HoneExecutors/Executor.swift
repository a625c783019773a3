import Foundation

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

    public init(id: String, object: String, task: String, command: String,
                environment: [String: String] = [:], secretEnvironment: [String: String] = [:],
                runtime: RuntimeSetup? = nil, timeLimitSeconds: Int? = nil) {
        self.id = id; self.object = object; self.task = task; self.command = command
        self.environment = environment; self.secretEnvironment = secretEnvironment
        self.runtime = runtime; self.timeLimitSeconds = timeLimitSeconds
    }
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

/// What an executor knows about a job id.
public enum JobState: Sendable, Equatable {
    /// Never launched here (or its traces are gone).
    case notFound
    /// Accepted but not started (Slurm PENDING); `reason` says why.
    case pending(executorId: String, reason: String)
    /// Started; `startedAt` when known.
    case running(executorId: String, startedAt: Date?)
    /// Ended. `exitCode` nil when the executor could not tell; `reason` is Slurm's state or "Completed".
    case finished(executorId: String, exitCode: Int32?, startedAt: Date?, finishedAt: Date?, reason: String)
}

/// Where jobs run. Implementations must be idempotent by job id: launching an id that is already
/// launched (running or finished) returns its executor id and starts nothing.
public protocol Executor {
    /// The folder that holds everything of one job; visible to wherever the job runs.
    func jobDirectory(for id: String) -> URL
    /// Start the task (or find it already started). Returns the executor's id for it (pid, Slurm job id).
    func launch(_ job: JobSpec) throws -> String
    /// The job's current state.
    func poll(id: String) throws -> JobState
    /// Stop the job and everything it started. Cancelling a finished or unknown job is not an error.
    func cancel(id: String) throws
    /// The task's full log file (stdout+stderr of the handler, runtime creation output first).
    func logFile(for id: String) -> URL
}

/// Errors of the executors area.
public struct ExecutorError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
