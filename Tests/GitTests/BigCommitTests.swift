import Foundation
import XCTest
@testable import Git

/// Commits with many files (written as one packfile) and the index sync that trusts the commit's tree.
final class BigCommitTests: XCTestCase {
    let hone = Signature(name: "hone bot", email: "bot@hone.dev", time: Date(timeIntervalSince1970: 1_700_000_000))

    private func statusFiles(_ n: Int, prefix: String = "status/groups/g/evals/e") -> [String: String] {
        var files: [String: String] = [:]
        for i in 0..<n { files["\(prefix)\(i).yaml"] = "kind: EvalStatus\nphase: Pending\nid: \(i * 7919)\n" }
        return files
    }

    private func looseObjectCount(_ fx: GitFixture, _ dir: String) throws -> String {
        try fx.git("count-objects", "-v", in: dir).split(separator: "\n").first { $0.hasPrefix("count:") }.map(String.init) ?? ""
    }

    func testBigCommitIsOnePackfileThatGitReads() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["hone.yaml": "kind: Project\n", "keep.txt": "keep\n"])
        let repo = try Repository.open(dir)
        let parent = try repo.resolve("HEAD")
        let files = statusFiles(Repository.packThreshold * 3)
        var changes: [String: FileChange] = files.mapValues { .write(Data($0.utf8)) }
        changes["bin/tool"] = .write(Data("#!/bin/sh\n".utf8), executable: true)
        changes["copy.yaml"] = .write(Data("kind: Project\n".utf8))   // a blob the repository already has
        changes["keep.txt"] = .delete
        let loose = try looseObjectCount(fx, dir)
        let packsBefore = try FileManager.default.contentsOfDirectory(atPath: dir + "/.git/objects/pack").filter { $0.hasSuffix(".pack") }

        let id = try repo.writeCommit(branch: "main", parent: parent, changes: changes, message: "record", author: hone)

        XCTAssertEqual(try fx.git("rev-parse", "main", in: dir), id.hex)
        try fx.git("fsck", "--strict", "--no-dangling", in: dir)
        XCTAssertEqual(try looseObjectCount(fx, dir), loose, "no loose object written")
        let packs = try FileManager.default.contentsOfDirectory(atPath: dir + "/.git/objects/pack").filter { $0.hasSuffix(".pack") }
        XCTAssertEqual(packs.count, packsBefore.count + 1)
        XCTAssertEqual(try fx.git("log", "-1", "--format=%P %s", "main", in: dir), "\(parent.hex) record")
        XCTAssertEqual(try fx.git("show", "main:status/groups/g/evals/e5.yaml", in: dir), "kind: EvalStatus\nphase: Pending\nid: 39595")
        XCTAssertEqual(try fx.git("ls-tree", "-r", "--name-only", "main", in: dir).split(separator: "\n").count, files.count + 3)
        XCTAssertTrue(try fx.git("ls-tree", "main", "bin/tool", in: dir).hasPrefix("100755 blob"))
        XCTAssertEqual(try fx.git("rev-parse", "main:copy.yaml", in: dir), try fx.git("rev-parse", "main:hone.yaml", in: dir))
        XCTAssertEqual(try fx.git("reflog", "-1", "--format=%gs", "main", in: dir), "commit: record")
        // The same handle reads what it just packed.
        XCTAssertEqual(try repo.blob(at: "status/groups/g/evals/e5.yaml", in: id), Data(files["status/groups/g/evals/e5.yaml"]!.utf8))

        // The race guard holds for packed commits: a stale parent leaves the branch alone.
        XCTAssertThrowsError(try repo.writeCommit(branch: "main", parent: parent, changes: changes, message: "late", author: hone)) { e in
            XCTAssertTrue((e as? GitError)?.isConflict == true, "\(e)")
        }
        XCTAssertEqual(try fx.git("rev-parse", "main", in: dir), id.hex)
        // A detached one moves no ref, and git reads it.
        let detached = try repo.writeCommitDetached(parent: id, changes: statusFiles(100, prefix: "status/x/").mapValues { .write(Data($0.utf8)) },
                                                    message: "detached", author: hone)
        XCTAssertEqual(try fx.git("rev-parse", "main", in: dir), id.hex)
        XCTAssertEqual(try fx.git("log", "-1", "--format=%s", detached.hex, in: dir), "detached")
        try fx.git("fsck", "--strict", in: dir)
    }

    func testSyncIndexFromCommitMakesStatusClean() throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["hone.yaml": "kind: Project\n", "status/old.yaml": "old\n", "status/dir/a": "a\n"])
        let repo = try Repository.open(dir)
        // hone commits, writes the same content into the work tree, then syncs the index from the commit.
        var files = statusFiles(150)
        files["status/old.yaml"] = "updated\n"
        var changes: [String: FileChange] = files.mapValues { .write(Data($0.utf8)) }
        changes["status/dir"] = .delete
        changes["bin/tool"] = .write(Data("#!/bin/sh\n".utf8), executable: true)
        changes["status/lost.yaml"] = .write(Data("never written to the work tree\n".utf8))
        let id = try repo.writeCommit(branch: "main", parent: try repo.resolve("HEAD"), changes: changes,
                                      message: "record", author: hone)
        for (p, c) in files { try fx.write(c, to: p, in: dir) }
        try fx.write("#!/bin/sh\n", to: "bin/tool", in: dir, executable: true)
        try FileManager.default.removeItem(atPath: dir + "/status/dir")
        XCTAssertNotEqual(try fx.git("status", "--porcelain", in: dir), "", "index still at the old commit")

        try repo.syncIndex(with: id, paths: Array(changes.keys))

        // The one file hone did not write is staged as the work tree has it (absent), not as committed.
        XCTAssertEqual(try fx.git("status", "--porcelain", in: dir), "D  status/lost.yaml")
        XCTAssertEqual(try repo.changedPaths(), ["status/lost.yaml"])
        XCTAssertEqual(try fx.git("rev-parse", ":status/groups/g/evals/e42.yaml", in: dir),
                       try fx.git("rev-parse", "main:status/groups/g/evals/e42.yaml", in: dir))
        XCTAssertTrue(try fx.git("ls-files", "-s", "bin/tool", in: dir).hasPrefix("100755 "))
        XCTAssertEqual(try fx.git("ls-files", "status/dir", in: dir), "")

        // A small (loose-object) commit, then a change to the work tree after the sync is still seen.
        try fx.write("lost no more\n", to: "status/lost.yaml", in: dir)
        let next = try repo.writeCommit(branch: "main", parent: id, changes: ["status/lost.yaml": .write(Data("lost no more\n".utf8))],
                                        message: "found", author: hone)
        try repo.syncIndex(with: next, paths: ["status/lost.yaml"])
        XCTAssertEqual(try fx.git("status", "--porcelain", in: dir), "")
        try fx.write("edited by hand, longer than before\n", to: "status/groups/g/evals/e7.yaml", in: dir)
        XCTAssertEqual(try fx.git("status", "--porcelain", in: dir), " M status/groups/g/evals/e7.yaml")
        try fx.git("fsck", "--strict", in: dir)
    }
}
