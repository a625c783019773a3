import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

struct Rerun: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a run or eval again with the same spec: raises `rerun:` in its file.",
        discussion: """
        Adds one to the spec's `rerun:` (adds `rerun: 1` when absent), keeping the file's comments and \
        layout. It is a file edit: commit it, and the next `hone reconcile` launches a new attempt.
        """)

    @OptionGroup var repo: RepoOptions
    @Argument(help: ArgumentHelp("GROUP/NAME or evaluations/NAME.", valueName: "G/NAME"), completion: ObjectCompletion.objects) var object: String

    func run() throws {
        let address = try ObjectAddress.parse(object)
        let result = try SpecEdits(workspace: repo.workspace()).rerun(address)
        let path = result.key.specPath
        print("raised rerun from \(result.from) to \(result.to) in \(path)")
        printCommitHint(path, message: "rerun \(result.key.display)", then: "`hone reconcile` runs \(result.key.display) again")
        noteOtherErrors(result.outcome)
    }
}

/// The commands that finish an edit: what to commit.
func printCommitHint(_ paths: String..., message: String, then: String) {
    print("commit it, then \(then):")
    print("  git add \(paths.joined(separator: " ")) && git commit -m \"\(message)\"")
}

func noteOtherErrors(_ outcome: EditOutcome) {
    if outcome.otherErrors > 0 {
        printError("note: the repository has \(outcome.otherErrors) error\(outcome.otherErrors == 1 ? "" : "s") elsewhere (not from this edit): run `hone validate`")
    }
}
