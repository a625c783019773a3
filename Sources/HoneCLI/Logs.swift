import ArgumentParser
import Foundation
import HoneEngine
import HoneModel

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print a run's or eval's task log.",
        discussion: """
        Prints the committed log (status/…/<task>.log: its tail, capped; the full log is in the artifact \
        store). With --follow, while the job runs on this machine (local pools; Slurm pools through their \
        shared workdir) the live log is printed from its start and followed until the job ends.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: ArgumentHelp("GROUP/NAME or evaluations/NAME.", valueName: "G/NAME")) var object: String
    @Option(help: ArgumentHelp("The task (default: the first; runs have `train`, evals `evaluate`).", valueName: "T")) var task: String?
    @Flag(name: .shortAndLong, help: "Follow the live log until the job ends.") var follow = false

    func validate() throws {
        if follow && ref.ref != nil { throw ValidationError("--follow reads the live job: it cannot be used with --ref") }
    }

    func run() throws {
        let address = try ObjectAddress.parse(object)
        let ws = try repo.workspace()
        let source = try ws.source(ref: ref.ref)
        let load = try ws.load(ref: ref.ref)
        let key = try address.resolve(in: load)
        guard let status = load.recorded.statuses[key] else {
            throw HoneError("\(key.display) has never run: no log yet (commit its spec and run `hone reconcile`)")
        }
        let t = try Logs.task(status, named: task)
        if follow && status.phase.isActive {
            let dir = Logs.jobDirectory(ws, project: load.desired.project, status: status)
            if FileManager.default.fileExists(atPath: dir.path) {
                let local = load.desired.project?.pools[status.pool]?.executor != .slurm
                let end = Logs.follow(dir, local: local) { Terminal.write($0, to: .standardOutput) }
                switch end {
                case .exited(let code): printError("hone: \(key.display) job \(status.id) ended with exit code \(code.map(String.init) ?? "unknown"); `hone reconcile` records it")
                case .lost: printError("hone: \(key.display) job \(status.id) is gone without an exit code; `hone reconcile` records it as lost")
                }
                return
            }
            printError("hone: the job folder of \(status.id) is not on this machine (\(dir.path)): showing the committed log")
        }
        guard let text = try Logs.committed(source, status, t) else {
            let hint = status.phase.isActive ? " (\(key.display) is \(status.phase.rawValue): use --follow to read the live log)" : ""
            throw HoneError("no log committed for task \(t.name) of \(key.display)\(hint)")
        }
        print(text, terminator: "")
    }
}
