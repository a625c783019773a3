import Foundation
import HoneModel

/// The one place that knows every executor: a pool's backend settings → the executor that runs its jobs.
/// Adding an executor: a `PoolBackend` case (HoneModel/Pool.swift) makes this switch fail to compile until
/// it builds one.
public enum Executors {
    /// - Parameters:
    ///   - repositoryRoot: the clone's root (local jobs live under `.hone/`, a relative Slurm workdir is resolved from it).
    ///   - environment: the environment of the executor's own commands (Slurm client commands).
    public static func make(_ backend: PoolBackend, repositoryRoot: URL,
                            environment: [String: String] = ProcessInfo.processInfo.environment) -> any Executor {
        switch backend {
        case .local:
            return LocalExecutor(jobsRoot: repositoryRoot.appendingPathComponent(".hone/jobs"),
                                 runtimeCache: repositoryRoot.appendingPathComponent(".hone/runtimes"))
        case .slurm(let settings):
            return SlurmExecutor(settings: settings, workdir: resolve(settings.workdir, under: repositoryRoot),
                                 environment: environment)
        }
    }

    /// A path from hone.yaml: absolute, or relative to the repository's root.
    static func resolve(_ path: String, under root: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    }
}
