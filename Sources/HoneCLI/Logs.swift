import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a run's or eval's task log.",
        discussion: """
        A finished job: the committed log (status/…/<task>.log: its tail, capped; the full log is in the \
        artifact store). A job still Pending or Running whose job folder is on this machine (local pools; \
        Slurm pools through their shared workdir): the live log as far as it is written; with --follow, \
        followed until the job ends. --attempt N prints an earlier attempt's committed log, read from the \
        git history of the object's status. --tail N keeps the last N lines. Log lines carry no times, so \
        there is no --since here: `hone events G/NAME --since D` filters the timed events.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: ArgumentHelp("GROUP/NAME or evaluations/NAME.", valueName: "G/NAME"), completion: ObjectCompletion.objects) var object: String
    @Option(help: ArgumentHelp("The task (default: the first; runs have `train`, evals `evaluate`).", valueName: "T")) var task: String?
    @Flag(name: .shortAndLong, help: "Follow the live log until the job ends.") var follow = false
    @Option(help: ArgumentHelp("Print only the last N lines.", valueName: "N")) var tail: Int?
    @Option(help: ArgumentHelp("An earlier attempt's committed log (from the status's git history).", valueName: "N")) var attempt: Int?

    func validate() throws {
        if follow && ref.ref != nil { throw ValidationError("--follow reads the live job: it cannot be used with --ref") }
        if let tail, tail < 0 { throw ValidationError("--tail must be 0 or more lines") }
        if let attempt, attempt < 1 { throw ValidationError("--attempt counts from 1") }
        if attempt != nil && follow { throw ValidationError("--attempt reads a recorded attempt: it cannot be followed") }
        if tail != nil && follow { throw ValidationError("--follow prints the live log from its start: drop --tail") }
    }

    func run() throws {
        let address = try ObjectAddress.parse(object)
        let ws = try repo.workspace()
        let load = try ws.load(ref: ref.ref)
        let key = try address.resolve(in: load)
        guard let status = load.recorded.statuses[key] else {
            throw HoneError("\(key.display) has never run: no log yet (commit its spec and run `hone reconcile`)")
        }
        if let attempt, attempt != status.attempt {
            try emit(earlierAttempt(ws, key: key, attempt: attempt, current: status.attempt))
            return
        }
        let t = try Logs.task(status, named: task)
        if status.phase.isActive, try liveLog(ws, load, key, status) { return }
        guard let text = try Logs.committed(ws.source(ref: ref.ref), status, t) else {
            let hint = status.phase.isActive ? " (\(key.display) is \(status.phase.rawValue) and its job folder is not on this machine)" : ""
            throw HoneError("no log committed for task \(t.name) of \(key.display)\(hint)")
        }
        try emit(text)
    }

    func emit(_ text: String) throws {
        print(tail.map { Logs.lastLines(text, $0) } ?? text, terminator: "")
    }

    func earlierAttempt(_ ws: Workspace, key: ObjectKey, attempt: Int, current: Int) throws -> String {
        if attempt > current { throw HoneError("\(key.display) is at attempt \(current): there is no attempt \(attempt) yet") }
        return try Logs.attemptLog(ws, ref: ref.ref, key: key, attempt: attempt, task: task)
    }

    /// Prints the live log of an active job when its folder is here; false (a note said why) when it is not.
    func liveLog(_ ws: Workspace, _ load: LoadResult, _ key: ObjectKey, _ status: ObjectStatus) throws -> Bool {
        let source = Logs.liveSource(ws, project: load.desired.project, status: status)
        guard ref.ref == nil, let dir = source.directory, FileManager.default.fileExists(atPath: dir.path) else {
            if ref.ref == nil {
                printError("hone: the job folder of \(status.id) is not on this machine\(source.directory.map { " (\($0.path))" } ?? ""): showing the committed log")
            }
            return false
        }
        guard follow else {
            try emit(String(decoding: Logs.live(dir) ?? Data(), as: UTF8.self))
            printError("hone: \(key.display) is \(status.phase.rawValue): this is its live log so far (--follow to follow it)")
            return true
        }
        let end = Logs.follow(dir, watchesProcesses: source.watchesProcesses) { Terminal.write($0, to: .standardOutput) }
        switch end {
        case .exited(let code): printError("hone: \(key.display) job \(status.id) ended with exit code \(code.map(String.init) ?? "unknown"); `hone reconcile` records it")
        case .lost: printError("hone: \(key.display) job \(status.id) is gone without an exit code; `hone reconcile` records it as lost")
        }
        return true
    }
}
