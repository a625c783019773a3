import Foundation
import XCTest
@testable import Git

final class RepositoryReadTests: XCTestCase {
    func testOpenResolveAndBranches() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["a.txt": "one\n", "src/b.txt": "two\n"])
        try fx.commitFiles(["a.txt": "one, again\n"], message: "second", in: dir)
        try fx.git("branch", "feature", "HEAD~1", in: dir)
        try fx.git("tag", "-a", "v1", "-m", "annotated", "HEAD~1", in: dir)

        let repo = try Repository.open(dir + "/src")   // discovery upward
        let realDir = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        XCTAssertEqual(repo.workdir.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }, realDir)
        XCTAssertTrue(repo.gitDir.hasSuffix("/.git"))
        XCTAssertFalse(repo.workdir!.hasSuffix("/"))

        let head = try fx.git("rev-parse", "HEAD", in: dir)
        let first = try fx.git("rev-parse", "HEAD~1", in: dir)
        XCTAssertEqual(try repo.resolve("HEAD").hex, head)
        XCTAssertEqual(try repo.resolve("main").hex, head)
        XCTAssertEqual(try repo.resolve("refs/heads/main").hex, head)
        XCTAssertEqual(try repo.resolve("HEAD~1").hex, first)
        XCTAssertEqual(try repo.resolve("feature").hex, first)
        XCTAssertEqual(try repo.resolve("v1").hex, first, "annotated tags peel to their commit")
        XCTAssertEqual(try repo.resolve(String(head.prefix(8))).hex, head)
        XCTAssertEqual(try repo.resolve(head).hex, head)
        XCTAssertEqual(try repo.headCommit()?.hex, head)
        XCTAssertEqual(try repo.currentBranch(), "main")

        // Open through the .git folder too.
        let viaGitDir = try Repository.open(dir + "/.git")
        XCTAssertEqual(try viaGitDir.resolve("HEAD").hex, head)

        // Detached HEAD.
        try fx.git("checkout", "-q", "--detach", "HEAD~1", in: dir)
        let detached = try Repository.open(dir)
        XCTAssertNil(try detached.currentBranch())
        XCTAssertEqual(try detached.headCommit()?.hex, first)
    }

    func testErrors() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["a": "a"])
        let repo = try Repository.open(dir)
        XCTAssertThrowsError(try repo.resolve("no-such-branch")) { error in
            let e = error as! GitError
            XCTAssertTrue(e.isNotFound, "\(e)")
            XCTAssertEqual(e.function, "git_revparse_single")
            XCTAssertTrue(e.description.hasPrefix("git_revparse_single failed (-3, class "), e.description)
        }
        XCTAssertThrowsError(try Repository.open(fx.path("nowhere"))) { error in
            XCTAssertTrue((error as! GitError).description.contains("git_repository_open_ext"))
        }
        XCTAssertNil(ObjectID(hex: "xyz"))
        XCTAssertNotNil(ObjectID(hex: String(repeating: "A", count: 40)))
        let missing = ObjectID(hex: String(repeating: "1", count: 40))!
        XCTAssertThrowsError(try repo.readBlob(missing)) { XCTAssertTrue(($0 as! GitError).isNotFound) }
    }

    /// Ids are kept as bytes: their text, order and equality must still be those of the 40 hex digits.
    func testObjectIDsKeepTheirTextAndOrder() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["a": "a", "b": "bb", "c/d": "ddd"])
        let repo = try Repository.open(dir)
        let entries = try repo.tree(of: try repo.resolve("HEAD"))
        XCTAssertEqual(entries.map(\.path), ["a", "b", "c/d"])
        for e in entries {
            XCTAssertEqual(e.blob.hex, try fx.git("rev-parse", "HEAD:\(e.path)", in: dir))
            XCTAssertEqual(ObjectID(hex: e.blob.hex), e.blob)
            XCTAssertEqual(ObjectID(hex: e.blob.hex.uppercased()), e.blob)
            XCTAssertEqual(try repo.readBlobBytes(e.blob), Array(try repo.readBlob(e.blob)))
        }
        let ids = entries.map(\.blob) + [ObjectID(hex: "00000000000000000000000000000000000000ff")!,
                                        ObjectID(hex: "ff00000000000000000000000000000000000000")!,
                                        ObjectID(hex: "0000000000000000ff0000000000000000000000")!]
        XCTAssertEqual(ids.sorted().map(\.hex), ids.map(\.hex).sorted())
        XCTAssertEqual(Set(ids).count, ids.count)
        XCTAssertNil(ObjectID(hex: String(repeating: "a", count: 41)))
        XCTAssertNil(ObjectID(hex: String(repeating: "a", count: 39) + "g"))
    }

    func testCreateUnbornAndBare() throws {
        let fx = try GitFixture()
        let repo = try Repository.create(at: fx.path("new/deeper"))
        XCTAssertEqual(try repo.currentBranch(), "main")
        XCTAssertNil(try repo.headCommit())
        XCTAssertEqual(try fx.git("symbolic-ref", "HEAD", in: fx.path("new/deeper")), "refs/heads/main")

        let trunk = try Repository.create(at: fx.path("trunk"), initialBranch: "trunk")
        XCTAssertEqual(try trunk.currentBranch(), "trunk")

        let bare = try Repository.create(at: fx.path("bare.git"), bare: true)
        XCTAssertNil(bare.workdir)
        XCTAssertTrue(bare.isBare)
        XCTAssertEqual(try bare.currentBranch(), "main")
        XCTAssertEqual(try fx.git("rev-parse", "--is-bare-repository", in: fx.path("bare.git")), "true")
        let reopened = try Repository.open(fx.path("bare.git"))
        XCTAssertNil(reopened.workdir)
    }

    func testCommitInfo() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["a": "a"])
        try fx.commitFiles(["b": "b"], message: "second line one\n\nbody here\n\nHone-Action: create x id=1", in: dir)
        let repo = try Repository.open(dir)
        let info = try repo.commit(try repo.resolve("HEAD"))
        XCTAssertEqual(info.id.hex, try fx.git("rev-parse", "HEAD", in: dir))
        XCTAssertEqual(info.tree.hex, try fx.git("rev-parse", "HEAD^{tree}", in: dir))
        XCTAssertEqual(info.parents.map(\.hex), [try fx.git("rev-parse", "HEAD~1", in: dir)])
        XCTAssertEqual(info.author.name, "Fixture Author")
        XCTAssertEqual(info.author.email, "author@example.com")
        XCTAssertEqual(info.committer.name, "Fixture Committer")
        XCTAssertEqual(info.subject, "second line one")
        XCTAssertEqual(info.message, "second line one\n\nbody here\n\nHone-Action: create x id=1\n")
        XCTAssertEqual(Int(info.author.time.timeIntervalSince1970),
                       Int(try fx.git("log", "-1", "--format=%at", in: dir)))
        let root = try repo.commit(info.parents[0])
        XCTAssertEqual(root.parents, [])
    }

    func testTreeListingMatchesLsTree() throws {
        let fx = try GitFixture()
        var files: [String: String] = [:]
        for i in 0..<30 { files["data/set\(i % 3)/file-\(i).txt"] = "content \(i)\n" }
        files["README.md"] = "readme\n"
        files["a-b/c.txt"] = "dash\n"
        files["a.b"] = "dot\n"
        files["a/z.txt"] = "nested\n"
        let dir = try fx.makeRepo(files: files)
        try fx.write("#!/bin/sh\necho hi\n", to: "scripts/run.sh", in: dir, executable: true)
        try fx.git("add", "-A", in: dir)
        try fx.git("commit", "-q", "-m", "exec", in: dir)

        let repo = try Repository.open(dir)
        let head = try repo.resolve("HEAD")
        let entries = try repo.tree(of: head)
        let expected = try fx.git("ls-tree", "-r", "HEAD", in: dir).split(separator: "\n").map { line -> String in
            let parts = line.split(separator: "\t", maxSplits: 1)
            let meta = parts[0].split(separator: " ")
            return "\(meta[0]) \(meta[2]) \(parts[1])"
        }
        let actual = entries.map { "\($0.executable ? "100755" : "100644") \($0.blob.hex) \($0.path)" }
        XCTAssertEqual(actual, expected, "same entries in the same (git) order")

        let sub = try repo.tree(of: head, under: "data/set1/")
        let expectedSub = try fx.git("ls-tree", "-r", "--name-only", "HEAD", "--", "data/set1", in: dir)
            .split(separator: "\n").map(String.init)
        XCTAssertEqual(sub.map(\.path), expectedSub)
        XCTAssertEqual(try repo.tree(of: head, under: "nope"), [])
        XCTAssertEqual(try repo.tree(of: head, under: "README.md").map(\.path), ["README.md"])
        XCTAssertEqual(try repo.tree(of: head, under: "").count, entries.count)
    }

    func testBlobs() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["dir/file.yaml": "kind: Run\nname: x\n", "empty": ""])
        let repo = try Repository.open(dir)
        let head = try repo.resolve("HEAD")
        XCTAssertEqual(try repo.blob(at: "dir/file.yaml", in: head), Data("kind: Run\nname: x\n".utf8))
        XCTAssertEqual(try repo.blob(at: "empty", in: head), Data())
        XCTAssertNil(try repo.blob(at: "dir/missing.yaml", in: head))
        XCTAssertNil(try repo.blob(at: "missing/deeper/file", in: head))
        XCTAssertNil(try repo.blob(at: "dir", in: head), "a folder is not a blob")

        let id = try XCTUnwrap(repo.tree(of: head).first { $0.path == "dir/file.yaml" }?.blob)
        XCTAssertEqual(try repo.readBlob(id), Data("kind: Run\nname: x\n".utf8))

        let data = Data("hash me\n".utf8)
        try data.write(to: URL(fileURLWithPath: fx.path("h.txt")))
        XCTAssertEqual(try repo.hashBlob(data).hex, try fx.git("hash-object", fx.path("h.txt"), in: dir))
        XCTAssertEqual(try repo.hashBlob(Data()).hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
    }

    func testConfigAndSignature() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo()
        try fx.git("config", "user.name", "Config Name", in: dir)
        try fx.git("config", "user.email", "config@example.com", in: dir)
        try fx.git("config", "hone.something", "value", in: dir)
        let repo = try Repository.open(dir)
        XCTAssertEqual(repo.config("hone.something"), "value")
        XCTAssertNil(repo.config("hone.absent"))
        let sig = repo.defaultSignature()
        XCTAssertEqual(sig.name, "Config Name")
        XCTAssertEqual(sig.email, "config@example.com")
    }

    func testLargeTreeIsFast() throws {
        let fx = try GitFixture()
        let repo = try Repository.create(at: fx.path("big"))
        var changes: [String: FileChange] = [:]
        for i in 0..<12_000 {
            changes["status/group\(i % 40)/run-\(i)/status.yaml"] = .write(Data("phase: Succeeded\nn: \(i)\n".utf8))
        }
        let sig = Signature(name: "hone", email: "hone@localhost")
        let start = Date()
        let commit = try repo.writeCommit(branch: "main", parent: nil, changes: changes, message: "big", author: sig)
        let written = Date()
        let entries = try repo.tree(of: commit)
        XCTAssertEqual(entries.count, 12_000)
        var bytes = 0
        for e in entries { bytes += try repo.readBlob(e.blob).count }
        let read = Date()
        XCTAssertGreaterThan(bytes, 12_000 * 20)
        print("12,000 files: write \(written.timeIntervalSince(start))s, list+read \(read.timeIntervalSince(written))s")
        XCTAssertLessThan(read.timeIntervalSince(written), 10, "listing and reading 12,000 blobs must be fast")
        XCTAssertEqual(try fx.git("ls-tree", "-r", "--name-only", "main", in: fx.path("big")).split(separator: "\n").count,
                       12_000)
    }
}
