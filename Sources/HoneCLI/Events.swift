import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneQueries
import HoneModel

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a run's or eval's events: time, type (Normal or Warning), reason, message.")

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: ArgumentHelp("GROUP/NAME or evaluations/NAME.", valueName: "G/NAME"), completion: ObjectCompletion.objects) var object: String
    @Option(name: [.customShort("o"), .long], help: ArgumentHelp(ListFormat.help)) var format: ListFormat = .table
    @Option(help: ArgumentHelp("Only events at or after this time: a duration ago (10m, 2h, 1d) or an ISO time (2026-01-31T09:00:00Z).", valueName: "D"))
    var since: String?

    func validate() throws { _ = try sinceDate() }

    /// `--since` as a time: durations count back from now.
    func sinceDate(now: Date = Date()) throws -> Date? {
        guard let since else { return nil }
        if let t = Timestamp.date(since) ?? Timestamp.date(since + "T00:00:00Z") { return t }
        if case .seconds(let n)? = DurationText.parse(since) { return now.addingTimeInterval(-Double(n)) }
        throw ValidationError("--since \(since) is neither a duration (10m, 2h, 1d) nor an ISO time (2026-01-31T09:00:00Z)")
    }

    func run() throws {
        let address = try ObjectAddress.parse(object)
        let load = try repo.workspace().load(ref: ref.ref)
        let key = try address.resolve(in: load)
        let status = load.recorded.statuses[key]
        if status == nil { printError("hone: \(key.display) has never run: no events yet") }
        print(Describe.events(status, since: try sinceDate()).render(format.tableFormat), terminator: "")
    }
}
