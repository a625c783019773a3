import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HonePlanning

enum PlanFormat: String, ExpressibleByArgument, CaseIterable { case text, markdown, json }

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what reconcile would do: the runs and evals to create, rerun, cancel, publish or wait for.",
        discussion: """
        Compares what the files ask for with what is recorded under status/. With --base REF (a pull \
        request's check) only the objects whose spec, or a version they reference, differs between REF \
        and the head are shown. On a branch other than hone.yaml's `publishBranch` (default main) — a pull \
        request's, or a detached HEAD — a succeeded run's `publish:` is shown as deferred ("publishes when \
        merged into main"): reconcile writes no manifest there, and it is not a change. Exit status: 0 (1 on \
        errors); with --detailed-exitcode, 0 when there is nothing to do, 2 when there are changes, 1 on errors.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Option(help: ArgumentHelp("Plan only what changed since this commit (pull requests).", valueName: "REF")) var base: String?
    @Option(help: "Output format: text, markdown (a pull-request comment) or json.") var format: PlanFormat = .text
    @Flag(help: "Exit 2 when there are changes to make, 0 when none, 1 on errors.") var detailedExitcode = false
    @Flag(help: "Also list objects that need nothing (text format).") var all = false

    func run() throws {
        let outcome = try repo.workspace().plan(PlanRequest(ref: ref.ref, base: base))
        let plan = outcome.plan
        switch format {
        case .text:
            for w in plan.warnings { printError(w.description) }
            print(PlanViews.text(plan, showUnchanged: all), terminator: "")
        case .markdown: print(PlanViews.markdown(plan), terminator: "")
        case .json:
            // Written as bytes (escaped already, as every JSON output is), redacted like every output.
            var text = PlanViews.document(plan).jsonText()
            text.append(UInt8(ascii: "\n"))
            Terminal.write(Data(text), to: .standardOutput)
        }
        if !plan.errors.isEmpty { throw ExitCode.failure }
        if detailedExitcode && plan.hasChanges { throw ExitCode(2) }
    }
}
