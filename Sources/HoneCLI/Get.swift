import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

/// Output formats of list commands (rendered by HoneEngine's Table).
enum ListFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv, markdown
    var tableFormat: TableFormat { TableFormat(rawValue: rawValue)! }
}

/// `--group G` or `--evaluations`: which evals (and views) a command is about.
struct ScopeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A fine-tune group.", valueName: "G")) var group: String?
    @Flag(help: "The project-wide evaluation module (evaluations/).") var evaluations = false

    var scope: Scope? { evaluations ? .evaluations : group.map(Scope.group) }

    func validate() throws {
        if evaluations && group != nil { throw ValidationError("give --group G or --evaluations, not both") }
    }
    func required() throws -> Scope {
        guard let scope else { throw ValidationError("say which views: --group G or --evaluations") }
        return scope
    }
}

/// Says on stderr that some files are invalid (their objects are missing from what is shown) and makes
/// the command exit 1 at the end: an invalid object never stops the others, but is never silent either.
func reportInvalid(_ load: LoadResult) throws {
    let n = load.errors.count
    guard n > 0 else { return }
    let files = Set(load.errors.map(\.path)).count
    printError("hone: \(n) error\(n == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s"): invalid objects are not shown (run `hone validate`)")
    throw ExitCode.failure
}

struct Get: ParsableCommand {
    enum What: String, ExpressibleByArgument, CaseIterable { case groups, runs, evals }

    static let configuration = CommandConfiguration(
        abstract: "List groups, runs or evals, with their recorded phase.",
        discussion: """
        Lists what the specs declare joined with what is recorded under status/: an object that has never \
        run is listed with phase "never run". Runs and evals are listed newest first. Evals of a group (or \
        of --evaluations) go through the scope's default view when it has a visible one, or through --view V \
        (hidden views too): its filter, sort, columns and pinned columns. Without a view every column is \
        shown: name, group, model, dataset, runtime, handler, pool, phase, owner, createdAt, finishedAt, \
        duration, attempt, cost and metrics.<key> for every metric of the listed evals.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: "What to list: groups, runs or evals.") var what: What
    @OptionGroup var scope: ScopeOptions
    @Option(help: ArgumentHelp("List evals through this saved view of the group (or of --evaluations).", valueName: "V")) var view: String?
    @Flag(help: "Ignore the scope's default view.") var noView = false
    @Option(help: "Output format: table, json, csv or markdown.") var format: ListFormat = .table

    func validate() throws {
        switch what {
        case .groups:
            if scope.scope != nil { throw ValidationError("groups are not in a group: drop --group/--evaluations") }
            if view != nil { throw ValidationError("--view applies to evals") }
        case .runs:
            if scope.evaluations { throw ValidationError("the evaluation module has evals only: use `hone get evals --evaluations`") }
            if view != nil { throw ValidationError("--view applies to evals") }
        case .evals:
            if view != nil && scope.scope == nil { throw ValidationError("--view names a view of a group: add --group G (or --evaluations)") }
            if view != nil && noView { throw ValidationError("--view and --no-view contradict each other") }
        }
    }

    func run() throws {
        let load = try repo.workspace().load(ref: ref.ref)
        let table: Table
        switch what {
        case .groups: table = Listings.groups(load)
        case .runs:
            if let g = scope.group { try requireGroup(g, load) }
            table = Listings.runs(load, group: scope.group)
        case .evals:
            if let g = scope.group { try requireGroup(g, load) }
            let chosen = try scope.scope.flatMap { try chooseView($0, load) }
            if let chosen, format == .table { printError("(view \(chosen.key.display)\(chosen.isDefault && view == nil ? ", the default" : ""))") }
            table = Listings.evals(load, scope: scope.scope, view: chosen)
        }
        print(table.render(format.tableFormat), terminator: "")
        try reportInvalid(load)
    }

    func requireGroup(_ g: String, _ load: LoadResult) throws {
        if load.desired.groups[g] == nil && !load.files.contains("groups/\(g)/group.yaml") {
            throw HoneError("no group \"\(g)\" (groups/\(g)/group.yaml does not exist)")
        }
    }

    func chooseView(_ scope: Scope, _ load: LoadResult) throws -> ViewSpec? {
        let views = load.desired.views.values.filter { $0.key.scope == scope }
        guard let name = view else { return noView ? nil : views.first { $0.isDefault && $0.visible } }
        let key = ObjectKey(scope: scope, kind: .view, name: name)
        if let v = load.desired.views[key] { return v }
        if load.files.contains(key.specPath) { throw HoneError("view \(key.display) is invalid (\(key.specPath)): run `hone validate` to see why") }
        let names = views.filter(\.visible).map(\.key.name).sorted()
        throw HoneError("no view \"\(name)\" in \(scope.folder)/views" + (names.isEmpty ? "" : "; views: \(names.joined(separator: ", "))"))
    }
}
