import Foundation
import HoneEngine
import HoneLoading
import HoneModel

/// Everything the CLI prints passes through the redactor of the secrets in scope (specs/secrets.md): the
/// environment hone runs in and the remotes of the repository it opened. `print` and `printError` in
/// this module are the redacting ones, so no command prints around it.
enum Terminal {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var known = SecretScope(environment: ProcessInfo.processInfo.environment).redactor

    static var redactor: SecretRedactor { lock.withLock { known } }

    /// Adds the credentials in the remote URLs of `workspace`'s repository.
    static func know(_ workspace: Workspace) {
        know(SecretScope(environment: ProcessInfo.processInfo.environment, repository: workspace.repository).redactor)
    }

    /// Adds what a command learnt (the secrets of a reconcile: its specs' debug password variables).
    static func know(_ redactor: SecretRedactor) {
        lock.withLock { known = known.merging(redactor) }
    }

    /// The width of the terminal stdout is, nil when it is not one (a pipe, a file: nothing is cut).
    static var width: Int? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    static func write(_ text: String, to handle: FileHandle) { handle.write(Data(redactor.redact(text).utf8)) }
    static func write(_ data: Data, to handle: FileHandle) { handle.write(redactor.redact(data)) }
}

/// Swift's `print`, redacted (shadows it in this module). What commands print holds values from files people
/// and handlers wrote (descriptions, owners, logs): control characters other than line breaks and tabs are
/// escaped (CSV's CRLF line ends kept), so none can drive the terminal (JSON and markdown outputs are escaped already).
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    Terminal.write(TerminalText.escapedDocument(text) + terminator, to: .standardOutput)
}

/// Prints to stderr (diagnostics, progress) so stdout stays machine-readable; redacted. Progress quotes names
/// and errors from files and jobs: their control characters are escaped (diagnostics already are).
func printError(_ s: String) {
    Terminal.write(TerminalText.escapedLines(s) + "\n", to: .standardError)
}

extension HoneCommand {
    /// Ends the process for `error` like `exit(withError:)`, its message redacted.
    public static func exitRedacted(_ error: Error) -> Never {
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if !message.isEmpty { Terminal.write(message + "\n", to: code == .success ? .standardOutput : .standardError) }
        // specs/cli.md: usage errors (64 in swift-argument-parser) exit 1 like any error.
        Foundation.exit(code.rawValue == 64 ? 1 : code.rawValue)
    }
}
