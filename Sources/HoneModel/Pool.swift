import Foundation

/// The word `executor:` takes in hone.yaml.
public enum ExecutorKind: String, Sendable, CaseIterable { case local, slurm }

/// A resource pool from hone.yaml: what every pool has, and its executor's own settings.
public struct Pool: Sendable, Equatable {
    public var name: String
    public var maxParallel: Int
    public var costPerHour: Double
    public var maxHours: Double?
    /// Which executor runs the pool's jobs, with that executor's settings (and only those).
    public var backend: PoolBackend

    public var executor: ExecutorKind { backend.kind }

    public init(name: String, backend: PoolBackend = .local(LocalPoolSettings()), maxParallel: Int = 2,
                costPerHour: Double = 0, maxHours: Double? = nil) {
        self.name = name; self.backend = backend; self.maxParallel = maxParallel
        self.costPerHour = costPerHour; self.maxHours = maxHours
    }
}

/// A pool's executor and its settings. Adding an executor adds a case here: the compiler then points at
/// the decoder (HoneLoading/Decoders.swift) and the factory (HoneExecutors/Executors.swift).
public enum PoolBackend: Sendable, Equatable {
    case local(LocalPoolSettings)
    case slurm(SlurmPoolSettings)

    public var kind: ExecutorKind {
        switch self {
        case .local: return .local
        case .slurm: return .slurm
        }
    }
}

/// A local pool's settings: none yet (jobs run as processes of this machine, under `.hone/jobs/`).
public struct LocalPoolSettings: Sendable, Equatable {
    public init() {}
}

/// A Slurm pool's settings (hone.yaml `pools.<name>` with `executor: slurm`).
public struct SlurmPoolSettings: Sendable, Equatable {
    /// `--partition`; nil: the cluster's default partition.
    public var partition: String?
    /// `--gres` ("gpu:1").
    public var gres: String?
    /// `--cpus-per-task`.
    public var cpusPerTask: Int?
    /// `--mem` ("16G").
    public var mem: String?
    /// `--account`.
    public var account: String?
    /// `--qos`.
    public var qos: String?
    /// `--constraint`.
    public var constraint: String?
    /// Further sbatch options, passed verbatim before the script.
    public var extraArgs: [String]
    /// A directory every Slurm node can read and write (`jobs/<id>` and `runtimes/` live there), as written
    /// in hone.yaml: absolute, or relative to the repository's root.
    public var workdir: String
    /// Seconds after which one Slurm client command is given up as failed.
    public var commandTimeout: TimeInterval

    /// The names hone.yaml gives these settings (a local pool warns about them).
    public static let fieldNames = ["partition", "gres", "cpusPerTask", "mem", "account", "qos", "constraint", "extraArgs", "workdir"]

    public init(partition: String? = nil, gres: String? = nil, cpusPerTask: Int? = nil, mem: String? = nil,
                account: String? = nil, qos: String? = nil, constraint: String? = nil,
                extraArgs: [String] = [], workdir: String, commandTimeout: TimeInterval = 60) {
        self.partition = partition; self.gres = gres; self.cpusPerTask = cpusPerTask; self.mem = mem
        self.account = account; self.qos = qos; self.constraint = constraint
        self.extraArgs = extraArgs; self.workdir = workdir; self.commandTimeout = commandTimeout
    }
}
