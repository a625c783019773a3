import Foundation
import XCTest
@testable import Git

final class RepositoryWriteTests: XCTestCase {
    let hone = Signature(name: "hone bot", email: "bot@hone.dev", time: Date(timeIntervalSince1970: 1_700_000_000))

    func testWriteCommitIsValidAndComplete() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["keep.txt": "keep\n", "old.txt": "old\n", "gone/x.txt": "x\n", "gone/y.txt": "y\n"])
        let repo = try Repository.open(dir)
        let parent = try repo.resolve("HEAD")
        let message = "hone: reconcile\n\nHone-Action: create support/lora-r8 id=abc\nHone-Action: poll support/lora-r4 id=def"
        let id = try repo.writeCommit(
            branch: "main", parent: parent,
            changes: [
                "status/groups/support/runs/lora-r8/status.yaml": .write(Data("phase: Running\n".utf8)),
                "old.txt": .write(Data("new\n".utf8)),
                "bin/tool": .write(Data("#!/bin/sh\n".utf8), executable: true),
                "keep.txt": .delete,
                "gone": .delete,            // a folder: everything under it
                "never-existed.txt": .delete,
            ],
            message: message, author: hone)

        XCTAssertEqual(try fx.git("rev-parse", "main", in: dir), id.hex)
        try fx.git("fsck", "--strict", "--no-dangling", in: dir)
        XCTAssertEqual(try fx.git("log", "-1", "--format=%P", "main", in: dir), parent.hex)
        XCTAssertEqual(try fx.git("log", "-1", "--format=%an <%ae> %at|%cn <%ce>", "main", in: dir),
                       "hone bot <bot@hone.dev> 1700000000|hone bot <bot@hone.dev>")
        XCTAssertEqual(try fx.git("log", "-1", "--format=%s", "main", in: dir), "hone: reconcile")
        XCTAssertEqual(try fx.git("log", "-1", "--format=%(trailers:key=Hone-Action,valueonly)", "main", in: dir),
                       "create support/lora-r8 id=abc\npoll support/lora-r4 id=def\n")
        XCTAssertEqual(try fx.git("show", "main:status/groups/support/runs/lora-r8/status.yaml", in: dir), "phase: Running")
        XCTAssertEqual(try fx.git("show", "main:old.txt", in: dir), "new")
        XCTAssertEqual(try fx.git("ls-tree", "-r", "--name-only", "main", in: dir).split(separator: "\n"),
                       ["bin/tool", "old.txt", "status/groups/support/runs/lora-r8/status.yaml"])
        XCTAssertTrue(try fx.git("ls-tree", "main", "bin/tool", in: dir).hasPrefix("100755 blob"))
        XCTAssertEqual(try repo.commit(id).message, message + "\n")

        // A second commit on top, with a committer different from the author.
        let committer = Signature(name: "CI", email: "ci@example.com", time: Date(timeIntervalSince1970: 1_700_000_100))
        let next = try repo.writeCommit(branch: "main", parent: id, changes: ["bin/tool": .delete],
                                        message: "drop tool\n", author: hone, committer: committer)
        XCTAssertEqual(try fx.git("log", "-1", "--format=%cn %ct %P", "main", in: dir), "CI 1700000100 \(id.hex)")
        XCTAssertEqual(try repo.commit(next).committer.name, "CI")
        try fx.git("fsck", "--strict", "--no-dangling", in: dir)
    }

    func testStaleParentIsAConflictAndLeavesTheBranch() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["a": "a\n"])
        let repo = try Repository.open(dir)
        let base = try repo.resolve("HEAD")
        let winner = try repo.writeCommit(branch: "main", parent: base, changes: ["b": .write(Data("b".utf8))],
                                          message: "winner", author: hone)
        XCTAssertThrowsError(try repo.writeCommit(branch: "main", parent: base, changes: ["c": .write(Data("c".utf8))],
                                                  message: "loser", author: hone)) { error in
            let e = error as! GitError
            XCTAssertTrue(e.isConflict, "\(e)")
            XCTAssertEqual(e.code, -15)
            XCTAssertEqual(e.function, "git_commit_create")
        }
        XCTAssertEqual(try fx.git("rev-parse", "main", in: dir), winner.hex)

        // A root commit onto an existing branch loses too.
        XCTAssertThrowsError(try repo.writeCommit(branch: "main", parent: nil, changes: [:], message: "root", author: hone)) {
            XCTAssertTrue(($0 as! GitError).isConflict)
        }
        XCTAssertEqual(try fx.git("rev-parse", "main", in: dir), winner.hex)
    }

    func testRootCommitOnUnbornAndOtherBranches() throws {
        let fx = try GitFixture()
        let repo = try Repository.create(at: fx.path("r"))
        let root = try repo.writeCommit(branch: "main", parent: nil,
                                        changes: ["hone.yaml": .write(Data("kind: Project\n".utf8))],
                                        message: "init", author: hone)
        XCTAssertEqual(try repo.headCommit(), root)
        XCTAssertEqual(try repo.commit(root).parents, [])
        XCTAssertEqual(try fx.git("rev-parse", "HEAD", in: fx.path("r")), root.hex)
        try fx.git("fsck", "--strict", in: fx.path("r"))

        // Another branch that does not exist yet, based on main.
        let side = try repo.writeCommit(branch: "hone/status", parent: root, changes: ["s": .write(Data())],
                                        message: "side", author: hone)
        XCTAssertEqual(try fx.git("rev-parse", "refs/heads/hone/status", in: fx.path("r")), side.hex)
        XCTAssertEqual(try repo.headCommit(), root, "HEAD's branch untouched")
        // Into a bare repository too.
        let bare = try Repository.create(at: fx.path("b.git"), bare: true)
        let b = try bare.writeCommit(branch: "main", parent: nil, changes: ["x/y/z": .write(Data("z".utf8))],
                                     message: "bare", author: hone)
        XCTAssertEqual(try bare.blob(at: "x/y/z", in: b), Data("z".utf8))
    }

    func testCompareAndSwap() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["a": "a"])
        try fx.commitFiles(["b": "b"], message: "two", in: dir)
        let repo = try Repository.open(dir)
        let one = try repo.resolve("HEAD~1"), two = try repo.resolve("HEAD")

        try repo.compareAndSwap(ref: "refs/hone/lock", to: one, expected: nil)
        XCTAssertEqual(try fx.git("rev-parse", "refs/hone/lock", in: dir), one.hex)
        XCTAssertThrowsError(try repo.compareAndSwap(ref: "refs/hone/lock", to: two, expected: nil)) {
            XCTAssertTrue(($0 as! GitError).isConflict, "\($0)")
        }
        XCTAssertThrowsError(try repo.compareAndSwap(ref: "refs/hone/lock", to: two, expected: two)) {
            let e = $0 as! GitError
            XCTAssertTrue(e.isConflict)
            XCTAssertEqual(e.code, -15)
        }
        XCTAssertEqual(try fx.git("rev-parse", "refs/hone/lock", in: dir), one.hex)
        try repo.compareAndSwap(ref: "refs/hone/lock", to: two, expected: one)
        XCTAssertEqual(try fx.git("rev-parse", "refs/hone/lock", in: dir), two.hex)
        XCTAssertEqual(try repo.referenceTarget("refs/hone/lock"), two)
        XCTAssertNil(try repo.referenceTarget("refs/hone/none"))

        // Branch shorthand, moving main back.
        try repo.compareAndSwap(ref: "main", to: one, expected: two)
        XCTAssertEqual(try fx.git("rev-parse", "main", in: dir), one.hex)
    }

    func testStageMakesStatusClean() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["hone.yaml": "kind: Project\n", "status/old.yaml": "old\n", "status/dir/a": "a\n"])
        let repo = try Repository.open(dir)
        // hone writes files into the work tree, commits the same content, then stages those paths.
        let files = ["status/new/deep/run.yaml": "phase: Succeeded\n", "status/old.yaml": "updated\n"]
        for (p, c) in files { try fx.write(c, to: p, in: dir) }
        try FileManager.default.removeItem(atPath: dir + "/status/dir")
        var changes: [String: FileChange] = files.mapValues { .write(Data($0.utf8)) }
        changes["status/dir"] = .delete
        _ = try repo.writeCommit(branch: "main", parent: try repo.resolve("HEAD"), changes: changes,
                                 message: "record", author: hone)
        XCTAssertNotEqual(try fx.git("status", "--porcelain", in: dir), "", "index still at the old commit")
        try repo.stage(paths: Array(files.keys) + ["status/dir"])
        XCTAssertEqual(try fx.git("status", "--porcelain", in: dir), "")
        XCTAssertEqual(try repo.changedPaths(), [])

        // A folder path stages everything under it.
        try fx.write("x\n", to: "status/folder/x.yaml", in: dir)
        try fx.write("y\n", to: "status/folder/sub/y.yaml", in: dir)
        _ = try repo.writeCommit(branch: "main", parent: try repo.resolve("HEAD"),
                                 changes: ["status/folder/x.yaml": .write(Data("x\n".utf8)),
                                           "status/folder/sub/y.yaml": .write(Data("y\n".utf8))],
                                 message: "folder", author: hone)
        try repo.stage(paths: ["status/folder"])
        XCTAssertEqual(try fx.git("status", "--porcelain", in: dir), "")
    }

    func testChangedPaths() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["a.yaml": "a\n", "groups/g/run.yaml": "r\n", "groups/g/gone.yaml": "g\n",
                                          "other/keep": "k\n", ".gitignore": ".hone/\n"])
        let repo = try Repository.open(dir)
        XCTAssertEqual(try repo.changedPaths(), [])
        try fx.write("a changed\n", to: "a.yaml", in: dir)
        try fx.write("new\n", to: "groups/g/new/untracked.yaml", in: dir)
        try FileManager.default.removeItem(atPath: dir + "/groups/g/gone.yaml")
        try fx.write("staged\n", to: "other/staged", in: dir)
        try fx.git("add", "other/staged", in: dir)
        try fx.write("ignored\n", to: ".hone/store/blob", in: dir)

        let porcelain = try fx.git("status", "--porcelain", "--untracked-files=all", in: dir)
            .split(separator: "\n").map { String($0.dropFirst(3)) }.sorted()
        XCTAssertEqual(try repo.changedPaths(), porcelain)
        XCTAssertEqual(try repo.changedPaths(),
                       ["a.yaml", "groups/g/gone.yaml", "groups/g/new/untracked.yaml", "other/staged"])
        XCTAssertEqual(try repo.changedPaths(under: ["groups"]), ["groups/g/gone.yaml", "groups/g/new/untracked.yaml"])
        XCTAssertEqual(try repo.changedPaths(under: ["groups/g/", "a.yaml"]),
                       ["a.yaml", "groups/g/gone.yaml", "groups/g/new/untracked.yaml"])
        XCTAssertEqual(try repo.changedPaths(under: ["nothing-here"]), [])
    }

    func testDiffWithRename() throws {
        let fx = try GitFixture()
        let body = (0..<40).map { "line \($0) of a reasonably long file\n" }.joined()
        let dir = try fx.makeRepo(files: ["old/name.yaml": body, "mod.txt": "1\n", "del.txt": "d\n"])
        try FileManager.default.createDirectory(atPath: dir + "/new", withIntermediateDirectories: true)
        try fx.git("mv", "old/name.yaml", "new/name.yaml", in: dir)
        try fx.write("2\n", to: "mod.txt", in: dir)
        try fx.git("rm", "-q", "del.txt", in: dir)
        try fx.write("added\n", to: "add.txt", in: dir)
        try fx.git("add", "-A", in: dir)
        try fx.git("commit", "-q", "-m", "changes", in: dir)
        let repo = try Repository.open(dir)
        let diff = try repo.diff(from: try repo.resolve("HEAD~1"), to: try repo.resolve("HEAD"))
        XCTAssertEqual(Set(diff.map { "\($0.status) \($0.oldPath ?? "-") \($0.newPath ?? "-")" }), [
            "renamed old/name.yaml new/name.yaml",
            "modified mod.txt mod.txt",
            "deleted del.txt -",
            "added - add.txt",
        ])
        let fromEmpty = try repo.diff(from: nil, to: try repo.resolve("HEAD~1"))
        XCTAssertEqual(Set(fromEmpty.map(\.path)), ["old/name.yaml", "mod.txt", "del.txt"])
        XCTAssertTrue(fromEmpty.allSatisfy { $0.status == .added })
    }

    func testHistoryMatchesGitLog() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["groups/g/runs/a.yaml": "a1\n", "other.txt": "o1\n"])
        try fx.commitFiles(["other.txt": "o2\n"], message: "other", in: dir)
        try fx.commitFiles(["groups/g/runs/a.yaml": "a2\n"], message: "a2", in: dir)
        try fx.commitFiles(["groups/g/runs/b.yaml": "b1\n"], message: "b1", in: dir)
        try fx.git("rm", "-q", "groups/g/runs/a.yaml", in: dir)
        try fx.git("commit", "-q", "-m", "rm a", in: dir)
        try fx.commitFiles(["groups/g/runs/a.yaml": "a3\n"], message: "a3", in: dir)
        try fx.write("a3\n", to: "groups/g/runs/a.yaml", in: dir, executable: true)
        try fx.git("commit", "-q", "-am", "chmod a", in: dir)
        try fx.commitFiles(["other.txt": "o3\n"], message: "other again", in: dir)

        let repo = try Repository.open(dir)
        let head = try repo.resolve("HEAD")
        for path in ["groups/g/runs/a.yaml", "groups/g/runs", "groups/g/runs/", "groups", "other.txt", "missing"] {
            let expected = try fx.git("log", "--format=%H", "HEAD", "--", path, in: dir)
                .split(separator: "\n").map(String.init)
            XCTAssertEqual(try repo.history(of: path, from: head).map(\.id.hex), expected, path)
        }
        XCTAssertEqual(try repo.history(of: "", from: head).count, 8)
        XCTAssertEqual(try repo.history(of: "groups", from: head, limit: 2).map(\.subject), ["chmod a", "a3"])
        XCTAssertEqual(try repo.lastCommit(touching: "groups/g/runs/b.yaml", from: head)?.subject, "b1")
        XCTAssertEqual(try repo.lastCommit(touching: "other.txt", from: try repo.resolve("HEAD~1"))?.subject, "other")
        XCTAssertNil(try repo.lastCommit(touching: "missing", from: head))
    }
}
