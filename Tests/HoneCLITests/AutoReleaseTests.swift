import Foundation
import XCTest

/// autoRelease on the local pool is enforced by the job itself: its watchdog ends its processes at the
/// release time with no reconciler running; the next reconcile records AutoReleased once and counts the
/// job as finished. A job waiting for a pool slot is listed as Queued, with its reason.
final class AutoReleaseTests: XCTestCase {
    static let env = HoneRepoFixture.gitIdentity

    func alive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// The pid the handler of the eval's job wrote, once it has.
    func handlerPid(_ f: HoneRepoFixture, deadline: Date) -> Int32? {
        let jobs = f.root.appendingPathComponent(".hone/jobs")
        while Date() < deadline {
            for job in (try? FileManager.default.contentsOfDirectory(atPath: jobs.path)) ?? [] {
                let file = jobs.appendingPathComponent(job).appendingPathComponent("job.json.handler-pid")
                if let text = try? String(contentsOf: file, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    return pid
                }
            }
            usleep(50_000)
        }
        return nil
    }

    func testTheJobEndsItselfAtItsReleaseTimeAndIsRecordedOnce() throws {
        let f = try HoneRepoFixture()
        try f.write("hone.yaml", "kind: Project\nname: fixture\npools:\n  local:\n    executor: local\n    maxParallel: 1\n")
        try f.group("g", "Group G")
        // A server that never ends by itself, with a background child of its own.
        try f.write("handlers/serve.sh", "sleep 700 &\necho $$ > \"$HONE_JOB.handler-pid\"\necho serving\nwhile :; do sleep 1; done\n")
        for name in ["a", "b"] {
            try f.write("groups/g/evals/\(name).yaml", "kind: Eval\nmodel: base@v1\ndataset: d@v1\nhandler: bash handlers/serve.sh\nautoRelease: 3s\n")
        }
        try f.write("groups/g/views/waiting.yaml", "kind: View\nfilter: {phase: Queued}\n")
        try f.commitAll()
        let launch = try runHone(["reconcile"], in: f.root, environment: Self.env)
        XCTAssertEqual(launch.status, 0, launch.stdout + launch.stderr)
        XCTAssertTrue(launch.stderr.contains("g/b: queued (pool local runs at most 1 job at a time)"), launch.stderr)
        let list = try runHone(["get", "evals"], in: f.root)
        XCTAssertTrue(list.lines.contains { $0.hasPrefix("b ") && $0.contains("Queued") }, list.stdout)
        XCTAssertTrue(list.lines.contains { $0.hasPrefix("a ") && !$0.contains("Queued") }, list.stdout)
        let waiting = try runHone(["get", "evals", "--group", "g", "--view", "waiting"], in: f.root)
        XCTAssertEqual(waiting.status, 0, waiting.stderr)
        XCTAssertTrue(waiting.lines.contains { $0.hasPrefix("b ") } && !waiting.lines.contains { $0.hasPrefix("a ") }, waiting.stdout)
        let describe = try runHone(["describe", "eval", "g/b"], in: f.root)
        XCTAssertTrue(describe.stdout.contains("Queued: pool local runs at most 1 job at a time: waiting for a free slot"), describe.stdout)

        // No reconciler runs from here: the job's own watchdog ends it (and its child) at the release time.
        guard let pid = handlerPid(f, deadline: Date().addingTimeInterval(30)) else { return XCTFail("the handler never started") }
        let deadline = Date().addingTimeInterval(30)
        while alive(pid) && Date() < deadline { usleep(100_000) }
        XCTAssertFalse(alive(pid), "the handler still runs 30 s after its release time")
        let jobs = try FileManager.default.contentsOfDirectory(atPath: f.root.appendingPathComponent(".hone/jobs").path)
        XCTAssertEqual(jobs.count, 1, "b waits for the slot")
        let dir = f.root.appendingPathComponent(".hone/jobs/\(jobs[0])")
        var exitcode: String? = nil
        while exitcode == nil && Date() < deadline { exitcode = try? String(contentsOf: dir.appendingPathComponent("exitcode"), encoding: .utf8); usleep(50_000) }
        XCTAssertNotNil(exitcode, "run.sh recorded the end")
        XCTAssertTrue((try? String(contentsOf: dir.appendingPathComponent("released"), encoding: .utf8))?.contains("autoRelease 3s") ?? false)
        XCTAssertFalse(Self.processes(carrying: "HONE_JOB=" + dir.appendingPathComponent("job.json").path).contains { $0 != getpid() },
                       "the handler's background child ended with it")

        let collect = try runHone(["reconcile"], in: f.root, environment: Self.env)
        XCTAssertEqual(collect.status, 0, collect.stdout + collect.stderr)
        XCTAssertTrue(collect.stdout.contains("1 finished (1 Cancelled: g/a)"), collect.stdout)
        var status = try f.read("status/groups/g/evals/a.yaml")
        XCTAssertTrue(status.contains("phase: Cancelled"), status)
        XCTAssertEqual(status.components(separatedBy: "reason: AutoReleased").count - 1, 1, status)
        XCTAssertTrue(status.contains("the job ended itself at its release time"), status)
        XCTAssertFalse(status.contains("reason: Failed"), status)
        // b got the slot; a is recorded once, however often reconcile runs.
        XCTAssertTrue(collect.stderr.contains("launched g/b"), collect.stderr)
        _ = try runHone(["reconcile"], in: f.root, environment: Self.env)
        status = try f.read("status/groups/g/evals/a.yaml")
        XCTAssertEqual(status.components(separatedBy: "reason: AutoReleased").count - 1, 1, status)
        let waitAll = try runHone(["reconcile", "--wait", "--timeout", "60s"], in: f.root, environment: Self.env)
        XCTAssertEqual(waitAll.status, 0, waitAll.stdout + waitAll.stderr)
        let b = try f.read("status/groups/g/evals/b.yaml")
        XCTAssertEqual(b.components(separatedBy: "reason: AutoReleased").count - 1, 1, b)
    }

    static func processes(carrying tag: String) -> [Int32] {
        let needle = Array(tag.utf8)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { return nil }
            return data.split(separator: 0).contains { $0.elementsEqual(needle) } ? pid : nil
        }
    }
}
