import ArgumentParser
import Foundation
import HoneEngine
import HoneModel

/// A duration given on the command line (`7d`, `12h`, `0`), parsed when the arguments are.
struct DurationArgument: ExpressibleByArgument {
    var seconds: Int
    var text: String
    init?(argument: String) {
        text = argument
        switch DurationText.parse(argument) {
        case .seconds(let s)?: seconds = s
        case .off?: seconds = 0
        case nil: return nil
        }
    }
    var defaultValueDescription: String { text }
    static var defaultCompletionKind: CompletionKind { .list(["1h", "1d", "7d", "30d"]) }
}

enum TextOrJSON: String, ExpressibleByArgument, CaseIterable { case text, json }

struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove what no live work needs: finished job folders, snapshots, unreferenced store objects.",
        discussion: """
        Keeps the folder of every Pending or Running attempt (in any branch, remote-tracking branch, tag or \
        the working tree), of every job whose process still runs, and every debug eval's held folder; the \
        snapshots active attempts are copied from; and every store object that a recorded status, a \
        published manifest or a version file of any commit hone can reach names. Takes the repository lock \
        (a reconcile waits for it, and gc for a reconcile's).
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(help: "Print what would be removed and how much, and remove nothing.") var dryRun = false
    @Option(help: ArgumentHelp("Keep unreferenced store objects younger than this (0 keeps none).", valueName: "D"))
    var keepUnreferenced = DurationArgument(argument: "7d")!
    @Option(help: ArgumentHelp("How long to wait for a reconcile's lock (seconds).", valueName: "SECONDS")) var lockTimeout: Double = 30
    @Flag(help: "List every item removed (text format).") var verbose = false
    @Option(help: "Output format: text or json.") var format: TextOrJSON = .text

    func run() throws {
        var options = GarbageCollection.Options()
        options.keepUnreferenced = TimeInterval(keepUnreferenced.seconds)
        options.lockTimeout = lockTimeout
        let report = try GarbageCollection(workspace: repo.workspace(), options: options).run(dryRun: dryRun)
        switch format {
        case .json: print(GCViews.json(report, dryRun: dryRun).prettyJSON)
        case .text: print(GCViews.text(report, dryRun: dryRun, verbose: verbose || dryRun), terminator: "")
        }
    }
}

enum GCViews {
    static func text(_ r: GarbageCollection.Report, dryRun: Bool, verbose: Bool) -> String {
        var out = ""
        if verbose {
            for i in r.items { out += "  \(TerminalText.escaped(i.area.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)))  \(TerminalText.escaped(i.path))  \(size(i.bytes))\n" }
        }
        var parts: [String] = []
        for area in GarbageCollection.Area.allCases {
            let items = r.items.filter { $0.area == area }
            if !items.isEmpty { parts.append("\(items.count) \(items.count == 1 ? area.rawValue : area.plural) (\(size(items.reduce(0) { $0 + $1.bytes })))") }
        }
        let verb = dryRun ? "would remove" : "removed"
        out += "gc: \(verb) " + (parts.isEmpty ? "nothing" : parts.joined(separator: ", ") + ", \(size(r.bytes)) in all") + "\n"
        let k = r.kept
        out += "kept: \(k.activeJobs) folders of active jobs, \(k.runningFolders) of running processes, \(k.debugFolders) held by debug evals, "
            + "\(k.snapshots) snapshots of active jobs, \(k.referencedObjects) referenced store objects, \(k.youngObjects) unreferenced but recent\n"
        return out
    }

    static func json(_ r: GarbageCollection.Report, dryRun: Bool) -> JSONValue {
        let k = r.kept
        return .object([
            "apiVersion": .string("hone/v1"),
            "kind": .string("GarbageCollection"),
            "dryRun": .bool(dryRun),
            "bytes": .int(Int(r.bytes)),
            "removed": .array(r.items.map { .object(["area": .string($0.area.rawValue), "path": .string($0.path), "bytes": .int(Int($0.bytes))]) }),
            "kept": .object(["activeJobs": .int(k.activeJobs), "runningJobs": .int(k.runningFolders), "debugFolders": .int(k.debugFolders),
                             "snapshots": .int(k.snapshots), "referencedObjects": .int(k.referencedObjects), "recentObjects": .int(k.youngObjects)]),
        ])
    }

    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(bytes), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.1f", v) + " " + units[i]
    }
}
