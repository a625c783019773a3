import Foundation
import HoneLoading
import HoneModel
import HonePlanning
import YAML

/// Copies a finished eval between a group and the evaluation module (`hone sync`): its spec (with
/// `syncedFrom:`) and what was recorded for it (status, results.jsonl, logs). The copy's status carries
/// the digest of the copied spec, so reconcile sees it as done and never re-runs it.
public enum EvalSync {
    public enum Destination: Sendable, Equatable { case evaluations, group(String) }

    public struct Outcome: Sendable {
        public var source: ObjectKey
        public var target: ObjectKey
        public var model: String
        /// Paths written (or removed), repository-relative; empty when already in sync.
        public var written: [String]
        public var removed: [String]
        public var updated: Bool
        public var notes: [String]
        public var alreadyInSync: Bool { written.isEmpty && removed.isEmpty }
        /// The files to commit: the spec, the status and the status folder.
        public var commitPaths: [String] { [target.specPath, target.statusPath, String(target.statusFolder.dropLast())] }
    }

    /// What the sync would write: path → content (nil = remove), computed without touching the disk.
    public struct Plan: Sendable {
        public var outcome: Outcome
        public var files: [String: Data?]
    }

    public static func plan(load: LoadResult, source: FileSource, from text: String, to destination: Destination, name: String?) throws -> Plan {
        let (srcKey, spec, status) = try finishedEval(load, text, destination)
        var notes: [String] = []
        let model = try registryModel(srcKey, spec, status, load)
        let (target, existing) = try target(srcKey, destination, name, load)
        let specText = try copiedSpec(srcKey, spec, model, target.scope, load, source, notes: &notes)
        let moved = { (path: String) -> String in
            path.hasPrefix(srcKey.statusFolder) ? target.statusFolder + path.dropFirst(srcKey.statusFolder.count) : path
        }
        let copy = copiedStatus(status, spec, target, model, load, moved: moved)

        var files: [String: Data?] = [:]
        files[target.specPath] = Data(specText.utf8)
        files[target.statusPath] = Data(try YAMLEmitter.emit(StatusCodec.encode(copy)).utf8)
        let attachments = load.files.filter { $0.hasPrefix(srcKey.statusFolder) }
        for p in attachments { files[moved(p)] = try source.read(p).map { Data($0) } }
        // An earlier copy's files that the source no longer has (an older attempt's log) go away.
        for p in load.files where p.hasPrefix(target.statusFolder) && files[p] == nil { files[p] = .some(nil) }

        var written: [String] = [], removed: [String] = []
        for (p, data) in files.sorted(by: { $0.key < $1.key }) {
            let current = try source.read(p).map { Data($0) }
            if let data { if current != data { written.append(p) } } else if current != nil { removed.append(p) }
        }
        let outcome = Outcome(source: srcKey, target: target, model: model.description, written: written, removed: removed,
                              updated: existing != nil, notes: notes)
        return Plan(outcome: outcome, files: files.filter { written.contains($0.key) || removed.contains($0.key) })
    }

    /// The eval to copy: between a group and the evaluation module, valid, and Succeeded.
    static func finishedEval(_ load: LoadResult, _ text: String, _ destination: Destination) throws -> (ObjectKey, EvalSpec, ObjectStatus) {
        let srcKey = try ObjectAddress.parse(text).resolve(in: load, only: .eval)
        switch (srcKey.scope, destination) {
        case (.group, .evaluations), (.evaluations, .group): break
        case (.group, .group):
            throw HoneError("\(srcKey.display) is a group's eval: sync copies between a group and the evaluation module (use --to-evaluations)")
        case (.evaluations, .evaluations):
            throw HoneError("\(srcKey.display) is already in the evaluation module: sync it to a group with --to-group G")
        }
        guard let spec = load.desired.evals[srcKey] else {
            throw HoneError("\(srcKey.specPath) is missing or invalid: run `hone validate` and fix it before syncing")
        }
        guard let status = load.recorded.statuses[srcKey] else {
            throw HoneError("\(srcKey.display) has never run (no recorded status): only finished evals (Succeeded) are synced")
        }
        guard status.phase == .succeeded else {
            throw HoneError("\(srcKey.display) is \(status.phase.rawValue) (attempt \(status.attempt)): only finished evals (Succeeded) are synced")
        }
        return (srcKey, spec, status)
    }

    /// The model must be a registry version: a draft (an unpublished run's output) cannot leave its group.
    static func registryModel(_ srcKey: ObjectKey, _ spec: EvalSpec, _ status: ObjectStatus, _ load: LoadResult) throws -> VersionRef {
        if let m = spec.model { return m }
        guard let runKey = spec.fromRunKey else { throw HoneError("\(srcKey.display) names no model") }
        let run = load.recorded.statuses[runKey]
        guard let published = run?.run?.publishedAs, let ref = VersionRef.parse(published), run?.run?.model?.published == true else {
            throw HoneError("\(srcKey.display) evaluates the draft model of run \(runKey.display), which is not published: drafts are not synced. Publish the run first (`hone publish \(runKey.display) --model M`, commit, `hone reconcile`), then sync")
        }
        guard let version = load.desired.version(.model, ref) else {
            throw HoneError("run \(runKey.display) was published as \(ref), but \(ref.name)/\(ref.version).yaml is not in models/: reconcile first")
        }
        if let evaluated = status.inputs[SpecDigest.runInputKey(runKey)], let sha = version.sha256, evaluated != sha {
            throw HoneError("\(srcKey.display) evaluated a different model than the published \(ref) (sha256 \(evaluated.prefix(12))… vs \(sha.prefix(12))…): rerun the eval on the published model first")
        }
        return ref
    }

    /// Where the copy goes. A name clash is an error unless the target is an earlier copy of this same eval.
    static func target(_ srcKey: ObjectKey, _ destination: Destination, _ name: String?, _ load: LoadResult) throws -> (ObjectKey, EvalSpec?) {
        let targetScope: Scope
        switch destination {
        case .evaluations: targetScope = .evaluations
        case .group(let g):
            guard load.desired.groups[g] != nil else { throw HoneError("no group \(g) (groups/\(g)/group.yaml): create it with `hone group create \(g) --description …`") }
            targetScope = .group(g)
        }
        let targetName = name ?? srcKey.name
        guard Names.isValid(targetName) else { throw HoneError("invalid name \"\(targetName)\": names match \(Names.pattern)") }
        let target = ObjectKey(scope: targetScope, kind: .eval, name: targetName)
        let existing = load.desired.evals[target]
        let targetExists = load.files.contains(target.specPath) || load.recorded.statuses[target] != nil
            || load.files.contains { $0.hasPrefix(target.statusFolder) }
        if targetExists && existing?.syncedFrom != srcKey.display {
            let what = existing?.syncedFrom.map { "a copy of \($0)" } ?? "another eval"
            throw HoneError("\(target.display) already exists and is \(what), not a copy of \(srcKey.display): choose another name with --name")
        }
        return (target, existing)
    }

    /// The spec: the source's text (comments kept) with syncedFrom, the registry model, and the
    /// baseline only when the destination holds a copy of that same baseline.
    static func copiedSpec(_ srcKey: ObjectKey, _ spec: EvalSpec, _ model: VersionRef, _ targetScope: Scope, _ load: LoadResult,
                           _ source: FileSource, notes: inout [String]) throws -> String {
        guard let specBytes = try source.read(srcKey.specPath) else { throw HoneError("cannot read \(srcKey.specPath)") }
        var specText = String(decoding: specBytes, as: UTF8.self)
        if let run = spec.fromRun, let line = try SpecEditor(text: specText, path: srcKey.specPath).value("fromRun")?.mark.line {
            // `fromRun: r` becomes `model: M@V` on the same line, so the file keeps its layout.
            var lines = specText.components(separatedBy: "\n")
            lines[line - 1] = "model: \(SpecEditor.scalarText(model.description))  # published from run \(ObjectKey(scope: srcKey.scope, kind: .run, name: run).display)"
            specText = lines.joined(separator: "\n")
            notes.append("model: \(model) (the published model of run \(run))")
        }
        var editor = try SpecEditor(text: specText, path: srcKey.specPath)
        if let b = spec.baseline {
            let srcBaseline = ObjectKey(scope: srcKey.scope, kind: .eval, name: b)
            let there = load.desired.evals[ObjectKey(scope: targetScope, kind: .eval, name: b)]
            if there?.syncedFrom != srcBaseline.display {
                try editor.remove("baseline")
                let kept = spec.gates.filter { !(GateExpression.parse($0.expression)?.relativeToBaseline ?? false) }
                let dropped = spec.gates.count - kept.count
                if dropped > 0 {
                    if kept.isEmpty { try editor.remove("gates") }
                    else { try editor.set("gates", .mapping(kept.map { ($0.metric, .text($0.expression)) })) }
                }
                notes.append("dropped baseline: \(b)" + (dropped > 0 ? " and \(dropped) gate\(dropped == 1 ? "" : "s") relative to it" : "")
                             + " (\(targetScope.name) has no copy of \(srcBaseline.display); sync it first to keep them)")
            }
        }
        try editor.set("syncedFrom", SpecEditor.scalarText(srcKey.display))
        return editor.text
    }

    /// The status: the same attempt, re-keyed, with the digest reconcile will compute for the copy.
    static func copiedStatus(_ status: ObjectStatus, _ spec: EvalSpec, _ target: ObjectKey, _ model: VersionRef, _ load: LoadResult,
                             moved: (String) -> String) -> ObjectStatus {
        var copy = spec
        copy.key = target; copy.model = model; copy.fromRun = nil
        var inputs: [String: String] = [:]
        if let v = load.desired.version(.model, model) { inputs[SpecDigest.inputKey(.model, model)] = v.digest }
        if let v = load.desired.version(.dataset, spec.dataset) { inputs[SpecDigest.inputKey(.dataset, spec.dataset)] = v.digest }
        if let r = spec.runtime, let v = load.desired.version(.runtime, r) { inputs[SpecDigest.inputKey(.runtime, r)] = v.digest }
        let digest = SpecDigest.digest(canonical: SpecDigest.canonical(copy), inputs: inputs)
        var s = status
        s.key = target
        s.specDigest = digest
        s.id = SpecDigest.jobID(target, digest: digest, attempt: s.attempt)
        s.inputs = inputs
        s.eval?.model = model.description
        let results = s.eval?.resultsPath.map(moved)
        s.eval?.resultsPath = results
        for i in s.tasks.indices { s.tasks[i].log = s.tasks[i].log.map(moved) }
        return s
    }

    /// Plans and applies the sync in the working tree.
    public static func run(_ ws: Workspace, from text: String, to destination: Destination, name: String?) throws -> Outcome {
        let source = WorkingTreeSource(root: ws.root)
        let load = try Loader(source: source).load()
        let plan = try plan(load: load, source: source, from: text, to: destination, name: name)
        for (path, data) in plan.files.sorted(by: { $0.key < $1.key }) {
            if let data { try Workspace.atomicWrite(ws.url(path), data) } else { try FileManager.default.removeItem(at: ws.url(path)) }
        }
        return plan.outcome
    }
}
