import ArgumentParser
import Foundation
import HoneLoading
import HoneQueries

extension DiffFormat: ExpressibleByArgument {}

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show two runs (or two evals) side by side: inputs, params and metrics, with deltas.",
        discussion: """
        A and B are G/NAME (or evaluations/NAME), both runs or both evals. Every summary metric is shown with \
        B's delta against A (absolute and relative); inputs (base model, datasets, runtime, handler) and params \
        (nested ones dotted: lora.r) only where they differ, unless --all. Values come from the specs (the \
        working tree, or --ref) and the recorded statuses. Exit status 0 whether or not they differ.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: ArgumentHelp("The first run or eval (G/NAME).", valueName: "A"), completion: ObjectCompletion.objects) var first: String
    @Argument(help: ArgumentHelp("The second, compared with A (G/NAME).", valueName: "B"), completion: ObjectCompletion.objects) var second: String
    @Flag(help: "Also show the inputs and params that are equal in both.") var all = false
    @Option(name: [.customShort("o"), .long], help: "Output format: table, json or markdown.") var format: DiffFormat = .table

    func run() throws {
        let diff = try EvalAnalysis.diff(repo.workspace(), ref: ref.ref, first, second)
        print(diff.render(format, all: all), terminator: "")
    }
}
