import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneQueries
import HoneModel

struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Manage saved eval views (groups/G/views/, evaluations/views/).",
        discussion: """
        A view is a saved eval list: columns, pinned columns, filter and sort (see specs/view.md). Every \
        command edits the view files in the working tree, keeping their comments, and refuses an edit that \
        would make the repository invalid (nothing is written then). Commit the files to share them.
        """,
        subcommands: [List.self, Save.self, SaveAs.self, Delete.self, SetDefault.self, Hide.self, Show.self])

    /// The settings `save` and `save-as` write.
    struct Settings: ParsableArguments {
        @Option(help: ArgumentHelp("Columns in order, comma-separated (name,model,metrics.accuracy).", valueName: "A,B")) var columns: String?
        @Option(help: ArgumentHelp("Columns kept leftmost, comma-separated (\"\" clears).", valueName: "A,B")) var pinned: String?
        @Option(help: ArgumentHelp("A row condition, repeatable: phase=Succeeded, model=bot@*, metrics.accuracy>=0.5, phase!=Failed. Replaces the view's filter.", valueName: "COND")) var filter: [String] = []
        @Flag(help: "Remove the view's filter.") var clearFilter = false
        @Option(help: ArgumentHelp("Sort column and order: createdAt:desc, metrics.accuracy:asc (order default desc).", valueName: "COL[:ORDER]")) var sort: String?

        func validate() throws {
            if clearFilter && !filter.isEmpty { throw ValidationError("--filter and --clear-filter contradict each other") }
        }

        var value: ViewSettings {
            func list(_ s: String?) -> [String]? {
                s.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            }
            return ViewSettings(columns: list(columns), pinned: list(pinned), filters: filter.isEmpty ? nil : filter, clearFilter: clearFilter, sort: sort)
        }
    }

    static func path(_ scope: Scope, _ name: String) -> String { ObjectKey(scope: scope, kind: .view, name: name).specPath }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the views of a group or of the evaluation module (hidden ones with --all).")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var scope: ScopeOptions
        @Flag(help: "Also list hidden views (visible: false).") var all = false
        @Option(name: [.customShort("o"), .long], help: ArgumentHelp(ListFormat.help)) var format: ListFormat = .table
        func run() throws {
            let table = try Listings.views(repo.workspace(), scope: scope.required(), includeHidden: all)
            print(table.render(format.tableFormat), terminator: "")
        }
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save columns, pinned, filter or sort into an existing view.")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "The view.") var name: String
        @OptionGroup var settings: Settings
        func run() throws {
            let s = try scope.required()
            let outcome = try SpecEdits(workspace: repo.workspace()).saveView(s, name, settings.value)
            let path = ViewCommand.path(s, name)
            print("saved \(path)")
            printCommitHint(path, message: "view \(s.name)/\(name)", then: "others see it")
            noteOtherErrors(outcome)
        }
    }

    struct SaveAs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "save-as",
            abstract: "Create a view: from scratch (every column, newest first) or from --from V, with the given settings.")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "The new view's name.") var name: String
        @Option(help: ArgumentHelp("Start from this view's settings (not its default flag).", valueName: "V")) var from: String?
        @OptionGroup var settings: Settings
        func run() throws {
            let s = try scope.required()
            let outcome = try SpecEdits(workspace: repo.workspace()).saveViewAs(s, name, from: from, settings.value)
            let path = ViewCommand.path(s, name)
            print("created \(path)")
            printCommitHint(path, message: "view \(s.name)/\(name)", then: "others see it")
            noteOtherErrors(outcome)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a view's file.")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "The view.") var name: String
        func run() throws {
            let s = try scope.required()
            let result = try SpecEdits(workspace: repo.workspace()).deleteView(s, name)
            let path = ViewCommand.path(s, name)
            print("deleted \(path)" + (result.wasDefault ? " (it was the default view: \(s.folder) has none now)" : ""))
            printCommitHint(path, message: "delete view \(s.name)/\(name)", then: "it is gone for everyone")
            noteOtherErrors(result.outcome)
        }
    }

    struct SetDefault: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-default",
            abstract: "Make a view the default of its group (or of evaluations/); clears the flag on the others.")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "The view.") var name: String
        func run() throws {
            let s = try scope.required()
            let result = try SpecEdits(workspace: repo.workspace()).setDefaultView(s, name)
            print("\(s.name)/\(name) is the default view" + (result.cleared.isEmpty ? "" : " (was: \(result.cleared.joined(separator: ", ")))"))
            if result.hidden { printError("note: \(name) is hidden: `hone get evals` uses it by default only once it is shown (`hone view show \(name)`)") }
            print("commit it, then others see it:")
            print("  git add \(result.outcome.changed.joined(separator: " ")) && git commit -m \"default view \(s.name)/\(name)\"")
            noteOtherErrors(result.outcome)
        }
    }

    struct Hide: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hide a view (visible: false): not listed, still usable with --view.")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "The view.") var name: String
        func run() throws { try ViewCommand.setVisible(repo, scope, name, false) }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a hidden view again (visible: true).")
        @OptionGroup var repo: RepoOptions
        @OptionGroup var scope: ScopeOptions
        @Argument(help: "The view.") var name: String
        func run() throws { try ViewCommand.setVisible(repo, scope, name, true) }
    }

    static func setVisible(_ repo: RepoOptions, _ scope: ScopeOptions, _ name: String, _ visible: Bool) throws {
        let s = try scope.required()
        let result = try SpecEdits(workspace: repo.workspace()).setViewVisible(s, name, visible)
        let path = path(s, name)
        print("\(visible ? "shown" : "hidden"): \(path)")
        if !visible && result.isDefault { printError("note: \(name) is the default view: while hidden, `hone get evals` does not apply it") }
        printCommitHint(path, message: "\(visible ? "show" : "hide") view \(s.name)/\(name)", then: "others see it")
        noteOtherErrors(result.outcome)
    }
}
