import Foundation
import HoneExecutors
import HoneModel

/// One active job as `reconcile --wait` shows it (specs/cli-reconcile.md, "Progress"): its phase, how
/// long it has run, and the latest point of its curve (`out/metrics.jsonl`: step, total, loss).
public struct JobProgress: Sendable, Equatable {
    public var object: String
    /// `Running`, `Pending`, `Queued`.
    public var phase: String
    public var elapsed: TimeInterval?
    public var step: Double?
    /// The step count the handler reports (`total` or `total_steps` in a metrics line).
    public var total: Double?
    public var loss: Double?

    /// At the pace so far: elapsed × (total − step) / step.
    public var eta: TimeInterval? {
        guard let elapsed, let step, let total, step > 0, total >= step else { return nil }
        return elapsed * (total - step) / step
    }

    /// `support/lr-small  Running  1m04s  step 120/400  loss 2.31  ETA 2m30s`.
    public var line: String {
        var parts = [object, phase]
        if let elapsed { parts.append(DurationText.span(elapsed)) }
        if let step { parts.append("step \(Self.number(step))" + (total.map { "/\(Self.number($0))" } ?? "")) }
        if let loss { parts.append("loss \(String(format: "%.4g", loss))") }
        if let eta { parts.append("ETA \(DurationText.span(eta))") }
        return parts.joined(separator: "  ")
    }

    static func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%g", v) }

    /// The last complete line of `metrics.jsonl` in the job folder, read from its end (the file can be large,
    /// and the handler writes it while hone reads: a partial last line is skipped). Never follows a link.
    static func latestPoint(jobDirectory: URL) -> [String: JSONValue]? {
        guard let file = try? OutputFile.open("out/metrics.jsonl", under: jobDirectory.path),
              let tail = try? file.tail(64 << 10) else { return nil }
        let lines = tail.split(separator: 10, omittingEmptySubsequences: true)
        let complete = tail.last == 10 ? lines : lines.dropLast()
        for line in complete.reversed() {
            if let o = (try? JSONValue.parse(Data(line)))?.objectValue { return o }
        }
        return nil
    }

    init(_ s: ObjectStatus, jobDirectory: URL?, now: Date) {
        object = s.key.display
        phase = s.shownPhase
        if s.phase == .running, let started = s.startedAt.flatMap(Timestamp.date) { elapsed = max(0, now.timeIntervalSince(started)) }
        guard let dir = jobDirectory, s.phase == .running, let point = Self.latestPoint(jobDirectory: dir) else { return }
        func value(_ keys: [String]) -> Double? { keys.lazy.compactMap { point[$0]?.doubleValue }.first }
        step = value(["step"])
        total = value(["total", "total_steps"])
        loss = value(["loss", "train_loss"])
    }
}

extension Reconciler {
    /// The active attempts after the last pass, as `reconcile --wait` shows them.
    public func progressOfActiveJobs(now: Date = Date()) -> [JobProgress] {
        lastActive.sorted { $0.key < $1.key }.map { s in
            JobProgress(s, jobDirectory: executors[s.pool]?.jobDirectory(for: s.id), now: now)
        }
    }
}
