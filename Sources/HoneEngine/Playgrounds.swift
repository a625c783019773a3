import Foundation
import HoneExecutors
import HoneModel

/// What the reconciler does for a running playground besides what every job gets (specs/playground.md):
/// checks that it answers, follows its last request (for idle release), and fails one that never answers.
extension Reconciler {
    /// How long a playground may take from its start to answer `GET /v1/models`.
    static let readinessTimeout: TimeInterval = 120

    /// One pass over a running playground: readiness, then the last request time.
    func advancePlayground(_ s: inout ObjectStatus, exec: Executor, project: Project?, now: Date, into step: inout ChangeSet) throws {
        guard s.phase == .running, var p = s.playground else { return }
        let directory = exec.jobDirectory(for: s.id)
        if p.idleRelease != nil, let last = Self.lastRequest(in: directory), last != p.lastRequestAt {
            p.lastRequestAt = last
        }
        if !p.ready, let endpoint = p.endpoint {
            if PlaygroundClient.isReady(endpoint) {
                p.ready = true
                s.playground = p
                s.events.append(StatusEvent(at: Timestamp.string(now), reason: "Ready", message: "serving at \(endpoint) (GET /v1/models answered)", task: s.tasks.first?.name))
                progress("\(s.key.display): ready at \(endpoint)")
                return
            }
            let started = s.startedAt.flatMap(Timestamp.date) ?? now
            if now.timeIntervalSince(started) > Self.readinessTimeout {
                try failNotReady(&s, endpoint: endpoint, logFile: exec.logFile(for: s.id), project: project, now: now, into: &step)
                return
            }
        }
        s.playground = p
    }

    /// A handler that never answered: its job is cancelled and the attempt failed, with its log's tail.
    func failNotReady(_ s: inout ObjectStatus, endpoint: String, logFile: URL, project: Project?, now: Date, into step: inout ChangeSet) throws {
        if let why = cancelUnconfirmed(s, id: s.id, project: project) {
            try recordCancelFailure(&s, id: s.id, why: why, now: now, into: &step)
            return
        }
        let tail = (try? String(contentsOf: logFile, encoding: .utf8)).map { Reconciler.lastLines(recorder.secrets.redactor.redact($0), 8) } ?? ""
        finish(&s, phase: .failed, at: now, project: project)
        s.events.append(StatusEvent(at: Timestamp.string(now), type: .warning, reason: "NotReady",
                                    message: "\(endpoint) did not answer GET /v1/models within \(Int(Self.readinessTimeout))s: job cancelled"
                                        + (tail.isEmpty ? "" : "; last lines of the log:\n" + tail), task: s.tasks.first?.name))
        progress("\(s.key.display): not ready after \(Int(Self.readinessTimeout))s: cancelled")
    }

    /// `out/last-request` (epoch seconds, written by the handler on every chat request) as a timestamp.
    static func lastRequest(in directory: URL) -> String? {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("out/last-request"), encoding: .utf8),
              let seconds = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return Timestamp.string(Date(timeIntervalSince1970: seconds))
    }

    /// The event a release records, by the planner's reason.
    static func releaseEvent(_ s: ObjectStatus, reason: String, at now: Date) -> StatusEvent {
        if reason.hasPrefix("idle-release") {
            let idle = s.playground?.idleRelease.map { DurationText.format($0) } ?? "?"
            return StatusEvent(at: Timestamp.string(now), type: .warning, reason: "IdleReleased", message: "no chat request for \(idle): job cancelled")
        }
        if reason.hasPrefix("auto-release") {
            return StatusEvent(at: Timestamp.string(now), type: .warning, reason: "AutoReleased",
                               message: "released after \(s.autoRelease.map { DurationText.format($0) } ?? "?"): job cancelled")
        }
        return StatusEvent(at: Timestamp.string(now), type: .warning, reason: "Deleted", message: "the spec was deleted: job cancelled")
    }
}

extension ObjectStatus {
    /// Whether `reconcile --wait` has nothing more to wait for although the job runs: a playground that
    /// answers (it serves until released).
    var isServing: Bool {
        switch detail {
        case .run, .eval: return false
        case .playground(let p): return phase == .running && p.ready
        }
    }
}
