import HoneModel
import YAML

/// A reference check that needs every publishing run known first.
enum DeferredReference {
    case version(VersionKind, VersionRef, Mark)
    case publishVersion(ObjectKey, model: String, Mark)
}

/// What the files of a repository define, known before any run or eval is decoded, so that
/// references are checked where they are written — also in files that have other problems.
struct ReferenceContext {
    var project: Project?
    var versions: [VersionKind: [VersionRef: VersionSpec]]
    /// Version files that exist, valid or not: a reference to a broken one is reported at the version file only.
    var versionFiles: Set<String> = []
    var groups: Set<String>
    var groupFiles: Set<String>
    /// Run and eval files that exist (valid or not): a reference to an invalid object is not "missing".
    var objectFiles: Set<ObjectKey>
    /// model name → runs that publish into it, and how. nil while runs are still being read: the checks
    /// that need it are then deferred to the file's report (`resolveDeferred`).
    var publishes: [String: [(PublishAs, ObjectKey)]]?

    /// `support-bot@v3`: exists, or will be published by a run (the planner then makes its users wait).
    func checkVersion(_ f: inout Fields, _ field: String, _ kind: VersionKind, _ ref: VersionRef?) {
        guard let ref, let mark = f.node[field]?.mark else { return }
        if hasVersion(kind, ref) { return }
        if versionFiles.contains("\(kind.folder)/\(ref.name)/\(ref.version).yaml") { return }
        if publishes == nil && ReferenceContext.mayBePublished(ref, kind) {
            f.report.deferred.append(.version(kind, ref, mark))
            return
        }
        if willBePublished(ref, kind) { return }
        f.error(missingVersion(kind, ref), at: mark)
    }

    /// Looked up without copying the version out of the dictionary.
    func hasVersion(_ kind: VersionKind, _ ref: VersionRef) -> Bool {
        versions[kind]?.index(forKey: ref) != nil
    }

    private func missingVersion(_ kind: VersionKind, _ ref: VersionRef) -> String {
        let existing = (versions[kind] ?? [:]).keys
        let sameName = existing.filter { $0.name == ref.name }.map(\.description).sorted()
        var hint = NearMiss.hint(for: ref.description, among: existing.map(\.description))
        if hint.isEmpty && !sameName.isEmpty { hint = " (existing versions: \(sameName.joined(separator: ", ")))" }
        return "\(kind.noun) version \(ref) does not exist: no \(kind.folder)/\(ref.name)/\(ref.version).yaml\(hint)"
    }

    /// A model version that a run will publish (`publish: {model: m}` and a `vN` version).
    func willBePublished(_ ref: VersionRef, _ kind: VersionKind) -> Bool {
        ReferenceContext.mayBePublished(ref, kind) && publishes?[ref.name] != nil
    }

    /// Whether an object on these versions can be used: each exists, or a run will publish it (an object
    /// on a broken version file is reported there and skipped). While publishers are still being read
    /// (`publishes` nil), a version a run could publish counts, and `unsure` is set: ask again later.
    func usable(_ refs: [(VersionKind, VersionRef?)], unsure: inout Bool) -> Bool {
        refs.allSatisfy { kind, ref in
            guard let ref, !hasVersion(kind, ref) else { return true }
            if publishes == nil && ReferenceContext.mayBePublished(ref, kind) { unsure = true; return true }
            return willBePublished(ref, kind)
        }
    }

    /// `usable` once every publisher is known.
    func usable(_ refs: [(VersionKind, VersionRef?)]) -> Bool {
        var unsure = false
        return usable(refs, unsure: &unsure)
    }

    /// Whether a publishing run could make this version: a model version named `vN`.
    static func mayBePublished(_ ref: VersionRef, _ kind: VersionKind) -> Bool {
        kind == .model && ref.version.hasPrefix("v") && Int(ref.version.dropFirst()) != nil
    }

    /// The checks of one file that waited for every publisher to be known (`publishes` set).
    func resolveDeferred(_ report: FileReport) {
        let waiting = report.deferred
        report.deferred = []
        for check in waiting {
            switch check {
            case .version(let kind, let ref, let mark):
                if !willBePublished(ref, kind) { report.error(missingVersion(kind, ref), at: mark) }
            case .publishVersion(let key, let model, let mark):
                if let message = publishVersionProblem(key, model) { report.error(message, at: mark) }
            }
        }
    }

    func checkPool(_ f: inout Fields, _ pool: String) {
        // No pools at all is reported once, in hone.yaml.
        guard let project, !project.pools.isEmpty, project.pools[pool] == nil else { return }
        let mark = f.node["pool"]?.mark ?? f.node.mark
        f.error("pool \"\(pool)\" is not defined in hone.yaml\(NearMiss.hint(for: pool, among: project.pools.keys))", at: mark)
    }

    func checkPublish(_ f: inout Fields, _ key: ObjectKey, _ p: PublishRequest?) {
        guard let p else { return }
        let mark = f.node["publish"]?["as"]?.mark ?? f.node["publish"]?.mark ?? f.node.mark
        let existing = (versions[.model] ?? [:]).values.filter { $0.ref.name == p.model }
        switch p.as_ {
        case .new:
            // The model this very run created (its first version) stays "new" once others add versions.
            if !existing.isEmpty && !existing.modelCreated(by: key.display) {
                f.error(newModelExists(p.model, existing), at: mark)
            }
        case .version:
            guard existing.isEmpty else { return }
            if publishes == nil { f.report.deferred.append(.publishVersion(key, model: p.model, mark)); return }
            if let message = publishVersionProblem(key, p.model) { f.error(message, at: mark) }
        }
    }

    /// Says who made the model, and what to write so that the run publishes (its next version).
    private func newModelExists(_ model: String, _ existing: [VersionSpec]) -> String {
        func number(_ v: VersionSpec) -> Int? { v.ref.version.hasPrefix("v") ? Int(v.ref.version.dropFirst()) : nil }
        let first = existing.min { (number($0) ?? .max, $0.ref.version) < (number($1) ?? .max, $1.ref.version) }!
        let origin = first.publishedFrom.map { "published from \($0)" } ?? "not published by hone"
        let next = (existing.compactMap(number).max() ?? 0) + 1
        return "publish.as is new, but model \"\(model)\" already exists (\(first.ref) \(origin)): write `as: version` to publish this run as \(model)@v\(next), or choose another model name"
    }

    /// `publish.as: version` into a model that has no version yet: fine only if another run creates it.
    private func publishVersionProblem(_ key: ObjectKey, _ model: String) -> String? {
        let newByOther = (publishes?[model] ?? []).contains { $0.0 == .new && $0.1 != key }
        if newByOther { return nil }
        let names = Set((versions[.model] ?? [:]).keys.map(\.name))
        return "publish.as is version, but model \"\(model)\" does not exist\(NearMiss.hint(for: model, among: names)): use `as: new` to create it"
    }

    func checkSibling(_ f: inout Fields, _ key: ObjectKey, field: String, kind: ObjectKey.Kind, name: String?) {
        guard let name, let mark = f.node[field]?.mark else { return }
        let target = ObjectKey(scope: key.scope, kind: kind, name: name)
        if target == key { f.error("\(key.kind.withArticle) cannot be its own \(field)", at: mark); return }
        if objectFiles.contains(target) { return }
        let names = objectFiles.filter { $0.scope == key.scope && $0.kind == kind }.map(\.name)
        let what = kind.rawValue
        var hint = NearMiss.hint(for: name, among: names)
        if hint.isEmpty {
            let listed = names.sorted().filter { ObjectKey(scope: key.scope, kind: kind, name: $0) != key }
            hint = listed.isEmpty ? " (there are no \(what)s here)"
                : " (\(what)s here: \(listed.prefix(5).joined(separator: ", "))\(listed.count > 5 ? ", …" : ""))"
        }
        f.error("\(field): \(what) \"\(name)\" does not exist in \(key.scope.folder)\(hint)", at: mark)
    }
}

/// Checks across decoded objects: at most one default view per scope; published manifests unedited.
enum References {
    /// A version hone published is immutable: its file must still be the text hone wrote (the run's
    /// status keeps that text's digest).
    /// `file` gives a file's bytes and its report (made when missing) by path.
    static func checkPublishedManifests(_ result: inout LoadResult, file: (String) -> (text: [UInt8], report: FileReport)?) {
        // Keys first, then sorted: sorting (key, status) pairs moved 20,000 statuses around (a sixth of a load).
        let publishing = result.recorded.statuses.compactMap { $0.value.run?.publishedAs == nil ? nil : $0.key }.sorted()
        for key in publishing {
            guard let status = result.recorded.statuses[key], let published = status.run?.publishedAs, let recorded = status.run?.publishedDigest,
                  let ref = VersionRef.parse(published) else { continue }
            let path = "models/\(ref.name)/\(ref.version).yaml"
            guard let (bytes, report) = file(path) else { continue }
            let now = ContentHash.hex(bytes)
            guard now != recorded else { continue }
            report.error("published versions are immutable: \(path) was edited after hone published it from \(key.display) (sha256 of the file \(recorded) then, \(now) now); restore it (git checkout -- \(path)) and publish a new version instead",
                         at: Mark(line: 1, column: 1))
            result.desired.versions[.model]?[ref] = nil
        }
    }

    static func checkViews(_ result: inout LoadResult, report: (String) -> FileReport?) {
        // One default per scope and per what views list (a group's evals and its runs each have their own).
        struct Slot: Hashable { var scope: Scope; var target: ViewSpec.Target }
        var defaults: [Slot: ObjectKey] = [:]
        for key in result.desired.views.compactMap({ $0.value.isDefault ? $0.key : nil }).sorted() {
            let view = result.desired.views[key]!
            let slot = Slot(scope: key.scope, target: view.target)
            if let first = defaults[slot] {
                let mark = result.nodes[key.specPath]?["default"]?.mark ?? Mark(line: 1, column: 1)
                let what = view.target == .runs ? "default run view" : "default view"
                report(key.specPath)?.error("more than one \(what) in \(key.scope.folder): \(first.name) is already the default (use `hone view set-default` to switch)", at: mark)
                result.invalidObjects.insert(key)
                result.desired.views[key] = nil
            } else { defaults[slot] = key }
        }
    }
}

/// The versions a decoded object runs on, for `ReferenceContext.usable`.
extension RunSpec {
    var versionRefs: [(VersionKind, VersionRef?)] {
        [(.model, baseModel), (.dataset, trainDataset), (.dataset, validationDataset), (.runtime, runtime)]
    }
}

extension EvalSpec {
    var versionRefs: [(VersionKind, VersionRef?)] { [(.model, model), (.dataset, dataset), (.runtime, runtime)] }
}

extension PlaygroundSpec {
    var versionRefs: [(VersionKind, VersionRef?)] { [(.model, model), (.runtime, runtime)] }
}
