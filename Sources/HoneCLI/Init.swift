import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scaffold a hone repository.",
        discussion: "Writes hone.yaml (one local pool), a .gitignore for .hone/ and one group, and makes DIR a git repository if it is not inside one. Existing files are never overwritten.")

    @Argument(help: "Where to create the repository (default: the current directory).") var dir: String = "."
    @Option(help: "The project's name (default: the folder's name).") var name: String?
    @Option(help: "The first group's name.") var group: String = "default"

    func run() throws {
        let created = try Scaffold.initialize(at: URL(fileURLWithPath: dir), name: name, group: group)
        for path in created { print("created \(path)") }
        if created.isEmpty { print("nothing to do: \(dir) is already a hone repository") }
    }
}
