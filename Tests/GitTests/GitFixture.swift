import Foundation
import XCTest
@testable import Git

/// A temporary folder with helpers to build repositories with the git CLI (the independent oracle).
final class GitFixture {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("hone-git-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    static let environment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        env["GIT_AUTHOR_NAME"] = "Fixture Author"
        env["GIT_AUTHOR_EMAIL"] = "author@example.com"
        env["GIT_COMMITTER_NAME"] = "Fixture Committer"
        env["GIT_COMMITTER_EMAIL"] = "committer@example.com"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["LC_ALL"] = "C"
        return env
    }()

    /// Runs `git args…` in `dir`; returns stdout (trailing newline trimmed). Fails the test on a non-zero exit
    /// unless `allowFailure`.
    @discardableResult
    func git(_ args: String..., in dir: String, allowFailure: Bool = false,
             file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try run(args, in: dir, allowFailure: allowFailure, file: file, line: line).out
    }

    func run(_ args: [String], in dir: String, allowFailure: Bool = false,
             file: StaticString = #filePath, line: UInt = #line) throws -> (out: String, status: Int32) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = ["-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"] + args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.environment = GitFixture.environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if p.terminationStatus != 0 && !allowFailure {
            XCTFail("git \(args.joined(separator: " ")) failed (\(p.terminationStatus)): \(String(decoding: errData, as: UTF8.self))",
                    file: file, line: line)
        }
        return (text.hasSuffix("\n") ? String(text.dropLast()) : text, p.terminationStatus)
    }

    /// Writes a file under `dir`, creating folders.
    func write(_ content: String, to relative: String, in dir: String, executable: Bool = false) throws {
        let url = URL(fileURLWithPath: dir).appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content.utf8).write(to: url)
        if executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
    }

    /// A work-tree repository at `name` made by `git init`, with `files` committed as one commit (if any).
    func makeRepo(_ name: String = "repo", files: [String: String] = [:], message: String = "initial") throws -> String {
        let dir = path(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main", in: dir)
        if !files.isEmpty {
            try commitFiles(files, message: message, in: dir)
        }
        return dir
    }

    func commitFiles(_ files: [String: String], message: String, in dir: String) throws {
        for (path, content) in files { try write(content, to: path, in: dir) }
        try git("add", "-A", in: dir)
        try git("commit", "-q", "-m", message, in: dir)
    }
}
