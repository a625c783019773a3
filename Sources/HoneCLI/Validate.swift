import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

enum DiagnosticFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every file of the repository.",
        discussion: """
        Every file is read and checked before the command ends: YAML syntax, kinds, fields, names, \
        references (also that the script a handler names is a file of the tree read), secrets, views and status files, and what planning checks (dependency cycles, \
        changed version digests): exactly what `hone plan` reports. Links and special files are \
        errors, never followed. Problems are printed as `path:line:col: error: message` with the \
        source line. Exit status: 0 when valid (warnings do not fail), 1 when any error was found.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Option(help: "Output format: text or json.") var format: DiagnosticFormat = .text

    func run() throws {
        // The same problems as plan's (the loader's and the planner's): validate reports exactly what plan reports.
        let workspace = try repo.workspace()
        let load = try workspace.load(ref: ref.ref)
        ProcessLifetime.keep(load)
        let diagnostics = try workspace.problems(load, ref: ref.ref)
        let fileCount = load.files.count
        let e = diagnostics.filter(\.isError).count, w = diagnostics.count - e
        switch format {
        case .text:
            for d in diagnostics { print(d.description) }
            let files = Set(diagnostics.map(\.path)).count
            if e == 0 {
                print("valid: \(fileCount) files checked" + (w > 0 ? ", \(w) warning\(w == 1 ? "" : "s")" : ""))
            } else {
                print("\(e) error\(e == 1 ? "" : "s")\(w > 0 ? ", \(w) warning\(w == 1 ? "" : "s")" : "") in \(files) file\(files == 1 ? "" : "s") (\(fileCount) checked)")
            }
        case .json:
            print(DiagnosticJSON.document(diagnostics, files: fileCount).prettyJSON)
        }
        if e > 0 { throw ExitCode.failure }
    }
}

enum DiagnosticJSON {
    static func item(_ d: Diagnostic) -> JSONValue { d.json }
    static func document(_ diagnostics: [Diagnostic], files: Int) -> JSONValue {
        let errors = diagnostics.filter(\.isError)
        return .object(["valid": .bool(errors.isEmpty), "files": .int(files),
                        "errors": .array(errors.map(item)), "warnings": .array(diagnostics.filter { !$0.isError }.map(item))])
    }
}

/// Values left to the end of the process instead of being freed: the trees of 10,000 files are
/// ~80 MB of small objects, and freeing them one by one costs more than the printing after it.
enum ProcessLifetime {
    nonisolated(unsafe) private static var kept: [Any] = []
    static func keep(_ value: Any) { kept.append(value) }
}
