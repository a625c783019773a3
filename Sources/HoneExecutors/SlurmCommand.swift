import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of one Slurm client command.
struct SlurmCommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { status == 0 }
}

/// Runs Slurm's client commands (`sbatch`, `squeue`, `scontrol`, `sacct`, `scancel`) through Foundation's
/// `Process`, with a timeout, capturing stdout and stderr.
struct SlurmCommandRunner: Sendable {
    /// The environment every command sees (SLURM_CONF and PATH pass through from here).
    var environment: [String: String]
    /// Seconds after which a command is killed and reported as failed.
    var timeout: TimeInterval

    /// Runs `name args…`, resolving `name` on the environment's PATH. Never throws for a non-zero exit:
    /// callers decide; throws when the command cannot start or runs past the timeout.
    /// `environment`: the command's whole environment instead of the runner's.
    func run(_ name: String, _ args: [String], environment: [String: String]? = nil) throws -> SlurmCommandResult {
        let process = Process()
        process.executableURL = try Self.resolve(name, path: self.environment["PATH"])
        process.arguments = args
        process.environment = environment ?? self.environment
        process.standardInput = FileHandle.nullDevice
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe

        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        let line = Self.display(name, args)
        do {
            try process.run()
        } catch {
            throw ExecutorError("cannot run `\(line)`: \(error)")
        }
        // Drain both pipes concurrently so a chatty command never blocks on a full pipe.
        let collected = Collected()
        let readers = DispatchGroup()
        for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
            let handle = pipe.fileHandleForReading
            DispatchQueue.global().async(group: readers) {
                let data = handle.readDataToEndOfFile()
                collected.set(data, stdout: isOut)
            }
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            let pid = process.processIdentifier
            process.terminate()
            if done.wait(timeout: .now() + 2) == .timedOut {
                kill(pid, SIGKILL)
                _ = done.wait(timeout: .now() + 2)
            }
            _ = readers.wait(timeout: .now() + 2)
            let (_, err) = collected.get()
            throw ExecutorError("`\(line)` timed out after \(Int(timeout))s" + (err.isEmpty ? "" : ": \(err)"))
        }
        _ = readers.wait(timeout: .now() + 5)
        let (out, err) = collected.get()
        return SlurmCommandResult(status: process.terminationStatus, stdout: out, stderr: err)
    }

    /// Runs the command and throws an ExecutorError naming it and its stderr when it exits non-zero.
    func check(_ name: String, _ args: [String], environment: [String: String]? = nil) throws -> String {
        let r = try run(name, args, environment: environment)
        guard r.succeeded else { throw Self.failure(name, args, r) }
        return r.stdout
    }

    static func failure(_ name: String, _ args: [String], _ r: SlurmCommandResult) -> ExecutorError {
        let err = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        let out = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let detail = err.isEmpty ? out : err
        return ExecutorError("`\(display(name, args))` failed (exit \(r.status))" + (detail.isEmpty ? "" : ": \(detail)"))
    }

    static func display(_ name: String, _ args: [String]) -> String {
        ([name] + args).map { a in
            a.isEmpty || a.contains(where: { " \t\n'\"$\\".contains($0) }) ? JobScript.quote(a) : a
        }.joined(separator: " ")
    }

    static func resolve(_ name: String, path: String?) throws -> URL {
        if name.contains("/") { return URL(fileURLWithPath: name) }
        let dirs = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
            + ["/usr/local/bin", "/usr/bin", "/bin"]
        for dir in dirs where !dir.isEmpty {
            let candidate = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
        }
        throw ExecutorError("`\(name)` not found on PATH (is the Slurm client installed? scripts/slurm-cluster.sh installs it)")
    }
}

/// Output collected from the reader threads.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func set(_ data: Data, stdout: Bool) {
        lock.lock(); defer { lock.unlock() }
        if stdout { out = data } else { err = data }
    }
    func get() -> (String, String) {
        lock.lock(); defer { lock.unlock() }
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
