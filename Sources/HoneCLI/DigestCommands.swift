import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print the sha256 a model or dataset version must name for a file or a folder.",
        discussion: """
        For a file, its sha256 (`sha256sum FILE`). For a folder (a Hugging Face model directory), the sha256 \
        of its manifest: one line `<sha256>  <path>` per regular file at any depth, sorted by path \
        (specs/versions.md, "The digest of a file or folder"); a link, FIFO or device inside is an error. \
        Files are read in full, a folder's on every core. Prints the digest and the path, like sha256sum.
        """)

    @Argument(help: ArgumentHelp("Files or folders to hash.", valueName: "PATH")) var paths: [String]

    func run() throws {
        var failed = false
        for p in paths {
            do { print("\(try Workspace.digest(of: URL(fileURLWithPath: p)))  \(p)") } catch {
                printError("\(p): \(error)"); failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every model and dataset version this machine can read against its sha256.",
        discussion: """
        What a job's preparation checks before a handler reads an input, for all versions at once. A file whose \
        device, inode, size, mtime and ctime are those recorded when hone last hashed it (`.hone/stat-cache.json`) \
        is not read again; --deep reads every file and records what it read. Repository-relative URIs are \
        read in the working tree. Exit status 1 when one is missing, unreadable or has another digest.
        """)

    @OptionGroup var repo: RepoOptions
    @Flag(help: "Hash every file again, ignoring the stat cache.") var deep = false

    func run() throws {
        let report = try repo.workspace().verifyInputs(deep: deep)
        for c in report.checks {
            let what = "\(c.kind.noun) \(c.ref)"
            switch c.outcome {
            case .ok: print("ok        \(what)  \(c.uri)")
            case .mismatch(let actual): print("MISMATCH  \(what)  \(c.uri) has sha256 \(actual)")
            case .missing: print("MISSING   \(what)  \(c.uri)")
            case .unreadable(let why): print("UNREADABLE \(what)  \(why)")
            }
        }
        let mb = Double(report.bytes) / 1_000_000
        print(String(format: "verified %d version%@ (%.1f MB) in %.1f ms%@", report.checks.count, report.checks.count == 1 ? "" : "s",
                     mb, report.seconds * 1000, deep ? " (deep: every file read)" : ""))
        if report.failed { throw ExitCode.failure }
    }
}
