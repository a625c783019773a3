import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import Git
import HoneModel

struct Reconcile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Launch what the files ask for and commit the outcome back.",
        discussion: """
        Acts on a commit (HEAD of the checked-out branch by default), never on uncommitted edits. For each \
        run and eval it records the intent (a Pending status with the job's deterministic id) in a commit \
        before launching, then adopts running jobs and collects finished ones: statuses, capped task logs, \
        events, metrics and per-sample results are committed with one `Hone-Action:` trailer per action. \
        Without --wait it launches and returns; the next reconcile collects. A reconciler killed at any \
        moment loses nothing: the next one adopts what is running and launches nothing twice. Models are \
        published only on hone.yaml's `publishBranch` (default main): on a pull request's branch the jobs run \
        and their results are committed, and the publish waits for the merge. With --wait, \
        stderr shows each active job (phase, elapsed, step/total and loss from its metrics.jsonl, an ETA when \
        the handler reports a total): a live line per job on a terminal, else a line per job every \
        --progress-interval seconds. Ctrl-C stops waiting (exit status 130): the jobs keep running, and \
        `hone reconcile --wait` again collects them.
        """)

    @OptionGroup var repo: RepoOptions
    @Option(help: ArgumentHelp("The branch (or its tip) to reconcile (default: the checked-out branch).", valueName: "REF")) var ref: String?
    @Flag(help: "Keep reconciling until nothing is running or waiting on running work.") var wait = false
    @Option(help: ArgumentHelp("With --wait: stop after this long (90s, 15m, 2h).", valueName: "D")) var timeout: String?
    @Option(help: ArgumentHelp("Push after each commit; on a rejected push fetch, re-apply and retry. Launches only what the remote accepted a claim for, so two clones reconciling at once launch each job once.", valueName: "REMOTE")) var push: String?
    @Flag(help: "Write files to the working tree only; commit nothing.") var noCommit = false
    @Flag(help: "Remove statuses and results of deleted specs.") var prune = false
    @Option(help: ArgumentHelp("How long to wait for another reconcile's lock (seconds).", valueName: "SECONDS")) var lockTimeout: Double = 30
    @Option(help: ArgumentHelp("Seconds between polls with --wait.", valueName: "SECONDS")) var pollInterval: Double = 1
    @Option(help: ArgumentHelp("With --wait and no terminal: print a progress line per job this often (default: HONE_PROGRESS_INTERVAL, else 30). On a terminal a live status line per job is redrawn after every poll.", valueName: "SECONDS")) var progressInterval: Double?
    @Option(help: "Output format of the closing summary: text (counts, a few names) or json (every job and object).") var format: TextOrJSON = .text

    func validate() throws {
        if let t = timeout, DurationText.parse(t) == nil { throw ValidationError("--timeout \(t): expected a duration like 90s, 15m or 2h") }
        if timeout != nil && !wait { throw ValidationError("--timeout only applies with --wait") }
        if noCommit && push != nil { throw ValidationError("--push needs commits: it cannot be used with --no-commit") }
        if let p = progressInterval, !(p > 0) { throw ValidationError("--progress-interval \(p): expected a number of seconds above 0") }
        if progressInterval != nil && !wait { throw ValidationError("--progress-interval only applies with --wait") }
    }

    func run() throws {
        var options = ReconcileOptions()
        options.ref = ref
        options.wait = wait
        if let t = timeout, case .seconds(let s)? = DurationText.parse(t) { options.timeout = TimeInterval(s) }
        options.push = push
        options.noCommit = noCommit
        options.prune = prune
        options.lockTimeout = lockTimeout
        options.pollInterval = pollInterval
        let display = wait ? WaitDisplay(live: isatty(STDERR_FILENO) == 1, interval: WaitDisplay.interval(option: progressInterval)) : nil
        let reconciler = try Reconciler(workspace: repo.workspace(), options: options, progress: { line in
            if let display { display.message("hone: " + line) } else { printError("hone: " + line) }
        })
        defer { Terminal.know(reconciler.redactor) }  // an error thrown out of run is printed redacted of its secrets too
        var interrupts: InterruptWatch? = nil
        if let display {
            reconciler.onWaitPass = { [unowned reconciler] in display.update(reconciler.progressOfActiveJobs()) }
            let stop = reconciler.stopRequest
            interrupts = InterruptWatch { stop.request() }
        }
        let summary: ReconcileSummary
        do { summary = try reconciler.run() } catch { display?.finish(); throw error }
        display?.finish()
        withExtendedLifetime(interrupts) {}
        switch format {
        case .text: print(ReconcileViews.line(summary))
        case .json: print(ReconcileViews.json(summary).prettyJSON)
        }
        if !summary.storeErrors.isEmpty {
            let n = summary.storeErrors.count
            printError("\(n) attempt\(n == 1 ? "" : "s") waiting on the artifact store (see above): their files stay in the local store; the next reconcile tries again")
            if summary.errors.isEmpty { throw ExitCode.failure }
        }
        if !summary.errors.isEmpty {
            // Counted as errors and files: one broken status is one error, not "an invalid object".
            let e = summary.errors.count, files = Set(summary.errors.map(\.path)).count
            printError("\(e) error\(e == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s") (see above): what they describe was left alone")
            throw ExitCode.failure
        }
        if summary.interrupted {
            printError(InterruptWatch.message)
            throw ExitCode(130)
        }
    }
}

/// The closing summary of a reconcile (specs/cli-reconcile.md): one line of counts per phase naming at most
/// a few objects each (1,000 names on one line say nothing), every one of them in JSON.
enum ReconcileViews {
    static let namesShown = 3

    static func line(_ s: ReconcileSummary) -> String {
        var byPhase: [Phase: [String]] = [:]
        for (name, phase) in s.finished { byPhase[phase, default: []].append(name) }
        let phases = byPhase.keys.sorted { Phase.allCases.firstIndex(of: $0)! < Phase.allCases.firstIndex(of: $1)! }
        let groups = phases.map { phase -> String in
            let names = byPhase[phase]!.sorted()
            let shown = names.prefix(namesShown).joined(separator: ", ")
            let more = names.count > namesShown ? " and \(names.count - namesShown) more" : ""
            return "\(names.count) \(phase.rawValue): \(shown)\(more)"
        }
        let commits = "\(s.commits.count) commit\(s.commits.count == 1 ? "" : "s")"
        return "reconciled: \(s.launched.count) launched, \(s.finished.count) finished\(groups.isEmpty ? "" : " (" + groups.joined(separator: "; ") + ")"), \(commits)"
    }

    static func json(_ s: ReconcileSummary) -> JSONValue {
        .object([
            "apiVersion": .string("hone/v1"),
            "kind": .string("ReconcileSummary"),
            "launched": .array(s.launched.map(JSONValue.string)),
            "finished": .array(s.finished.sorted { $0.key < $1.key }.map { .object(["object": .string($0.key), "phase": .string($0.value.rawValue)]) }),
            "commits": .array(s.commits.map { .string($0.hex) }),
            "errors": .array(s.errors.map(\.json)),
            "timedOut": .bool(s.timedOut),
            "interrupted": .bool(s.interrupted),
            "storeErrors": .array(s.storeErrors.map(JSONValue.string)),
        ])
    }
}
