import ArgumentParser
import Foundation
import HoneEngine
import HoneModel

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a run's or eval's events: time, type (Normal or Warning), reason, message.")

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: ArgumentHelp("GROUP/NAME or evaluations/NAME.", valueName: "G/NAME")) var object: String
    @Option(help: "Output format: table, json, csv or markdown.") var format: ListFormat = .table

    func run() throws {
        let address = try ObjectAddress.parse(object)
        let load = try repo.workspace().load(ref: ref.ref)
        let key = try address.resolve(in: load)
        let status = load.recorded.statuses[key]
        if status == nil { printError("hone: \(key.display) has never run: no events yet") }
        print(Describe.events(status).render(format.tableFormat), terminator: "")
    }
}
