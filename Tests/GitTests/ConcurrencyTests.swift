import Foundation
import XCTest
@testable import Git

final class ConcurrencyTests: XCTestCase {
    /// Eight tasks, each with its own handle, append to one branch, retrying when they lose the race:
    /// the race guard of writeCommit keeps the history linear and loses no commit.
    func testRacingWritersMakeALinearHistory() async throws {
        let fx = try GitFixture()
        let dir = try fx.makeRepo(files: ["hone.yaml": "kind: Project\n"])
        let writers = 8, commitsEach = 5
        try await withThrowingTaskGroup(of: Int.self) { group in
            for w in 0..<writers {
                group.addTask {
                    let repo = try Repository.open(dir)
                    var conflicts = 0
                    for c in 0..<commitsEach {
                        while true {
                            let tip = try repo.resolve("refs/heads/main")
                            do {
                                _ = try repo.writeCommit(branch: "main", parent: tip,
                                                         changes: ["status/w\(w)/c\(c)": .write(Data("\(w)-\(c)".utf8))],
                                                         message: "w\(w) c\(c)", author: repo.defaultSignature())
                                break
                            } catch let e as GitError where e.isConflict {
                                conflicts += 1
                            }
                        }
                    }
                    return conflicts
                }
            }
            for try await _ in group {}
        }
        let log = try fx.git("log", "--format=%H %P", "main", in: dir).split(separator: "\n")
        XCTAssertEqual(log.count, writers * commitsEach + 1)
        XCTAssertTrue(log.allSatisfy { $0.split(separator: " ").count <= 2 }, "no merges")
        XCTAssertEqual(try fx.git("ls-tree", "-r", "--name-only", "main", "status", in: dir).split(separator: "\n").count,
                       writers * commitsEach)
        try fx.git("fsck", "--strict", in: dir)
    }

    func testObjectIDCodable() throws {
        let id = ObjectID(hex: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")!
        let data = try JSONEncoder().encode([id])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"]"#)
        XCTAssertEqual(try JSONDecoder().decode([ObjectID].self, from: data), [id])
        XCTAssertThrowsError(try JSONDecoder().decode([ObjectID].self, from: Data(#"["zz"]"#.utf8)))
    }
}
