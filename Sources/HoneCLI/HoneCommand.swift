import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

/// The `hone` command: a root with one subcommand per verb (specs/cli.md).
public struct HoneCommand: ParsableCommand {
    public init() {}
    public static let version = "0.1.0"
    public static let configuration = CommandConfiguration(
        commandName: "hone",
        abstract: "GitOps for fine-tuning language models: runs, evals and views as YAML in git.",
        discussion: """
        Fine-tune groups, runs, evaluations and views are YAML files in a git repository. \
        `hone plan` shows what the files ask for that has not happened yet; `hone reconcile` launches it \
        and commits statuses, logs, metrics and results back into the repository.
        """,
        version: version,
        subcommands: [Init.self, Validate.self, PlanCommand.self, Reconcile.self, GroupCommand.self,
                      Get.self, DescribeCommand.self, LogsCommand.self, Events.self, Rerun.self, Publish.self, ViewCommand.self,
                      Compare.self, Diff.self, Sync.self, History.self, Check.self, Cancel.self, Report.self, DigestCommand.self, VerifyCommand.self, Chat.self, GC.self]
    )
}

/// Options every command that reads a repository shares.
struct RepoOptions: ParsableArguments {
    @Option(name: [.customShort("C"), .customLong("repo")], help: ArgumentHelp("The hone repository (default: the current directory).", valueName: "DIR"))
    var repo: String = "."

    /// The repository; what is printed from now on is also redacted of its remotes' credentials.
    func workspace() throws -> Workspace {
        let ws = try Workspace(path: repo)
        Terminal.know(ws)
        return ws
    }
}

/// Reading from a commit instead of the working tree.
struct RefOption: ParsableArguments {
    @Option(help: ArgumentHelp("Read the files of this commit (branch, tag, sha) instead of the working tree.", valueName: "REF"))
    var ref: String?
}
