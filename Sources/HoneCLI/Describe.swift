import ArgumentParser
import Foundation
import HoneEngine
import HoneQueries
import HoneLoading
import HoneModel

struct DescribeCommand: ParsableCommand {
    /// What `hone describe` shows; singular and plural names both work.
    enum Kind: String, CaseIterable {
        case run, eval, playground, group, model

        static func parse(_ text: String) throws -> Kind {
            let t = text.lowercased()
            if let k = Kind(rawValue: t) ?? (t.hasSuffix("s") ? Kind(rawValue: String(t.dropLast())) : nil) { return k }
            let hint = NearMiss.suggestion(for: t, among: allCases.map(\.rawValue)).map { " (did you mean \($0)?)" } ?? ""
            throw ValidationError("no kind \"\(text)\"\(hint): hone describe shows a run, eval, playground, group or model")
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show a run's, eval's, playground's, group's or model's overview.",
        discussion: """
        `describe run|eval G/NAME`: id, phase, created/started/finished times, duration, owner, pool, the \
        run's output model (name and version, draft or published), base model, datasets and runtime (name \
        and version), handler and params; for evals the model, dataset, auto release, release time, debug \
        mode, results and metrics; then tasks and events. Values come from the recorded attempt (what \
        actually ran), else from the spec: an object that has never run is described too. \
        `describe playground G/NAME`: the model it serves, its endpoint and whether it answers, its release \
        limits and times, the API key variable (never the key), tasks and events. \
        `describe group G`: its description, last activity, views, runs and evals. \
        `describe model NAME[@VERSION]`: each version's path, URI, sha256, published-from, metrics and \
        the evals that read it.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Argument(help: ArgumentHelp("run, eval, playground, group or model.", valueName: "KIND"), completion: .list(Kind.allCases.map(\.rawValue))) var kind: String
    @Argument(help: ArgumentHelp("G/NAME (run, eval; evaluations/NAME), G (group) or NAME[@VERSION] (model).", valueName: "OBJECT"),
              completion: ObjectCompletion.described) var object: String
    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.") var format: DiagnosticFormat = .text

    func validate() throws { _ = try Kind.parse(kind) }

    func run() throws {
        let load = try repo.workspace().load(ref: ref.ref)
        let doc: JSONValue, text: () -> String
        switch try Kind.parse(kind) {
        case .run:
            let key = try ObjectAddress.parse(object).resolve(in: load, only: .run)
            doc = Describe.document(load, key); text = { Describe.text(load, key) }
        case .eval:
            let key = try ObjectAddress.parse(object).resolve(in: load, only: .eval)
            doc = Describe.document(load, key); text = { Describe.text(load, key) }
        case .playground:
            let key = try ObjectAddress.parse(object).resolve(in: load, only: .playground)
            doc = Describe.document(load, key); text = { Describe.text(load, key) }
        case .group:
            let g = try group(load)
            doc = Catalog.groupDocument(load, g); text = { Catalog.groupText(load, g) }
        case .model:
            let (name, version) = try model(load)
            doc = Catalog.modelDocument(load, name: name, version: version); text = { Catalog.modelText(load, name: name, version: version) }
        }
        switch format {
        case .text: print(text(), terminator: "")
        case .json: print(doc.prettyJSON)
        }
    }

    func group(_ load: LoadResult) throws -> String {
        let g = object.hasPrefix("groups/") ? String(object.dropFirst(7)) : object
        guard load.desired.groups[g] == nil else { return g }
        if load.files.contains("groups/\(g)/group.yaml") { throw HoneError("groups/\(g)/group.yaml is invalid: run `hone validate` to see why") }
        let hint = NearMiss.suggestion(for: g, among: Array(load.desired.groups.keys)).map { " (did you mean \($0)?)" } ?? ""
        throw HoneError("no group \"\(g)\" (groups/\(g)/group.yaml does not exist)\(hint)")
    }

    func model(_ load: LoadResult) throws -> (String, String?) {
        let ref = VersionRef.parse(object)
        let name = ref?.name ?? object, version = ref?.version
        let versions = (load.desired.versions[.model] ?? [:]).keys
        if versions.contains(where: { $0.name == name && (version == nil || $0.version == version) }) { return (name, version) }
        if let version, versions.contains(where: { $0.name == name }) {
            let known = versions.filter { $0.name == name }.map(\.version).sorted()
            throw HoneError("model \(name) has no version \(version): its versions are \(known.joined(separator: ", "))")
        }
        let hint = NearMiss.suggestion(for: name, among: Set(versions.map(\.name)).sorted()).map { " (did you mean \($0)?)" } ?? ""
        throw HoneError("no model \"\(name)\" (models/\(name)/ has no versions)\(hint)")
    }
}
