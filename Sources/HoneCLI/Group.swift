import ArgumentParser
import HoneEngine
import HoneLoading

struct GroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Create or edit a fine-tune group (groups/NAME/group.yaml).",
        subcommands: [Create.self, Edit.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create groups/NAME/group.yaml (commit it to make it real).")
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The group's name.") var name: String
        @Option(help: "What the group's fine-tunes are for.") var description: String
        func run() throws {
            let path = try Scaffold.writeGroup(repo.workspace(), name: name, description: description, create: true)
            print("created \(path)")
        }
    }

    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a group's description, keeping the file's comments.")
        @OptionGroup var repo: RepoOptions
        @Argument(help: "The group's name.") var name: String
        @Option(help: "The new description.") var description: String
        func run() throws {
            let path = try Scaffold.writeGroup(repo.workspace(), name: name, description: description, create: false)
            print("updated \(path)")
        }
    }
}
