import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneQueries

enum CheckFormat: String, ExpressibleByArgument, CaseIterable { case table, markdown, json }

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the gates of evals against their recorded results; exit 1 when one fails.",
        discussion: """
        Each eval's `gates:` (`metrics.accuracy: ">= baseline - 0.01"`, `metrics.perplexity: "<= 12"`) is \
        compared with the metrics recorded in its status; `baseline` is the value recorded by the eval its \
        `baseline:` names. Results count only when current: the eval Succeeded and its spec has not changed \
        since (what `hone plan` shows as nothing to do). A gate whose eval (or baseline) has no current results \
        is pending: it does not fail the check unless --require-results is given. A gate fails when its eval \
        (or baseline) Failed or was Cancelled, or did not record the metric. With --base REF (a pull \
        request's check) only the evals the change touches are checked, as `hone plan --base` scopes them, \
        plus evals whose baseline it touches; a baseline's value is then read as REF records it (main's \
        result, not the branch's copy; shown as `g/base @ REF`) unless the change touches that baseline. Exit status: 0 when no gate fails, 1 otherwise (or on errors).
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Option(help: ArgumentHelp("Check only the evals changed since this commit (pull requests).", valueName: "REF")) var base: String?
    @Option(help: "Output format: table, markdown (a pull-request comment) or json.") var format: CheckFormat = .table
    @Flag(help: "Fail when a gate is pending (its eval has no current results yet).") var requireResults = false

    func run() throws {
        let report = try repo.workspace().checkGates(GateCheckRequest(ref: ref.ref, base: base))
        switch format {
        case .table:
            for e in report.errors { printError(e.description) }
            if report.results.isEmpty {
                print("no gates to check\(report.scope != nil ? " among the evals changed since \(base!)" : "")")
            } else {
                print(GateViews.table(report).render(.table), terminator: "")
                print(GateViews.summary(report))
                let pending = report.count(.pending)
                if pending > 0 {
                    print(requireResults
                          ? "\(pending) pending gate\(pending == 1 ? "" : "s") fail\(pending == 1 ? "s" : "") the check (--require-results): no current results yet"
                          : "note: \(pending) gate\(pending == 1 ? " is" : "s are") pending (no current results yet) and not counted; --require-results makes them fail")
                }
            }
        case .markdown: print(GateViews.markdown(report, requireResults: requireResults), terminator: "")
        case .json: print(GateViews.json(report).prettyJSON)
        }
        if !report.errors.isEmpty || report.count(.fail) > 0 || (requireResults && report.count(.pending) > 0) {
            throw ExitCode.failure
        }
    }
}
