import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneQueries
import HoneModel

extension CompareFormat: ExpressibleByArgument {}
extension RowLayout: ExpressibleByArgument {}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare evals' metrics against a pinned baseline, and their per-sample results.",
        discussion: """
        EVAL is G/NAME (an eval of group G) or evaluations/NAME. The baseline (default: the first EVAL) is shown \
        first; every other eval shows its delta against it (absolute and relative). The best value of each metric \
        is marked: lower is better when the metric's name contains loss, perplexity, ppl, error, latency or cost, \
        higher otherwise (no mark when all values are equal).
        With --base REF and no EVAL (a pull request's comment): every eval the change since REF touches, each \
        against its pinned `baseline:` as REF records it — so a pull request is judged against main's result, \
        not the copy its branch carried — or as the head records it when the change touches the baseline too.
        With --rows, the evals' results.jsonl are joined by "id" and the rows where they disagree are flagged: \
        on the --columns you chose, else on `correct` when the results have it, else on every column.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var refOption: RefOption
    @Argument(help: ArgumentHelp("Two or more evals: G/NAME or evaluations/NAME.", valueName: "EVAL"), completion: ObjectCompletion.objects) var evals: [String] = []
    @Option(help: ArgumentHelp("Instead of EVALs: each eval changed since this commit against its baseline as REF records it.", valueName: "REF")) var base: String?
    @Option(help: ArgumentHelp("The pinned eval the others are compared with (default: the first EVAL).", valueName: "EVAL")) var baseline: String?
    @Flag(help: "Also join the per-sample results by id and show where the evals disagree.") var rows = false
    @Option(help: "How per-sample rows are laid out: split (the evals side by side) or stacked (one line per eval).") var layout: RowLayout = .split
    @Option(help: ArgumentHelp("Result columns to show, in this order, and to compare (comma-separated).", valueName: "c1,c2")) var columns: String?
    @Option(help: ArgumentHelp("Result columns kept leftmost (comma-separated; repeatable).", valueName: "c")) var pin: [String] = []
    @Flag(help: "Show only the rows that differ (with --rows).") var onlyDiff = false
    @Option(help: "table, json, markdown (a pull-request comment) or html (one self-contained page).") var format: CompareFormat = .table

    func validate() throws {
        if base != nil {
            if !evals.isEmpty || baseline != nil { throw ValidationError("--base compares the evals a change touches with their baselines: name no EVAL and no --baseline") }
            if format == .html { throw ValidationError("--base writes one comparison per eval: use table, markdown or json") }
        } else if evals.count < 2 && !(evals.count == 1 && baseline != nil) {
            throw ValidationError("name at least two evals to compare (G/NAME or evaluations/NAME)")
        }
        if columns != nil || !pin.isEmpty || onlyDiff, !rows {
            throw ValidationError("--columns, --pin and --only-diff choose per-sample rows: add --rows")
        }
    }

    static func list(_ s: String?) -> [String]? {
        s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    func run() throws {
        let ws = try repo.workspace()
        if let base {
            let reports = try ws.pullRequestComparisons(base: base, ref: refOption.ref, rows: rows)
            if reports.isEmpty {
                // Nothing recorded yet: a pull request's comment shows the plan alone.
                if format == .table { print("no results yet for the evals changed since \(base)") }
                if format == .json { print("[]") }
                return
            }
            if format == .json { print(JSONValue.array(reports.map { $0.json() }).prettyJSON); return }
            print(reports.map { $0.render(format) }.joined(separator: "\n"), terminator: "")
            return
        }
        let report = try EvalAnalysis.compare(ws, ref: refOption.ref, evals: evals, baseline: baseline, rows: rows,
                                              columns: Compare.list(columns), pinned: pin.flatMap { Compare.list($0) ?? [] },
                                              onlyDiff: onlyDiff, layout: layout)
        print(report.render(format), terminator: "")
    }
}
