import Foundation
import HoneLoading
import HoneModel

/// Which objects a set of changed paths touches: changed specs, specs whose versions changed,
/// evals of changed runs, and statuses of deleted specs.
public enum PullRequestScope {
    /// The folders (`groups/g/`, `evaluations/`) holding everything a change can affect, or nil when the
    /// change reaches further (hone.yaml, a version edited or deleted rather than added, or a file outside
    /// the layout, which may be code some object's `code:` names) and everything must be read.
    public static func touchedScopes(_ paths: [String]) -> [String]? {
        var scopes: Set<String> = []
        for p in paths {
            let parts = p.split(separator: "/").map(String.init)
            switch parts.first {
            case "groups" where parts.count >= 3: scopes.insert("groups/\(parts[1])/")
            case "evaluations": scopes.insert("evaluations/")
            case "status" where parts.count >= 4 && parts[1] == "groups": scopes.insert("groups/\(parts[2])/")
            case "status" where parts.count >= 2 && parts[1].hasPrefix("evaluations"): scopes.insert("evaluations/")
            case "models", "datasets", "runtimes", "hone.yaml": return nil
            default: return nil
            }
        }
        return scopes.sorted()
    }

    public static func objects(touchedBy paths: [String], desired: DesiredState, recorded: RecordedState) -> Set<ObjectKey> {
        let changed = Set(paths)
        var out: Set<ObjectKey> = []
        let all = Set(desired.runs.keys).union(desired.evals.keys).union(recorded.statuses.keys)
        for k in all where changed.contains(k.specPath) { out.insert(k) }
        func versionPath(_ kind: VersionKind, _ r: VersionRef?) -> String? { r.map { "\(kind.folder)/\($0.name)/\($0.version).yaml" } }
        // Code: an object whose `code:` holds a changed file (each code path asked once).
        var codeTouched: [String: Bool] = [:]
        func touchesCode(_ codePaths: [String]) -> Bool {
            codePaths.contains { cp in
                if let known = codeTouched[cp] { return known }
                let hit = paths.contains { $0 == cp || $0.hasPrefix(cp + "/") }
                codeTouched[cp] = hit
                return hit
            }
        }
        for (k, r) in desired.runs where touchesCode(r.code) { out.insert(k) }
        for (k, e) in desired.evals where touchesCode(e.code) { out.insert(k) }
        for (k, r) in desired.runs {
            let refs = [versionPath(.model, r.baseModel), versionPath(.dataset, r.trainDataset), versionPath(.dataset, r.validationDataset), versionPath(.runtime, r.runtime)]
            if refs.contains(where: { $0.map(changed.contains) ?? false }) { out.insert(k) }
        }
        for (k, e) in desired.evals {
            let refs = [versionPath(.model, e.model), versionPath(.dataset, e.dataset), versionPath(.runtime, e.runtime)]
            if refs.contains(where: { $0.map(changed.contains) ?? false }) { out.insert(k) }
            if let r = e.fromRunKey, out.contains(r) { out.insert(k) }
        }
        return out
    }
}
