import Foundation
import Git
import HoneExecutors
import HoneLoading
import HoneModel

/// What `hone cancel` did on a branch.
public struct BranchCancelSummary {
    /// Attempts cancelled ("g/ft attempt 1 (ft-1-…)").
    public var cancelled: [String] = []
    /// Attempts left running because another branch records the same job (same id), with those branches.
    public var shared: [(object: String, id: String, branches: [String])] = []
    /// Attempts whose cancel the executor did not confirm (retried by the next `hone cancel`).
    public var failed: [String] = []
    public var commits: [ObjectID] = []
}

/// `hone cancel`: a pull request closed without merging must not keep GPUs busy. Every queued or running
/// attempt the branch records is cancelled through its pool's executor and recorded Cancelled on the branch —
/// except jobs another branch also records (two pull requests declaring the identical run share one job, and a
/// merged twin needs it): those keep running.
extension Reconciler {
    public func cancelBranchJobs(reason: String) throws -> BranchCancelSummary {
        let lock = try RepositoryLock(root: workspace.root, timeout: options.lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        guard recorder.tip != nil else { throw HoneError("branch \(branch) has no commits yet: nothing to cancel") }
        if recorder.syncWorkTree { try checkWorkTree() }
        let load = try load()
        let project = load.desired.project
        let store = ArtifactStore(project: project, repositoryRoot: workspace.root)
        let others = try otherBranchTips()
        let now = Date()
        var changes = ChangeSet()
        var out = BranchCancelSummary()
        for var s in load.recorded.statuses.values.sorted(by: { $0.key < $1.key }) where s.phase.isActive {
            let users = others.filter { recordsActive(s, at: $0.tip) }.map(\.name)
            if !users.isEmpty {
                out.shared.append((s.key.display, s.id, users))
                progress("left \(s.key.display) attempt \(s.attempt) (\(s.id)) running: \(users.joined(separator: ", ")) also record\(users.count == 1 ? "s" : "") it")
                continue
            }
            if let why = cancelUnconfirmed(s, id: s.id, project: project) {
                try recordCancelFailure(&s, id: s.id, why: why, now: now, into: &changes)
                out.failed.append("\(s.key.display) (\(s.id)): \(why)")
                continue
            }
            try collectLogs(&s, store: store, project: project, into: &changes)
            finish(&s, phase: .cancelled, at: now, project: project)
            s.events.append(StatusEvent(at: Timestamp.string(now), type: .warning, reason: "Cancelled",
                                        message: "cancelled by `hone cancel`: \(reason)", task: s.tasks.first?.name))
            try writeStatus(s, into: &changes)
            changes.action("cancel", s.key, id: s.id, line: "cancel \(s.key.display): \(reason)")
            out.cancelled.append("\(s.key.display) attempt \(s.attempt) (\(s.id))")
            progress("cancelled \(s.key.display) attempt \(s.attempt) (\(s.id)): \(reason)")
        }
        try recorder.record(changes, subject: "hone: " + describe(changes))
        out.commits = recorder.commits
        return out
    }

    /// The tips of every other branch this clone knows — local branches and remote-tracking ones — but not this
    /// branch's own copies (`origin/<branch>`), by their short names.
    func otherBranchTips() throws -> [(name: String, tip: ObjectID)] {
        var out: [(String, ObjectID)] = []
        for ref in try repository.references(matching: "refs/heads/*") + repository.references(matching: "refs/remotes/*") {
            let short = ref.hasPrefix("refs/heads/") ? String(ref.dropFirst("refs/heads/".count)) : String(ref.dropFirst("refs/remotes/".count))
            let own = ref.hasPrefix("refs/heads/") ? short == branch : short.split(separator: "/", maxSplits: 1).last.map(String.init) == branch
            guard !own, !ref.hasSuffix("/HEAD"), let tip = try repository.referenceTarget(ref) else { continue }
            out.append((short, tip))
        }
        return out
    }

    /// Whether the commit `tip` records the attempt `s` (same object, same job id) as queued or running.
    func recordsActive(_ s: ObjectStatus, at tip: ObjectID) -> Bool {
        guard let data = try? repository.blob(at: s.key.statusPath, in: tip) else { return false }
        let (other, _) = StatusCodec.decode(s.key, text: String(decoding: data, as: UTF8.self), path: s.key.statusPath)
        return other.map { $0.id == s.id && $0.phase.isActive } ?? false
    }
}
