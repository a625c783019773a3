import HoneModel
import YAML

/// Cross-file checks: every reference names something that exists (or that a run will publish),
/// pools exist, at most one default view per scope. An object with a broken reference is reported
/// and dropped from the desired state so that nothing acts on it.
enum References {
    static func check(_ result: inout LoadResult, reports: inout [String: FileReport]) {
        let d = result.desired
        var broken: Set<ObjectKey> = []

        func report(_ path: String) -> FileReport {
            if let r = reports[path] { return r }
            let r = FileReport(path: path); reports[path] = r; return r
        }
        func mark(_ key: ObjectKey, _ field: String) -> Mark {
            result.nodes[key.specPath]?[field]?.mark ?? Mark(line: 1, column: 1)
        }

        // Versions that runs will publish: model name → (as, run).
        var publishes: [String: [(PublishAs, ObjectKey)]] = [:]
        for (k, r) in d.runs { if let p = r.publish { publishes[p.model, default: []].append((p.as_, k)) } }
        let models = d.versions[.model] ?? [:]
        let modelNames = Set(models.keys.map(\.name))

        func checkVersion(_ key: ObjectKey, _ field: String, _ kind: VersionKind, _ ref: VersionRef?) {
            guard let ref else { return }
            if d.version(kind, ref) != nil { return }
            if kind == .model, publishes[ref.name] != nil, ref.version.hasPrefix("v"), Int(ref.version.dropFirst()) != nil {
                return  // a version a run will publish: the planner makes this wait (`blocked`).
            }
            let existing = (d.versions[kind] ?? [:]).keys
            let sameName = existing.filter { $0.name == ref.name }.map(\.description)
            let hint: String
            if !sameName.isEmpty {
                hint = NearMiss.hint(for: ref.description, among: sameName) == "" ? " (existing versions: \(sameName.sorted().joined(separator: ", ")))" : NearMiss.hint(for: ref.description, among: sameName)
            } else {
                hint = NearMiss.hint(for: ref.description, among: existing.map(\.description))
            }
            report(key.specPath).error("\(kind.noun) version \(ref) does not exist: no \(kind.folder)/\(ref.name)/\(ref.version).yaml\(hint)", at: mark(key, field))
            broken.insert(key)
        }
        func checkPool(_ key: ObjectKey, _ pool: String) {
            guard let project = d.project, project.pools[pool] == nil else { return }
            report(key.specPath).error("pool \"\(pool)\" is not defined in hone.yaml\(NearMiss.hint(for: pool, among: project.pools.keys))", at: mark(key, "pool"))
            broken.insert(key)
        }
        func checkGroup(_ key: ObjectKey) {
            guard case .group(let g) = key.scope, d.groups[g] == nil else { return }
            let groupPath = "groups/\(g)/group.yaml"
            if !result.files.contains(groupPath) {
                report(key.specPath).error("group \"\(g)\" has no \(groupPath): create it with `hone group create \(g) --description …`", at: Mark(line: 1, column: 1))
                broken.insert(key)
            }
        }

        for (key, run) in d.runs.sorted(by: { $0.key < $1.key }) {
            checkGroup(key)
            checkPool(key, run.pool)
            checkVersion(key, "baseModel", .model, run.baseModel)
            checkVersion(key, "trainDataset", .dataset, run.trainDataset)
            checkVersion(key, "validationDataset", .dataset, run.validationDataset)
            checkVersion(key, "runtime", .runtime, run.runtime)
            if let p = run.publish {
                let m = result.nodes[key.specPath]?["publish"]?["as"]?.mark ?? mark(key, "publish")
                let existing = models.values.filter { $0.ref.name == p.model }
                switch p.as_ {
                case .new:
                    // Once published, the model exists because of this very run: that is not a clash.
                    if !existing.isEmpty && !existing.allSatisfy({ $0.publishedFrom == key.display }) {
                        report(key.specPath).error("publish.as is new, but model \"\(p.model)\" already exists: use `as: version` to add a version, or choose another name", at: m)
                        broken.insert(key)
                    }
                case .version:
                    let newByOther = (publishes[p.model] ?? []).contains { $0.0 == .new && $0.1 != key }
                    if existing.isEmpty && !newByOther {
                        report(key.specPath).error("publish.as is version, but model \"\(p.model)\" does not exist\(NearMiss.hint(for: p.model, among: modelNames)): use `as: new` to create it", at: m)
                        broken.insert(key)
                    }
                }
            }
        }
        for (key, eval) in d.evals.sorted(by: { $0.key < $1.key }) {
            checkGroup(key)
            checkPool(key, eval.pool)
            checkVersion(key, "model", .model, eval.model)
            checkVersion(key, "dataset", .dataset, eval.dataset)
            checkVersion(key, "runtime", .runtime, eval.runtime)
            if let runKey = eval.fromRunKey, d.runs[runKey] == nil, !result.invalidObjects.contains(runKey) {
                let runs = d.runs.keys.filter { $0.scope == key.scope }.map(\.name)
                report(key.specPath).error("fromRun: run \"\(eval.fromRun!)\" does not exist in group \(key.scope.name)\(NearMiss.hint(for: eval.fromRun!, among: runs))", at: mark(key, "fromRun"))
                broken.insert(key)
            }
            if let b = eval.baseline {
                let baseKey = ObjectKey(scope: key.scope, kind: .eval, name: b)
                if baseKey == key {
                    report(key.specPath).error("an eval cannot be its own baseline", at: mark(key, "baseline")); broken.insert(key)
                } else if d.evals[baseKey] == nil && !result.invalidObjects.contains(baseKey) {
                    let evals = d.evals.keys.filter { $0.scope == key.scope }.map(\.name)
                    report(key.specPath).error("baseline: eval \"\(b)\" does not exist in \(key.scope.folder)\(NearMiss.hint(for: b, among: evals))", at: mark(key, "baseline"))
                    broken.insert(key)
                }
            }
        }
        var defaults: [Scope: ObjectKey] = [:]
        for (key, view) in d.views.sorted(by: { $0.key < $1.key }) {
            checkGroup(key)
            guard view.isDefault else { continue }
            if let first = defaults[key.scope] {
                report(key.specPath).error("more than one default view in \(key.scope.folder): \(first.name) is already the default (use `hone view set-default` to switch)", at: mark(key, "default"))
                broken.insert(key)
            } else { defaults[key.scope] = key }
        }

        for key in broken {
            result.invalidObjects.insert(key)
            result.desired.runs[key] = nil
            result.desired.evals[key] = nil
            result.desired.views[key] = nil
        }
    }
}
