import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a run's model: adds `publish:` to the run's spec.",
        discussion: """
        --new publishes the run's draft model as a new model M (models/M/v1.yaml); --existing as the next \
        version of the existing model M. The spec's `publish:` block is written (replaced if present), \
        keeping the file's comments. Commit it: once the run has succeeded, `hone reconcile` writes the \
        model version manifest.
        """)

    @OptionGroup var repo: RepoOptions
    @Argument(help: ArgumentHelp("The run: GROUP/NAME.", valueName: "G/RUN")) var runName: String
    @Option(help: ArgumentHelp("The registry model to publish into.", valueName: "M")) var model: String
    @Flag(help: "Publish as a new model (error if M exists).") var new = false
    @Flag(help: "Publish as a new version of the existing model M.") var existing = false

    func validate() throws {
        if new == existing { throw ValidationError("say how to publish: --new (a new model) or --existing (a new version of model \(model)), exactly one") }
    }

    func run() throws {
        let address = try ObjectAddress.parse(runName)
        let result = try SpecEdits(workspace: repo.workspace()).publish(address, model: model, as: new ? .new : .version)
        let path = result.key.specPath
        let how = new ? "as the new model \(model)" : "as a new version of model \(model)"
        if let old = result.replaced {
            print("changed publish: in \(path) (was \(old.model) as \(old.as_.rawValue)): \(result.key.display) is published \(how)")
        } else {
            print("added publish: to \(path): \(result.key.display) is published \(how)")
        }
        printCommitHint(path, message: "publish \(result.key.display) to \(model)", then: "`hone reconcile` publishes it once the run has succeeded")
        noteOtherErrors(result.outcome)
    }
}
