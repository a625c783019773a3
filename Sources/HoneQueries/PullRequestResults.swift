import Foundation
import Git
import HoneLoading
import HoneModel
import HonePlanning

/// A pull request is judged against what its base branch records: "better than main's model" means better than
/// the baseline's result on main, not the copy of it the branch carried from where it was cut (main may have
/// re-evaluated it since). A baseline the change itself touches is judged as the branch records it.
struct BaseRecords {
    let base: String
    let commit: ObjectID
    let repository: Repository
    /// The objects the change touches: their records on the base are not what the branch is judged against.
    let touched: Set<ObjectKey>

    /// The baseline's status as the base records it; nil when the change touches it (read the head then).
    func status(of baseline: ObjectKey) -> ObjectStatus?? {
        guard !touched.contains(baseline) else { return nil }
        guard let data = try? repository.blob(at: baseline.statusPath, in: commit) else { return .some(nil) }
        return .some(StatusCodec.decode(baseline, text: String(decoding: data, as: UTF8.self), path: baseline.statusPath).0)
    }

    /// The baseline's recorded results (results.jsonl) on the base.
    func results(of baseline: ObjectKey, status: ObjectStatus?) -> [[String: JSONValue]]? {
        let path = status?.eval?.resultsPath ?? baseline.statusFolder + "results.jsonl"
        guard let data = try? repository.blob(at: path, in: commit) else { return nil }
        return RecordedEval.parseJSONLines(data).rows
    }
}

extension Workspace {
    func baseRecords(base: String, touched: Set<ObjectKey>) throws -> BaseRecords {
        let repo = try requireRepository()
        let commit: ObjectID
        do { commit = try repo.resolve(base) } catch { throw HoneError("cannot resolve --base \(base): \(error)") }
        // A full commit id reads better short where it labels a value (`g/base @ 3f9c2b1d7e`).
        let isSha = base.count == 40 && base.allSatisfy(\.isHexDigit)
        return BaseRecords(base: isSha ? String(base.prefix(10)) : base, commit: commit, repository: repo, touched: touched)
    }

    /// `hone compare --base REF`: every eval the change since REF touches, as the head records it, against its
    /// pinned baseline as REF records it (as the head records it when the change touches the baseline too). An
    /// eval without `baseline:` is shown alone; one never reconciled is left out. In eval order.
    public func pullRequestComparisons(base: String, ref: String?, rows: Bool) throws -> [CompareReport] {
        let (head, changed) = try pullRequestChange(base: base, ref: ref)
        let source = try self.source(ref: head)
        let load = try Loader(source: source).load()
        let touched = PullRequestScope.objects(touchedBy: changed ?? [], desired: load.desired, recorded: load.recorded)
        let records = try baseRecords(base: base, touched: touched)
        var out: [CompareReport] = []
        // An eval never reconciled has nothing to show yet (the plan says it will run).
        for key in load.desired.evals.keys.sorted() where touched.contains(key) && load.recorded.statuses[key] != nil {
            let eval = try RecordedEval.read(key, load: load, source: source)
            guard let name = load.desired.evals[key]?.baseline else {
                var alone = CompareReport(evals: [eval], baseline: 0)
                alone.title = "Results of `\(key.display)`"
                out.append(alone)
                continue
            }
            let baselineKey = ObjectKey(scope: key.scope, kind: .eval, name: name)
            var baseline: RecordedEval
            if let recorded = records.status(of: baselineKey) {
                baseline = RecordedEval(key: baselineKey, spec: load.desired.evals[baselineKey], status: recorded,
                                        results: records.results(of: baselineKey, status: recorded))
                baseline.recordedAt = base
            } else {
                baseline = try RecordedEval.read(baselineKey, load: load, source: source)
            }
            var report = CompareReport(evals: [baseline, eval], baseline: 0, rows: rows, onlyDiff: rows)
            report.title = "Results of `\(key.display)` against `\(baseline.name)`"
            out.append(report)
        }
        return out
    }
}
