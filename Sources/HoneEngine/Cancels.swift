import Foundation
import HoneExecutors
import HoneModel

/// Cancels are recorded only once the executor confirmed them: a status never says Cancelled (nor a new
/// attempt replaces the old one) while the job may still run.
extension Reconciler {
    /// Cancels the attempt `id` of `s`; nil when the executor confirmed it, else why it could not.
    func cancelUnconfirmed(_ s: ObjectStatus, id: String, project: Project?) -> String? {
        do {
            let exec = try executor(for: s.pool, project: project)
            if isClaimedByOther(s), exec.capabilities.contains(.runsOnThisMachine) {
                return "it runs in another clone (\(s.claimedBy ?? "?")), whose reconciler cancels it"
            }
            try exec.cancel(id: id, executorId: s.tasks.first?.executorId)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A cancel that failed: the attempt keeps its phase, gets a `CancelFailed` event (once for the same
    /// reason: retrying every pass adds no commit) and is cancelled again at the next pass.
    func recordCancelFailure(_ s: inout ObjectStatus, id: String, why: String, now: Date, into changes: inout ChangeSet) throws {
        let message = "could not cancel attempt \(s.attempt) (\(id)): \(why); it stays \(s.phase.rawValue) and hone tries again at the next reconcile"
        progress("\(s.key.display): \(message)")
        guard s.events.last(where: { $0.reason == "CancelFailed" })?.message != message else { return }
        s.events.append(StatusEvent(at: Timestamp.string(now), type: .warning, reason: "CancelFailed", message: message, task: s.tasks.first?.name))
        try writeStatus(s, into: &changes)
        changes.action("cancel-failed", s.key, id: s.id, line: "\(s.key.display): cancel failed: \(why)")
    }
}
