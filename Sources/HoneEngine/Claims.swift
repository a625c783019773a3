import Foundation
import Git
import HoneExecutors
import HoneLoading
import HoneModel
import YAML

/// Claims: exactly one reconciler launches a given attempt, also when several clones reconcile at once
/// (two CI runners, a person beside CI). Before launching, a reconciler records `claimedBy: <itself>` in
/// the attempt's status; with `--push` it launches only once the remote accepted that claim. A push the
/// remote rejects is re-applied on the remote's tip without the statuses someone else changed meanwhile
/// (see `Recorder`), so of two claims for one attempt only the first to reach the remote survives: the other
/// reconciler finds the winner's claim when it reloads and adopts it — it launches nothing.
extension Reconciler {
    /// `host:/path/of/the/clone`: stable across reconciles of one clone (a reconciler that died after its
    /// claim launches the attempt at its next run), distinct for two clones on one machine.
    static func identity(root: URL) -> String {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(cString: name) : ProcessInfo.processInfo.hostName
        return "\(host):\(root.standardizedFileURL.path)"
    }

    func isClaimedByOther(_ s: ObjectStatus) -> Bool {
        if let by = s.claimedBy, by != claimant { return true }
        return false
    }

    func noteClaimedByOther(_ s: ObjectStatus) {
        guard claimNoted.insert(s.id).inserted else { return }
        progress("\(s.key.display) (\(s.id)) is claimed by \(s.claimedBy ?? "?"): left to that reconciler")
    }

    /// Claims these attempts and returns those this reconciler may launch now. Without a remote, the
    /// repository lock makes the claim ours at once (it is recorded with the launch). With `--push`: one
    /// claim commit, pushed; an attempt is ours only when the commit the remote accepted holds our claim.
    func claim(_ wanted: [ObjectStatus], now: Date) throws -> [ObjectStatus] {
        guard !wanted.isEmpty else { return [] }
        let claimed = wanted.map { w -> ObjectStatus in
            var s = w
            s.claimedBy = claimant
            if options.push != nil, !options.noCommit {
                s.events.append(StatusEvent(at: Timestamp.string(now), reason: "Claimed", message: "claimed for launching by \(claimant)"))
            }
            return s
        }
        guard options.push != nil, !options.noCommit else { return claimed }
        var changes = ChangeSet()
        var written: [String: Data] = [:]
        for s in claimed {
            let text = try YAMLEmitter.emit(StatusCodec.encode(s))
            changes.write(s.key.statusPath, text)
            written[s.key.statusPath] = Data(text.utf8)
            changes.action("claim", s.key, id: s.id, line: "claim \(s.key.display) attempt \(s.attempt) for launching")
        }
        // What waits is committed first: our commits stay in the order things happened.
        try flush()
        try recorder.record(changes, subject: "hone: " + describe(changes))
        carryLoad(over: changes, statuses: Dictionary(claimed.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }))
        guard let pushed = recorder.lastPushed else { return [] }
        return try claimed.filter { s in
            let onRemote = try repository.blob(at: s.key.statusPath, in: pushed)
            if onRemote == written[s.key.statusPath] { return true }
            progress("\(s.key.display) (\(s.id)): another reconciler claimed it first: adopting its claim, not launching")
            return false
        }
    }

    /// A local job launched before whose folder is gone (`rm -rf .hone`) — or going: a folder half removed
    /// looks lost (no lock, no exit code) — but whose process still runs is running, not lost: it is adopted
    /// and recorded Lost only once its process is gone.
    func vanishedStillRunning(_ s: ObjectStatus, _ exec: Executor, _ state: JobState) -> JobState {
        let gone: Bool
        switch state {
        case .notFound: gone = true
        case .finished(let end): gone = end.outcome == .lost
        case .pending, .running: gone = false
        }
        guard gone, let id = s.tasks.first?.executorId, exec.stillRunningWithoutFolder(id: s.id, executorId: id) else { return state }
        if claimNoted.insert("vanished " + s.id).inserted {
            progress("\(s.key.display) (\(s.id)): its job folder is gone but its process \(id) still runs: adopted")
        }
        return .running(executorId: id, startedAt: s.startedAt.flatMap(Timestamp.date))
    }
}
