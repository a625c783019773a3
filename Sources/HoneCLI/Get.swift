import ArgumentParser
import Foundation
import HoneEngine
import HoneQueries
import HoneLoading
import HoneModel

/// Output formats of list commands (rendered by HoneEngine's Table).
enum ListFormat: String, ExpressibleByArgument, CaseIterable {
    case table, wide, json, yaml, csv, markdown
    var tableFormat: TableFormat {
        switch self {
        case .table: return .table
        case .wide: return .wide
        case .json: return .json
        case .yaml: return .yaml
        case .csv: return .csv
        case .markdown: return .markdown
        }
    }
    static let help = "Output format: table (narrow, times as ages), wide (every column, ISO times), json, yaml, csv or markdown."
}

/// What `hone get` lists; singular and plural names both work (`run`, `runs`).
enum ListKind: String, CaseIterable {
    case groups, runs, evals, playgrounds, models, datasets, runtimes, views

    static func parse(_ text: String) throws -> ListKind {
        let t = text.lowercased()
        if let k = ListKind(rawValue: t) ?? ListKind(rawValue: t + "s") { return k }
        let hint = NearMiss.suggestion(for: t, among: allCases.map(\.rawValue)).map { " (did you mean \($0)?)" } ?? ""
        throw ValidationError("no kind \"\(text)\"\(hint): hone get lists \(allCases.map(\.rawValue).joined(separator: ", "))")
    }

    var versionKind: VersionKind? {
        switch self {
        case .models: return .model
        case .datasets: return .dataset
        case .runtimes: return .runtime
        case .groups, .runs, .evals, .playgrounds, .views: return nil
        }
    }
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
    static let configuration = CommandConfiguration(
        abstract: "List groups, runs, evals, playgrounds, models, datasets, runtimes or views.",
        discussion: """
        KIND is groups, runs, evals, playgrounds, models, datasets, runtimes or views (or the singular). Runs, evals and playgrounds are \
        the specs joined with what is recorded under status/: an object that has never run is listed with \
        phase "never run"; newest first. The default table is narrow, with an AGE column (time since \
        created: 5s, 3m, 2h, 4d); -o wide shows every column with ISO times, as json, yaml, csv and markdown \
        do; on a terminal the narrow table leaves out its rightmost columns until it fits. Runs show their params \
        and summary metrics as columns (params.lr, metrics.val_loss). Evals of a group (or of --evaluations), and \
        runs of a group, go through the scope's default view for them when it has a visible one (views with \
        `for: runs` list runs), or through --view V (hidden views too): its filter, sort, columns and pinned \
        columns. JSON and YAML are one document ({"apiVersion": "hone/v1", "kind": "RunList", "items": [...]}, \
        specs/json.md) whose items have the same keys whatever the view: a view picks their rows and order. \
        Models, datasets and runtimes are listed one row per version (models with published-from and digest).
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: ArgumentHelp("What to list: groups, runs, evals, playgrounds, models, datasets, runtimes or views.", valueName: "KIND"),
              completion: .list(ListKind.allCases.map(\.rawValue))) var kind: String
    @OptionGroup var scope: ScopeOptions
    @Option(help: ArgumentHelp("List runs or evals through this saved view of the group (or of --evaluations).", valueName: "V")) var view: String?
    @Flag(help: "Ignore the scope's default view.") var noView = false
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp(ListFormat.help)) var format: ListFormat = .table
    @Flag(name: .shortAndLong, help: "Keep listing: read the repository every second and show the list again when it changes (Ctrl-C ends).")
    var watch = false

    var what: ListKind { (try? ListKind.parse(kind)) ?? .runs }

    func validate() throws {
        let what = try ListKind.parse(kind)
        if what != .evals && what != .runs && (view != nil || noView) { throw ValidationError("--view and --no-view apply to runs and evals") }
        switch what {
        case .groups, .models, .datasets, .runtimes:
            if scope.scope != nil { throw ValidationError("\(what.rawValue) are not in a group: drop --group/--evaluations") }
        case .playgrounds:
            if scope.evaluations { throw ValidationError("the evaluation module has no playgrounds: use --group G") }
        case .runs, .evals:
            if what == .runs && scope.evaluations { throw ValidationError("the evaluation module has evals only: use `hone get evals --evaluations`") }
            if view != nil && scope.scope == nil { throw ValidationError("--view names a view of a group: add --group G (or --evaluations)") }
            if view != nil && noView { throw ValidationError("--view and --no-view contradict each other") }
        case .views: break
        }
    }

    func run() throws {
        let ws = try repo.workspace()
        var shown: String? = nil
        while true {
            let load = try Loader(source: ws.source(ref: ref.ref), parseOnly: parsed(what)).load()
            if let g = scope.group { try requireGroup(g, load) }
            let table = try table(what, load, announce: shown == nil)
            let (text, note) = render(table)
            guard watch else {
                print(text, terminator: "")
                if let note { printError(note) }
                try reportInvalid(load)
                return
            }
            // Changes are what the rows hold (every column), not the ages, which change every second.
            let content = table.render(.json)
            if content != shown {
                // A terminal is redrawn in place; a pipe gets each new table after a blank line.
                if shown != nil { Terminal.write(Terminal.width != nil ? "\u{1B}[H\u{1B}[2J" : "\n", to: .standardOutput) }  // hone's own redraw
                print(text, terminator: "")
                if let note { printError(note) }
                if !load.errors.isEmpty { printError("hone: \(load.errors.count) error(s): invalid objects are not shown (run `hone validate`)") }
                shown = content
            }
            Thread.sleep(forTimeInterval: Get.watchInterval)
        }
    }

    /// How often `--watch` reads the repository again.
    static let watchInterval: TimeInterval = 1

    /// The table in the chosen format; on a terminal the narrow table cut to fit, with a note saying so.
    func render(_ table: Table) -> (String, String?) {
        if format == .table, let width = Terminal.width, let fit = table.fitted(width) {
            return (fit.text, "(\(fit.hidden) column\(fit.hidden == 1 ? "" : "s") hidden to fit the terminal: -o wide shows every column)")
        }
        return (table.render(format.tableFormat), nil)
    }

    func table(_ what: ListKind, _ load: LoadResult, announce: Bool = true) throws -> Table {
        switch what {
        case .groups: return Listings.groups(load)
        case .runs:
            let chosen = try scope.scope.flatMap { try chooseView($0, load, for: .runs) }
            if let chosen, format == .table, announce { announceView(chosen) }
            return Listings.runs(load, group: scope.group, view: chosen)
        case .playgrounds: return Listings.playgrounds(load, group: scope.group)
        case .evals:
            let chosen = try scope.scope.flatMap { try chooseView($0, load, for: .evals) }
            if let chosen, format == .table, announce { announceView(chosen) }
            return Listings.evals(load, scope: scope.scope, view: chosen)
        case .models, .datasets, .runtimes: return Catalog.versions(load, what.versionKind!)
        case .views: return Catalog.views(load, scope: scope.scope)
        }
    }

    /// What a listing parses beside hone.yaml, versions and groups: runs only their specs, statuses and the
    /// views, evals only theirs and the views (each half of a big repository), of one scope with --group/--evaluations.
    func parsed(_ what: ListKind) -> ((String) -> Bool)? {
        let kinds: Set<String>
        switch what {
        case .groups, .playgrounds, .models, .datasets, .runtimes, .views: return nil
        case .runs: kinds = ["runs", "views"]
        case .evals: kinds = ["evals", "views"]
        }
        let folder = scope.scope?.folder
        return { path in
            var parts = path.split(separator: "/", maxSplits: 4).map(String.init)
            if parts.first == "status" { parts.removeFirst() }
            if let folder, !(parts.joined(separator: "/") + "/").hasPrefix(folder + "/") { return false }
            switch parts.first {
            case "groups": return parts.count > 3 && kinds.contains(parts[2])
            case "evaluations": return kinds.contains("evals")
            default: return true
            }
        }
    }

    func requireGroup(_ g: String, _ load: LoadResult) throws {
        if load.desired.groups[g] == nil && !load.files.contains("groups/\(g)/group.yaml") {
            throw HoneError("no group \"\(g)\" (groups/\(g)/group.yaml does not exist)")
        }
    }

    func announceView(_ chosen: ViewSpec) {
        printError("(view \(chosen.key.display)\(chosen.isDefault && view == nil ? ", the default" : ""))")
    }

    func chooseView(_ scope: Scope, _ load: LoadResult, for target: ViewSpec.Target) throws -> ViewSpec? {
        let views = load.desired.views.values.filter { $0.key.scope == scope && $0.target == target }
        guard let name = view else { return noView ? nil : views.first { $0.isDefault && $0.visible } }
        let key = ObjectKey(scope: scope, kind: .view, name: name)
        if let v = load.desired.views[key] {
            guard v.target == target else {
                throw HoneError("view \(key.display) lists \(v.target.rawValue) (for: \(v.target.rawValue)): use `hone get \(v.target.rawValue) --view \(name)`")
            }
            return v
        }
        if load.files.contains(key.specPath) { throw HoneError("view \(key.display) is invalid (\(key.specPath)): run `hone validate` to see why") }
        let names = views.filter(\.visible).map(\.key.name).sorted()
        throw HoneError("no view \"\(name)\" in \(scope.folder)/views" + (names.isEmpty ? "" : "; views: \(names.joined(separator: ", "))"))
    }
}
