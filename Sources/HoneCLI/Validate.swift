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
        references, secrets and views. Problems are printed as `path:line:col: error: message` with the \
        source line. Exit status: 0 when valid (warnings do not fail), 1 when any error was found.
        """)

    @OptionGroup var repo: RepoOptions
    @OptionGroup var ref: RefOption
    @Option(help: "Output format: text or json.") var format: DiagnosticFormat = .text

    func run() throws {
        let result = try repo.workspace().load(ref: ref.ref)
        ProcessLifetime.keep(result)
        switch format {
        case .text:
            for d in result.diagnostics { print(d.description) }
            let e = result.errors.count, w = result.warnings.count
            let files = Set(result.diagnostics.map(\.path)).count
            if e == 0 {
                print("valid: \(result.files.count) files checked" + (w > 0 ? ", \(w) warning\(w == 1 ? "" : "s")" : ""))
            } else {
                print("\(e) error\(e == 1 ? "" : "s")\(w > 0 ? ", \(w) warning\(w == 1 ? "" : "s")" : "") in \(files) file\(files == 1 ? "" : "s") (\(result.files.count) checked)")
            }
        case .json:
            print(DiagnosticJSON.document(result).prettyJSON)
        }
        if !result.isValid { throw ExitCode.failure }
    }
}

enum DiagnosticJSON {
    static func item(_ d: Diagnostic) -> JSONValue { d.json }
    static func document(_ r: LoadResult) -> JSONValue {
        .object(["valid": .bool(r.isValid), "files": .int(r.files.count),
                 "errors": .array(r.errors.map(item)), "warnings": .array(r.warnings.map(item))])
    }
}

/// Values left to the end of the process instead of being freed: the trees of 10,000 files are
/// ~80 MB of small objects, and freeing them one by one costs more than the printing after it.
enum ProcessLifetime {
    nonisolated(unsafe) private static var kept: [Any] = []
    static func keep(_ value: Any) { kept.append(value) }
}
