import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneQueries

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A run's or eval's attempt, phase and metrics across the commits that changed its status, newest first.",
        discussion: """
        OBJECT is G/NAME (a run or eval of group G), evaluations/NAME, or G/runs/NAME, G/evals/NAME (or the spec \
        path) when a run and an eval share a name. Each row says what its attempt was given that differs from \
        the row below it (CHANGED: params.lr 0.1→0.01, inputs.<key> for a changed model, dataset or code, \
        handler, or spec for another change of the spec). hone's intermediate commits (an attempt Pending or \
        Running) are left out, except the newest when the object is there now; --all shows every commit.
        """)

    @OptionGroup var repo: RepoOptions
    @Option(help: ArgumentHelp("Walk the history from this commit (default: HEAD).", valueName: "REF")) var ref: String?
    @Argument(help: ArgumentHelp("The run or eval.", valueName: "OBJECT"), completion: ObjectCompletion.objects) var object: String
    @Option(name: [.customShort("o"), .long], help: "table, json, markdown (with trend sparklines) or html.") var format: CompareFormat = .table
    @Flag(help: "Also show hone's intermediate commits (attempts Pending or Running).") var all = false

    func run() throws {
        let history = try EvalAnalysis.history(try repo.workspace(), ref: ref, object: object, all: all)
        print(history.render(format), terminator: "")
        if history.shallow {
            // On stderr: the output stays what it is for each format, and the reader learns it is partial.
            let oldest = history.entries.last.map { " (the oldest shown is \($0.shortCommit))" } ?? ""
            printError("note: this is a shallow clone: older commits are not here, so the history may be cut\(oldest); run `git fetch --unshallow` for all of it")
        }
    }
}
