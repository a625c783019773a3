import ArgumentParser
import Foundation
import HoneEngine
import HoneModel

struct DescribeCommand: ParsableCommand {
    enum Kind: String, ExpressibleByArgument, CaseIterable { case run, eval }

    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show a run's or eval's overview, tasks and events.",
        discussion: """
        The overview has id, phase, created/started/finished times, duration, owner, pool, the run's output \
        model (name and version, draft or published), base model, datasets and runtime (name and version), \
        handler and params; for evals the model, dataset, auto release, release time, debug mode, results \
        and metrics. Values come from the recorded attempt (what actually ran), else from the spec: an \
        object that has never run is described too.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: "run or eval.") var kind: Kind
    @Argument(help: ArgumentHelp("GROUP/NAME or evaluations/NAME.", valueName: "G/NAME")) var object: String
    @Option(help: "Output format: text or json.") var format: DiagnosticFormat = .text

    func run() throws {
        let address = try ObjectAddress.parse(object)
        let load = try repo.workspace().load(ref: ref.ref)
        let key = try address.resolve(in: load, only: kind == .run ? .run : .eval)
        switch format {
        case .text: print(Describe.text(load, key), terminator: "")
        case .json: print(Describe.document(load, key).prettyJSON)
        }
    }
}
