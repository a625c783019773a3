import Foundation
import XCTest
@testable import Git

final class RepositoryRemoteTests: XCTestCase {
    let hone = Signature(name: "hone", email: "hone@localhost")

    /// A bare remote with one commit, and `clones` clones of it made by the git CLI.
    private func remoteWithClones(_ fx: GitFixture, _ names: [String]) throws -> String {
        let seed = try fx.makeRepo("seed", files: ["hone.yaml": "kind: Project\n"])
        try fx.git("clone", "-q", "--bare", seed, fx.path("remote.git"), in: fx.root.path)
        for name in names {
            try fx.git("clone", "-q", fx.path("remote.git"), fx.path(name), in: fx.root.path)
        }
        return fx.path("remote.git")
    }

    func testPushFetchAndNonFastForward() throws {
        let fx = try GitFixture()
        let remote = try remoteWithClones(fx, ["a", "b"])
        let a = try Repository.open(fx.path("a")), b = try Repository.open(fx.path("b"))
        XCTAssertEqual(try a.remoteURL("origin"), remote)
        XCTAssertNil(try a.remoteURL("nope"))
        let base = try a.resolve("HEAD")

        // a pushes first: the remote moves, and so does a's remote-tracking ref.
        let fromA = try a.writeCommit(branch: "main", parent: base, changes: ["status/a": .write(Data("a".utf8))],
                                      message: "from a", author: hone)
        try a.push(remote: "origin", refspecs: ["refs/heads/main:refs/heads/main"])
        XCTAssertEqual(try fx.git("rev-parse", "main", in: remote), fromA.hex)
        XCTAssertEqual(try a.resolve("origin/main"), fromA)

        // b, still on the old base, loses: non-fast-forward, and the remote is unchanged.
        let fromB = try b.writeCommit(branch: "main", parent: base, changes: ["status/b": .write(Data("b".utf8))],
                                      message: "from b", author: hone)
        XCTAssertThrowsError(try b.push(remote: "origin", refspecs: ["refs/heads/main:refs/heads/main"])) { error in
            let e = error as! GitError
            XCTAssertTrue(e.isNonFastForward, "\(e)")
            XCTAssertEqual(e.code, -11)
            XCTAssertTrue(e.description.contains("git_remote_push"), e.description)
        }
        XCTAssertEqual(try fx.git("rev-parse", "main", in: remote), fromA.hex)

        // b fetches, re-applies its change on the new tip, and pushes.
        XCTAssertEqual(try b.resolve("origin/main"), base)
        try b.fetch(remote: "origin")
        XCTAssertEqual(try b.resolve("origin/main"), fromA)
        XCTAssertEqual(try fx.git("rev-parse", "refs/remotes/origin/main", in: fx.path("b")), fromA.hex)
        try b.compareAndSwap(ref: "refs/heads/main", to: fromA, expected: fromB)
        let retried = try b.writeCommit(branch: "main", parent: fromA, changes: ["status/b": .write(Data("b".utf8))],
                                        message: "from b, retried", author: hone)
        try b.push(remote: "origin", refspecs: ["refs/heads/main"])
        XCTAssertEqual(try fx.git("rev-parse", "main", in: remote), retried.hex)
        try fx.git("fsck", "--strict", in: remote)
        XCTAssertEqual(try fx.git("log", "--format=%s", "main", in: remote).split(separator: "\n"),
                       ["from b, retried", "from a", "initial"])
    }

    func testPushAndFetchErrors() throws {
        let fx = try GitFixture()
        _ = try remoteWithClones(fx, ["a"])
        let a = try Repository.open(fx.path("a"))
        XCTAssertThrowsError(try a.fetch(remote: "missing")) {
            let e = $0 as! GitError
            XCTAssertTrue(e.isNotFound)
            XCTAssertEqual(e.function, "git_remote_lookup")
        }
        // Pushing into a non-bare local repository is refused by libgit2.
        try fx.git("remote", "add", "seed", fx.path("seed"), in: fx.path("a"))
        XCTAssertThrowsError(try a.push(remote: "seed", refspecs: ["refs/heads/main:refs/heads/other"])) {
            XCTAssertEqual(($0 as! GitError).function, "git_remote_push")
        }
    }

    /// Rejections that only the remote knows about reach us through `push_update_reference`: exercised with a
    /// real `git daemon` (git:// transport), a pre-receive hook and `receive.denyNonFastForwards`.
    func testServerSideRejectionsThroughTheCallback() throws {
        let fx = try GitFixture()
        let remote = try remoteWithClones(fx, ["a", "b"])
        let port = Int.random(in: 20_000..<40_000)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        daemon.arguments = ["daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=\(port)", "--export-all",
                            "--enable=receive-pack", "--informative-errors", "--base-path=\(fx.root.path)", fx.root.path]
        daemon.environment = GitFixture.environment
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { daemon.terminate(); daemon.waitUntilExit() }
        let url = "git://127.0.0.1:\(port)/remote.git"
        var ready = false
        for _ in 0..<50 {
            if try fx.run(["ls-remote", url], in: fx.root.path, allowFailure: true).status == 0 { ready = true; break }
            usleep(100_000)
        }
        try XCTSkipUnless(ready, "git daemon did not start")
        try fx.git("remote", "set-url", "origin", url, in: fx.path("a"))
        try fx.git("remote", "set-url", "origin", url, in: fx.path("b"))
        let a = try Repository.open(fx.path("a")), b = try Repository.open(fx.path("b"))
        let base = try a.resolve("HEAD")

        // A plain push over git:// works.
        let fromA = try a.writeCommit(branch: "main", parent: base, changes: ["a": .write(Data("a".utf8))],
                                      message: "a", author: hone)
        try a.push(remote: "origin", refspecs: ["refs/heads/main:refs/heads/main"])
        XCTAssertEqual(try fx.git("rev-parse", "main", in: remote), fromA.hex)

        // A forced push the remote refuses as non-fast-forward (b has a's commit, so libgit2's own check passes).
        try fx.git("config", "receive.denyNonFastForwards", "true", in: remote)
        try b.fetch(remote: "origin")
        _ = try b.writeCommit(branch: "main", parent: base, changes: ["b": .write(Data("b".utf8))],
                              message: "b", author: hone)
        XCTAssertThrowsError(try b.push(remote: "origin", refspecs: ["+refs/heads/main:refs/heads/main"])) { error in
            let e = error as! GitError
            XCTAssertTrue(e.isNonFastForward, "\(e)")
            XCTAssertTrue(e.message.contains("refs/heads/main"), e.message)
        }
        XCTAssertEqual(try fx.git("rev-parse", "main", in: remote), fromA.hex)

        // A hook that declines: rejected, but not a non-fast-forward.
        let hook = remote + "/hooks/pre-receive"
        try "#!/bin/sh\necho no >&2\nexit 1\n".write(toFile: hook, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook)
        let next = try a.writeCommit(branch: "main", parent: fromA, changes: ["c": .write(Data("c".utf8))],
                                     message: "c", author: hone)
        XCTAssertThrowsError(try a.push(remote: "origin", refspecs: ["refs/heads/main:refs/heads/main"])) { error in
            let e = error as! GitError
            XCTAssertFalse(e.isNonFastForward, "\(e)")
            XCTAssertTrue(e.description.contains("git_remote_push"), e.description)
            XCTAssertTrue(e.message.contains("hook declined"), e.message)
        }
        XCTAssertEqual(try fx.git("rev-parse", "main", in: remote), fromA.hex)
        XCTAssertNotEqual(try a.resolve("origin/main"), next)
    }
}
