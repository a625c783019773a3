import Foundation
import XCTest

/// Every job starts in a fresh `src/` even though hone recycles the `src/` folders of finished jobs
/// (`.hone/snapshots/<key>.spare/`): a folder a job changed is never handed to the next one.
final class SnapshotReuseTests: XCTestCase {
    /// Evals of base@v1 on d@v1 in group g, one per name, all running `handler`.
    func writeEvals(_ names: [String], handler: String, in repo: HoneRepo) throws {
        for name in names {
            try repo.write("groups/g/evals/\(name).yaml", """
                kind: Eval
                model: base@v1
                dataset: d@v1
                handler: '\(handler)'
                """)
        }
    }

    func testEveryJobSeesThePristineTreeAfterEarlierJobsScribbledInTheirs() throws {
        let repo = try HoneRepo(maxParallel: 1)
        // Each job checks it got the committed tree, then adds a file, removes one and empties a folder.
        let handler = #"test -e hone.yaml && test -e handlers/job.py && test ! -e scribble.txt && echo x > scribble.txt && rm -f hone.yaml && rm -rf datasets"#
        try writeEvals(["e1", "e2", "e3", "e4", "e5"], handler: handler, in: repo)
        try repo.commit("evals that scribble in their working folder")
        try repo.reconcile()
        for name in ["e1", "e2", "e3", "e4", "e5"] {
            let s = try XCTUnwrap(repo.evalStatus(name))
            XCTAssertEqual(s.phase, .succeeded, "\(name) did not get a fresh src/: \(s.events.map(\.message))")
        }
        // An untouched folder is recycled too: jobs that leave src/ alone still each get the whole tree.
        try writeEvals(["f1", "f2", "f3"], handler: "test -e hone.yaml && test -e datasets/d/v1.yaml && test ! -e scribble.txt", in: repo)
        try repo.commit("evals that only read")
        try repo.reconcile()
        for name in ["f1", "f2", "f3"] {
            XCTAssertEqual(try XCTUnwrap(repo.evalStatus(name)).phase, .succeeded, name)
        }
        try repo.assertHealthy()
    }
}
