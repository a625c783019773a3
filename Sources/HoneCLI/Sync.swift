import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneQueries

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a finished eval between a group and the evaluation module (a file edit, to be committed).",
        discussion: """
        hone sync G/EVAL --to-evaluations [--name N]      copies it to evaluations/N
        hone sync evaluations/EVAL --to-group G [--name N] copies it to groups/G/evals/N
        The spec is copied with `syncedFrom:` added, and the recorded status, results.jsonl and logs with it; \
        reconcile then sees the copy as done. Only Succeeded evals of a registry model are synced: an eval of an \
        unpublished run's draft model is refused (a fromRun eval whose run was published is copied with \
        `model: <published version>`). Syncing again is a no-op ("already in sync"); a different eval with the \
        same name is an error unless --name gives another.
        """)

    @OptionGroup var repo: RepoOptions
    @Argument(help: ArgumentHelp("The eval to copy: G/EVAL or evaluations/EVAL.", valueName: "EVAL")) var eval: String
    @Flag(help: "Copy a group's eval into the evaluation module.") var toEvaluations = false
    @Option(help: ArgumentHelp("Copy an evaluation-module eval into group G.", valueName: "G")) var toGroup: String?
    @Option(help: ArgumentHelp("The copy's name (default: the eval's name).", valueName: "N")) var name: String?

    func validate() throws {
        if toEvaluations == (toGroup != nil) { throw ValidationError("give exactly one of --to-evaluations and --to-group G") }
    }

    func run() throws {
        let ws = try repo.workspace()
        let outcome = try EvalSync.run(ws, from: eval, to: toGroup.map { .group($0) } ?? .evaluations, name: name)
        if outcome.alreadyInSync {
            print("\(outcome.target.display) is already in sync with \(outcome.source.display): nothing to do")
            return
        }
        print("\(outcome.updated ? "updated" : "synced") \(outcome.source.display) → \(outcome.target.display) (model \(outcome.model))")
        for n in outcome.notes { print("  note: \(n)") }
        for p in outcome.written { print("  wrote \(p)") }
        for p in outcome.removed { print("  removed \(p)") }
        print("commit it:\n  git add -A \(outcome.commitPaths.joined(separator: " ")) && git commit -m \"sync \(outcome.source.display) to \(outcome.target.display)\"")
    }
}
