import ArgumentParser
import Foundation
import HoneEngine

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel every queued or running job a branch records (a pull request closed without merging).",
        discussion: """
        Reads the statuses of the branch (the checked-out one, or --ref BRANCH), cancels each queued or \
        running attempt through its pool's executor and records it Cancelled on the branch (a commit with \
        `Hone-Action: cancel` trailers; --push pushes it). A job that another branch of this clone \
        (local or remote-tracking) also records as queued or running — two pull requests declaring the \
        identical run share one job — keeps running and is named. A cancel the executor does not confirm \
        is recorded as a CancelFailed event and retried by the next `hone cancel`. Exit status 1 when one \
        was not confirmed.
        """)

    @OptionGroup var repo: RepoOptions
    @Option(help: ArgumentHelp("The branch whose jobs to cancel (default: the checked-out branch).", valueName: "BRANCH")) var ref: String?
    @Option(help: ArgumentHelp("Push the commit recording the cancels (fetch, re-apply and retry when rejected).", valueName: "REMOTE")) var push: String?
    @Option(help: ArgumentHelp("Why, in each status's Cancelled event.", valueName: "TEXT")) var reason = "the pull request was closed without merging"
    @Option(help: ArgumentHelp("How long to wait for a reconcile's lock (seconds).", valueName: "SECONDS")) var lockTimeout: Double = 30

    func run() throws {
        var options = ReconcileOptions()
        options.ref = ref
        options.push = push
        options.lockTimeout = lockTimeout
        let reconciler = try Reconciler(workspace: repo.workspace(), options: options, progress: { printError("hone: " + $0) })
        defer { Terminal.know(reconciler.redactor) }
        let summary = try reconciler.cancelBranchJobs(reason: reason)
        for c in summary.cancelled { print("cancelled \(c)") }
        for s in summary.shared { print("kept \(s.object) (\(s.id)): also recorded by \(s.branches.joined(separator: ", "))") }
        print("\(summary.cancelled.count) cancelled, \(summary.shared.count) kept (shared), \(summary.failed.count) not confirmed, \(summary.commits.count) commit\(summary.commits.count == 1 ? "" : "s")")
        if !summary.failed.isEmpty {
            for f in summary.failed { printError("hone: could not cancel \(f)") }
            throw ExitCode.failure
        }
    }
}
