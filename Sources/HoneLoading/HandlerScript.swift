import HoneModel
import YAML

/// The repository script a handler command runs (`python handlers/finetune.py` → `handlers/finetune.py`),
/// so that `validate` catches a typo before anything launches. Only commands that plainly name a file
/// of the repository are checked: `python -m pkg`, absolute paths and programs on PATH are not.
enum HandlerScript {
    /// Per interpreter: options after which the code comes from elsewhere (nothing to check), and
    /// options that take the next word as their value (that word is not the script).
    struct Options { var inline: Set<String>; var withValue: Set<String> }

    static let shell = Options(inline: ["-c"], withValue: ["-o", "-O", "--rcfile", "--init-file"])
    static let interpreters: [String: Options] = [
        "python": Options(inline: ["-c", "-m"], withValue: ["-W", "-X", "--check-hash-based-pycs"]),
        "bash": shell, "sh": shell, "zsh": shell, "dash": shell,
        "node": Options(inline: ["-e", "--eval", "-p", "--print"], withValue: ["-r", "--require", "--import", "--loader"]),
        "Rscript": Options(inline: ["-e"], withValue: []),
        "perl": Options(inline: ["-e", "-E"], withValue: []),
        "ruby": Options(inline: ["-e"], withValue: []),
        "julia": Options(inline: ["-e", "-E"], withValue: ["-t", "-p"]),
    ]

    /// The repository-relative path of the script `command` runs, or nil when it names none.
    static func path(in command: String) -> String? {
        var words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)[...]
        // `A=1 python x.py`, `env A=1 python x.py`.
        while let w = words.first, w == "env" || isAssignment(w) { words = words.dropFirst() }
        guard let program = words.first else { return nil }
        let name = String(program.split(separator: "/").last ?? "")
        if program.contains("/") && interpreter(name) == nil { return repositoryPath(program) }
        guard let options = interpreter(name) else { return nil }  // a program on PATH
        var rest = words.dropFirst()
        while let w = rest.first {
            rest = rest.dropFirst()
            if w == "--" { return rest.first.flatMap(repositoryPath) }
            if w == "-" || options.inline.contains(w) { return nil }
            if options.withValue.contains(w) { rest = rest.dropFirst(); continue }
            if w.hasPrefix("-") {
                // `-mpkg`, `-cCODE`: the inline option joined to its value.
                if options.inline.contains(where: { $0.count == 2 && w.hasPrefix($0) }) { return nil }
                continue
            }
            return repositoryPath(w)
        }
        return nil
    }

    /// `python3.11` → the python options; nil for a program that is not a known interpreter.
    static func interpreter(_ name: String) -> Options? {
        if name.hasPrefix("python") && name.dropFirst(6).allSatisfy({ $0.isNumber || $0 == "." }) { return interpreters["python"] }
        return interpreters[name]
    }

    static func isAssignment(_ word: String) -> Bool {
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex else { return false }
        return word[..<eq].allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    /// A plain relative path (`./train.sh` → `train.sh`); nil for an absolute path, a home path, a
    /// word the shell would expand or unquote, or one that leaves the repository.
    static func repositoryPath(_ word: String) -> String? {
        let special: Set<Character> = ["$", "`", "\"", "'", "*", "?", "[", "]", "{", "}", "~", "\\", "<", ">", "|", ";", "&", "(", ")"]
        guard !word.isEmpty, !word.hasPrefix("/"), !word.contains(where: special.contains) else { return nil }
        let parts = word.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !parts.isEmpty, !parts.contains("..") else { return nil }
        return parts.joined(separator: "/")
    }
}

/// Checks, after every file is decoded, that the scripts handlers name exist in the tree being read
/// (the commit for `--ref`, else the working tree). Each folder is listed once.
final class ScriptCheck {
    let source: FileSource
    /// nil for a folder the source cannot list (nothing is then said about its scripts).
    private var folders: [String: [String]?] = [:]
    init(source: FileSource) { self.source = source }

    func check(_ script: (path: String, mark: Mark)?, _ report: FileReport) {
        guard let (path, mark) = script else { return }
        let folder = path.split(separator: "/").dropLast().joined(separator: "/")
        if folders[folder] == nil { folders[folder] = (try? source.filesInFolder(folder)) ?? nil }
        guard let listed = folders[folder], let files = listed, !files.contains(path) else { return }
        report.error("handler script \"\(path)\" does not exist in the \(source.label)\(NearMiss.hint(for: path, among: files))", at: mark)
    }

    /// Each path of a `code:` list must be a file or folder of the tree read.
    func check(code: [(path: String, mark: Mark)], _ report: FileReport) {
        for (path, mark) in code {
            if paths[path] == nil { paths[path] = (try? source.hasPath(path)) ?? nil }
            guard paths[path] == .some(false) else { continue }
            report.error("code path \"\(path)\" is neither a file nor a folder of the \(source.label)", at: mark)
        }
    }
    private var paths: [String: Bool?] = [:]
}
