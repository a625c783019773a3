import Foundation
import HoneModel
import YAML

/// What a file is, by its place in the layout (specs/layout.md).
enum FilePlace {
    case project
    case version(VersionKind, VersionRef)
    case group(String)
    case object(ObjectKey)
    case status(ObjectKey)
    case statusAttachment
    case misplaced(String)   // the warning to give
    case invalidName(String) // the error to give
    case ignored
}

extension FilePlace {
    /// Whether a top-level section of a file in this place is written by hone from a handler's output: the
    /// `metrics` of statuses and of model versions (copied from summary.json when hone publishes). The secret
    /// scan skips them (hone redacts secret values on the way in), so hone never rejects a file it wrote.
    func writtenByHone(_ section: Substring) -> Bool {
        switch self {
        case .status, .version(.model, _): return section == "metrics"
        case .project, .version, .group, .object, .statusAttachment, .misplaced, .invalidName, .ignored: return false
        }
    }
}

enum Classifier {
    static func place(of path: String) -> FilePlace {
        if path == Layout.projectFile { return .project }
        // Split at "/" by hand: the generic split costs more than the rest of this for 10,000 paths.
        var parts: [Substring] = []
        parts.reserveCapacity(6)
        var start = path.startIndex
        let u = path.utf8
        var at = u.startIndex
        while at != u.endIndex {
            if u[at] == UInt8(ascii: "/") { parts.append(path[start..<at]); start = u.index(after: at) }
            at = u.index(after: at)
        }
        parts.append(path[start...])
        let isYAML = path.hasSuffix(".yaml")
        func stem(_ s: Substring) -> String { String(s.dropLast(5)) }
        func check(_ names: [String], _ place: FilePlace) -> FilePlace {
            for n in names where !Names.isValid(n) {
                return .invalidName("\"\(n)\" is not a valid name: names and versions match \(Names.pattern)")
            }
            return place
        }
        let unknown = FilePlace.misplaced("file is not part of the hone layout and is ignored (see specs/layout.md)")
        switch parts[0] {
        case "models", "datasets", "runtimes":
            let kind: VersionKind = parts[0] == "models" ? .model : parts[0] == "datasets" ? .dataset : .runtime
            if parts.count == 3 && isYAML {
                return check([String(parts[1]), stem(parts[2])], .version(kind, VersionRef(name: String(parts[1]), version: stem(parts[2]))))
            }
            // Small artifacts may be committed beside their versions; only stray YAML is suspicious.
            return path.hasSuffix(".yaml") || path.hasSuffix(".yml") ? unknown : .ignored
        case "groups":
            if parts.count == 3 && parts[2] == "group.yaml" { return check([String(parts[1])], .group(String(parts[1]))) }
            if parts.count == 4 && isYAML {
                if let kind = ObjectKey.Kind(folder: parts[2]) {
                    let group = String(parts[1]), name = stem(parts[3])
                    return check([group, name], .object(ObjectKey(scope: .group(group), kind: kind, name: name)))
                }
            }
            if path.hasSuffix(".yml") { return .misplaced("hone reads .yaml files only: rename it to \(path.dropLast(4)).yaml") }
            return unknown
        case "evaluations":
            if parts.count == 2 && isYAML { return check([stem(parts[1])], .object(ObjectKey(scope: .evaluations, kind: .eval, name: stem(parts[1])))) }
            if parts.count == 3 && parts[1] == "views" && isYAML {
                return check([stem(parts[2])], .object(ObjectKey(scope: .evaluations, kind: .view, name: stem(parts[2]))))
            }
            return unknown
        case "status":
            // status/groups/<g>/runs/<r>.yaml, status/groups/<g>/evals/<e>.yaml, status/evaluations/<e>.yaml
            if parts.count == 5 && parts[1] == "groups" && isYAML, let kind = ObjectKey.Kind.withStatus(folder: parts[3]) {
                return .status(ObjectKey(scope: .group(String(parts[2])), kind: kind, name: stem(parts[4])))
            }
            if parts.count == 3 && parts[1] == "evaluations" && isYAML {
                return .status(ObjectKey(scope: .evaluations, kind: .eval, name: stem(parts[2])))
            }
            return .statusAttachment
        default:
            return .ignored
        }
    }
}

/// Everything read from a repository: desired state, recorded state, and every diagnostic.
public struct LoadResult: Sendable {
    public var desired = DesiredState()
    public var recorded = RecordedState()
    public var diagnostics: [Diagnostic] = []
    /// Objects whose files exist but are invalid: reported and skipped, never pruned or cancelled.
    public var invalidObjects: Set<ObjectKey> = []
    /// Paths of every file read (for `--base` diffs and messages).
    public var files: [String] = []
    /// Root nodes of view files, for marks in later checks.
    var nodes: [String: Node] = [:]
    /// The files' bytes and trees, released with the result rather than at the end of loading: a
    /// command that exits right after printing (validate) never pays for freeing them one by one.
    var parsedFiles: KeptUntilReleased?

    public var errors: [Diagnostic] { diagnostics.filter(\.isError) }
    public var warnings: [Diagnostic] { diagnostics.filter { !$0.isError } }
    public var isValid: Bool { errors.isEmpty }
}

/// Parsed files kept from one load to the next, by content id (git blob id): `hone reconcile --wait` loads
/// the branch after each of its commits, which change a few status files; only those are read and parsed
/// again. Parsing is pure, so a cached parse gives exactly the diagnostics of a fresh one. Holds the files
/// of the last load only.
public final class ParseCache: @unchecked Sendable {
    struct Entry {
        var bytes: [UInt8]
        var document: YAMLDocument
        /// Literal secrets, each with the top-level key it is under.
        var secrets: [(section: Substring, error: YAMLError)]
    }
    private var entries: [String: Entry] = [:]
    private let lock = NSLock()
    public init() {}

    subscript(id: String) -> Entry? { lock.withLock { entries[id] } }

    /// Keeps exactly these entries (the files of the latest load).
    func replace(with fresh: [String: Entry]) { lock.withLock { entries = fresh } }
}

/// Reads a repository (working tree or commit) into model values, checking everything (specs/layout.md):
/// every file is read and checked before anything fails; an invalid object is skipped, never fatal.
public struct Loader {
    public var source: FileSource
    /// When set, only the run, eval, view and status files it accepts are read and parsed (pull-request
    /// plans: what did not change is not parsed). Every file is still listed, so references to an
    /// unparsed object resolve. hone.yaml, versions and groups are always read.
    public var parseOnly: ((String) -> Bool)?
    /// Parses of earlier loads, reused for files whose content id is unchanged (sources with content ids only).
    public var cache: ParseCache?
    public init(source: FileSource, parseOnly: ((String) -> Bool)? = nil, cache: ParseCache? = nil) {
        self.source = source; self.parseOnly = parseOnly; self.cache = cache
    }

    func wanted(_ path: String) -> Bool { parseOnly?(path) ?? true }

    /// Loading, as named steps: list, read and decode the basics, read and decode the rest on every
    /// core, merge, then the checks across files and the diagnostics' source lines.
    public func load(includeStatus: Bool = true) throws -> LoadResult {
        var clock = PhaseClock()
        var result = LoadResult()
        let listed = try list(includeStatus: includeStatus, into: &result)
        clock.lap("list")
        let reader = try FileReader(self, listed)
        // Stage 1: hone.yaml, versions and groups, which need no other file.
        let basics = try reader.prepare(listed.basics, context: nil)
        Loader.mergeBasics(basics, listed, into: &result)
        clock.lap("hone.yaml, versions, groups")
        // Stage 2, on every core: each run, eval, view and status is read, parsed, checked and decoded in
        // one go, and its tree dropped (10,000 trees are never held at once). Which model versions runs
        // will publish is only known at the end: the few checks that depend on it wait until then.
        var context = ReferenceContext(project: result.desired.project, versions: result.desired.versions, versionFiles: listed.versionFiles,
                                       groups: Set(result.desired.groups.keys), groupFiles: listed.groupFiles, objectFiles: listed.objectFiles,
                                       publishes: nil)
        let dependents = try reader.prepare(listed.dependents, context: context)
        clock.lap("runs, evals, views, statuses")
        context.publishes = Loader.publishers(dependents, listed)
        mergeDependents(dependents, listed, context: &context, into: &result)
        Loader.leaveAlone(under: listed.refusedFolders, &result)
        reader.keep(basics: basics, dependents: dependents, listed)
        clock.lap("merge")
        Loader.skipOrphans(listed, into: &result)
        Loader.checkAcrossFiles(basics: basics, dependents: dependents, listed, into: &result)
        clock.lap("checks and diagnostics")
        readCode(into: &result)
        clock.lap("code")
        result.parsedFiles = KeptUntilReleased((basics, dependents))
        return result
    }

    /// What the listing alone tells: where each file belongs, and which version, group and object files
    /// exist (valid or not). Indices point into `paths`.
    struct ListedFiles {
        var paths: [String]
        var places: [FilePlace]
        /// hone.yaml, versions, groups: what everything else refers to.
        var basics: [Int] = []
        /// Runs, evals, views and statuses.
        var dependents: [Int] = []
        var objectFiles: Set<ObjectKey> = []
        var groupFiles: Set<String> = []
        var versionFiles: Set<String> = []
        /// Refused folders and stray files, whose contents are unknown.
        var refusedFolders: [String] = []
        /// Whether hone.yaml is listed (or refused, which is reported on its own).
        var hasProjectFile = false

        /// A binary search: later checks and diagnostics' source lines find a few files by path.
        func index(of path: String) -> Int? {
            var lo = 0, hi = paths.count
            while lo < hi { let mid = (lo + hi) / 2; if paths[mid] < path { lo = mid + 1 } else { hi = mid } }
            return lo < paths.count && paths[lo] == path ? lo : nil
        }
    }

    func list(includeStatus: Bool, into result: inout LoadResult) throws -> ListedFiles {
        let listing = try source.listing()
        var paths = listing.files
        if !zip(paths, paths.dropFirst()).allSatisfy({ $0 < $1 }) { paths.sort() }
        result.files = listing.refused.isEmpty ? paths : (paths + listing.refused.map(\.path)).sorted()
        let places = ParallelMap.map(paths.count, workers: Loader.workerCount(paths.count)) { _, i in Classifier.place(of: paths[i]) }
        var l = ListedFiles(paths: paths, places: places)
        l.dependents.reserveCapacity(paths.count)
        l.objectFiles.reserveCapacity(paths.count)
        for (i, place) in places.enumerated() {
            switch place {
            case .project: l.basics.append(i)
            case .version: l.basics.append(i); l.versionFiles.insert(paths[i])
            case .group(let name): l.basics.append(i); l.groupFiles.insert(name)
            case .object(let key):
                l.objectFiles.insert(key)
                if wanted(paths[i]) { l.dependents.append(i) }
            case .status: if includeStatus && wanted(paths[i]) { l.dependents.append(i) }
            case .misplaced(let message):
                result.diagnostics.append(Diagnostic(.warning, path: paths[i], mark: .none, message: message))
            case .invalidName(let message):
                result.diagnostics.append(Diagnostic(path: paths[i], mark: .none, message: message))
            case .ignored, .statusAttachment: continue
            }
        }
        l.refusedFolders = Loader.refuse(listing.refused, into: &result, objectFiles: &l.objectFiles, groupFiles: &l.groupFiles, versionFiles: &l.versionFiles)
        l.hasProjectFile = paths.contains(Layout.projectFile) || listing.refused.contains { $0.path == Layout.projectFile }
        return l
    }

    /// Reads files (or takes them from the cache), parses and decodes them on every core.
    struct FileReader {
        let paths: [String]
        let places: [FilePlace]
        let cache: ParseCache?
        /// Content ids and cache hits: files the cache holds (same content id) are neither read nor parsed again.
        var ids: [Int: String] = [:]
        var hits: [Int: ParseCache.Entry] = [:]
        /// Each worker reads through a source of its own; a source that cannot be read from several
        /// threads is read here first. Both stages use at most `workers` workers (and so these readers).
        var readers: [FileSource] = []
        var preread: [Int: [UInt8]] = [:]
        var refusals: [Int: RefusedFile] = [:]
        let workers: Int

        init(_ loader: Loader, _ listed: ListedFiles) throws {
            paths = listed.paths; places = listed.places; cache = loader.cache
            let all = listed.basics + listed.dependents
            if let cache {
                for i in all {
                    guard let id = try loader.source.contentID(paths[i]) else { continue }
                    ids[i] = id
                    hits[i] = cache[id]
                }
            }
            workers = Loader.workerCount(all.count)
            var readers: [FileSource]? = [loader.source]
            for _ in 1..<max(workers, 1) {
                guard let r = try loader.source.readerForAnotherThread() else { readers = nil; break }
                readers!.append(r)
            }
            if readers == nil {
                for i in all where hits[i] == nil {
                    do { preread[i] = try loader.source.read(paths[i], limit: ReadLimit.specFile) } catch let refused as RefusedFile { refusals[i] = refused }
                }
            }
            self.readers = readers ?? []
        }

        func prepare(_ indices: [Int], context: ReferenceContext?) throws -> [Prepared] {
            nonisolated(unsafe) let files = self
            let keepTrees = cache != nil
            let prepared = ParallelMap.map(indices.count, workers: min(workers, Loader.workerCount(indices.count))) { worker, j in
                let i = indices[j]
                do {
                    let entry: ParseCache.Entry
                    if let hit = files.hits[i] { entry = hit } else {
                        if let refused = files.refusals[i] { return Prepared(refused: refused) }
                        let bytes = files.readers.isEmpty ? files.preread[i] : try files.readers[worker].read(files.paths[i], limit: ReadLimit.specFile)
                        guard let bytes else { return Prepared() }  // listed but gone
                        entry = Loader.parseEntry(bytes)
                    }
                    return Prepared(path: files.paths[i], place: files.places[i], entry: entry, context: context, keepTree: keepTrees)
                } catch let refused as RefusedFile {
                    return Prepared(refused: refused)
                } catch { return Prepared(failure: error) }
            }
            if let failure = prepared.lazy.compactMap(\.failure).first { throw failure }
            return prepared
        }

        /// The cache keeps exactly this load's parses.
        func keep(basics: [Prepared], dependents: [Prepared], _ listed: ListedFiles) {
            guard let cache else { return }
            var kept: [String: ParseCache.Entry] = [:]
            kept.reserveCapacity(ids.count)
            for (j, i) in listed.basics.enumerated() { if let id = ids[i], let e = basics[j].entry { kept[id] = e } }
            for (j, i) in listed.dependents.enumerated() { if let id = ids[i], let e = dependents[j].entry { kept[id] = e } }
            cache.replace(with: kept)
        }
    }

    static func mergeBasics(_ decoded: [Prepared], _ listed: ListedFiles, into result: inout LoadResult) {
        for j in decoded.indices {
            switch decoded[j].decoded {
            case .project(let project): result.desired.project = project
            case .version(let v?): result.desired.versions[v.kind, default: [:]][v.ref] = v
            case .group(let g?): result.desired.groups[g.name] = g
            default: break
            }
        }
        if !listed.hasProjectFile {
            result.diagnostics.append(Diagnostic(path: Layout.projectFile, mark: .none, message: "no hone.yaml: this is not a hone repository (run `hone init` to make one)"))
        }
    }

    /// Which runs publish into which model (read even from invalid runs: they still claim the name).
    static func publishers(_ decoded: [Prepared], _ listed: ListedFiles) -> [String: [(PublishAs, ObjectKey)]] {
        var publishes: [String: [(PublishAs, ObjectKey)]] = [:]
        for j in decoded.indices {
            if let (model, as_) = decoded[j].publishes, case .object(let key) = listed.places[listed.dependents[j]] {
                publishes[model, default: []].append((as_, key))
            }
        }
        return publishes
    }

    /// Runs, evals, views and statuses into the result, after the checks that waited for the publishers.
    func mergeDependents(_ decoded: [Prepared], _ listed: ListedFiles, context: inout ReferenceContext, into result: inout LoadResult) {
        result.recorded.statuses.reserveCapacity(decoded.count)
        result.desired.runs.reserveCapacity(decoded.count)
        let scripts = ScriptCheck(source: source)
        for j in decoded.indices {
            let i = listed.dependents[j], path = listed.paths[i], place = listed.places[i]
            guard let report = decoded[j].report else { continue }  // listed but gone
            if !report.deferred.isEmpty { context.resolveDeferred(report) }
            scripts.check(decoded[j].script, report)
            scripts.check(code: decoded[j].code, report)
            let recheck = decoded[j].recheck
            switch decoded[j].decoded {
            case .status(let key, let status?): result.recorded.statuses[key] = status
            case .status(let key, nil): result.recorded.unreadable[key] = path
            case .run(let r):
                guard case .object(let key) = place else { continue }
                // A run on a broken version file: reported there, skipped here.
                if !report.hasErrors && (!recheck || context.usable(r.versionRefs)) {
                    result.desired.runs[key] = r
                } else { result.invalidObjects.insert(key) }
            case .eval(let e):
                guard case .object(let key) = place else { continue }
                if !report.hasErrors && (!recheck || context.usable(e.versionRefs)) {
                    result.desired.evals[key] = e
                } else { result.invalidObjects.insert(key) }
            case .playground(let p):
                guard case .object(let key) = place else { continue }
                if !report.hasErrors && (!recheck || context.usable(p.versionRefs)) {
                    result.desired.playgrounds[key] = p
                } else { result.invalidObjects.insert(key) }
            case .view(let v, let root):
                guard case .object(let key) = place else { continue }
                result.nodes[path] = root
                if !report.hasErrors { result.desired.views[key] = v } else { result.invalidObjects.insert(key) }
            case .none, .invalid, .project, .version, .group:
                // No tree, a decoder that gave up (with errors), or on a broken version (`invalid`).
                if case .object(let key) = place { result.invalidObjects.insert(key) }
                if case .status(let key) = place { result.recorded.unreadable[key] = path }
            }
        }
    }

    /// The code objects depend on, from the commit (one tree lookup per distinct path).
    func readCode(into result: inout LoadResult) {
        if let reader = try? source.codeReader(), let snapshot = try? reader.snapshot(of: result.desired) {
            result.desired.code = snapshot
            result.recorded.codeAtLaunch = reader.codeAtLaunch(result.desired, result.recorded)
        }
    }

    /// Objects of a group without groups/<g>/group.yaml: one problem per group, its objects skipped.
    static func skipOrphans(_ listed: ListedFiles, into result: inout LoadResult) {
        var orphans: [String: [ObjectKey]] = [:]
        for key in listed.objectFiles { if case .group(let g) = key.scope, !listed.groupFiles.contains(g) { orphans[g, default: []].append(key) } }
        for (g, keys) in orphans.sorted(by: { $0.key < $1.key }) {
            let n = keys.count
            result.diagnostics.append(Diagnostic(path: "groups/\(g)/group.yaml", mark: .none,
                message: "group \"\(g)\" has no groups/\(g)/group.yaml, so its \(n) file\(n == 1 ? "" : "s") cannot be used: create it with `hone group create \(g) --description …`"))
            for key in keys {
                result.invalidObjects.insert(key)
                result.desired.runs[key] = nil; result.desired.evals[key] = nil; result.desired.views[key] = nil; result.desired.playgrounds[key] = nil
            }
        }
    }

    /// The checks across files (views, published manifests), then every diagnostic with its source line,
    /// sorted by place.
    static func checkAcrossFiles(basics: [Prepared], dependents: [Prepared], _ listed: ListedFiles, into result: inout LoadResult) {
        var reports: [FileReport?] = Array(repeating: nil, count: listed.paths.count)
        var texts: [[UInt8]?] = Array(repeating: nil, count: listed.paths.count)
        for j in listed.basics.indices { reports[listed.basics[j]] = basics[j].report; texts[listed.basics[j]] = basics[j].bytes }
        for j in listed.dependents.indices { reports[listed.dependents[j]] = dependents[j].report; texts[listed.dependents[j]] = dependents[j].bytes }
        References.checkViews(&result) { path in listed.index(of: path).flatMap { reports[$0] } }
        References.checkPublishedManifests(&result) { path -> (text: [UInt8], report: FileReport)? in
            guard let i = listed.index(of: path), let text = texts[i] else { return nil }
            if reports[i] == nil { reports[i] = FileReport(path: path) }
            return (text, reports[i]!)
        }
        for report in reports { if let report, !report.items.isEmpty { result.diagnostics += report.items } }
        for i in result.diagnostics.indices where result.diagnostics[i].line > 0 {
            let d = result.diagnostics[i]
            if let f = listed.index(of: d.path), let bytes = texts[f] { result.diagnostics[i].sourceLine = Loader.line(d.line, of: bytes) }
        }
        result.diagnostics = result.diagnostics.enumerated()
            .sorted { ($0.element.path, $0.element.line, $0.element.column, $0.offset) < ($1.element.path, $1.element.line, $1.element.column, $1.offset) }
            .map(\.element)
    }

    /// What loading makes of one file: its report, and its value when it has one.
    struct Prepared {
        enum Decoded {
            case none
            case project(Project?)
            case version(VersionSpec?)
            case group(GroupSpec?)
            case status(ObjectKey, ObjectStatus?)
            case run(RunSpec)
            case eval(EvalSpec)
            case view(ViewSpec, Node)
            case playground(PlaygroundSpec)
            /// Decoded, but on a version whose own file is broken (reported there, skipped here).
            case invalid
        }
        var bytes: [UInt8]?
        /// The parse, kept only for the parse cache.
        var entry: ParseCache.Entry?
        var report: FileReport?
        var decoded = Decoded.none
        /// A run's `publish: {model, as}`, read even when the run is invalid (it still claims the name).
        var publishes: (String, PublishAs)?
        /// Usable only if a model version it names gets published: decided when every publisher is known.
        var recheck = false
        /// The repository script a run's or eval's handler names, and where: checked once all are decoded.
        var script: (path: String, mark: Mark)?
        /// The paths a `code:` list names, and where: checked once all are decoded.
        var code: [(path: String, mark: Mark)] = []
        var failure: Error?

        /// A file listed but not there.
        init() {}
        /// A file refused by the read policy (a link, a special file, too large): one error, no value.
        init(refused: RefusedFile) {
            let report = FileReport(path: refused.path)
            report.error(refused.message, at: .none)
            self.report = report
        }
        init(failure: Error) { self.failure = failure }

        /// Reports the file's YAML problems and secrets, and decodes it. Runs, evals and views need the
        /// context (nil for hone.yaml, versions and groups).
        init(path: String, place: FilePlace, entry: ParseCache.Entry, context: ReferenceContext?, keepTree: Bool) {
            bytes = entry.bytes
            if keepTree { self.entry = entry }
            let report = FileReport(path: path)
            self.report = report
            let doc = entry.document
            for e in doc.errors { report.error(e.message, at: e.mark, notes: e.notes) }
            guard let root = doc.root else {
                if doc.errors.isEmpty { report.error("file is empty: expected a mapping with kind: …", at: Mark(line: 1, column: 1)) }
                return
            }
            for (section, e) in entry.secrets where !place.writtenByHone(section) { report.error(e.message, at: e.mark) }
            switch place {
            case .project: decoded = .project(Decoders.project(root, report: report))
            case .version(let kind, let ref): decoded = .version(Decoders.version(kind, ref: ref, root, report: report))
            case .group(let name): decoded = .group(Decoders.group(name, root, report: report))
            case .status(let key): decoded = .status(key, StatusCodec.decode(key, root, report: report))
            case .object(let key):
                guard let context else { return }
                if key.kind.runsJobs, let handler = root["handler"], let command = handler.scalar,
                   let path = HandlerScript.path(in: command) {
                    script = (path, handler.mark)
                }
                if key.kind.runsJobs, let items = root["code"]?.items {
                    code = items.compactMap { i in i.scalar.flatMap(HandlerScript.repositoryPath).map { ($0, i.mark) } }
                        .filter { !Decoders.writtenByHone($0.path) }
                }
                switch key.kind {
                case .run:
                    if let m = root["publish"]?["model"]?.scalar {
                        publishes = (m, root["publish"]?["as"]?.scalar == "version" ? .version : .new)
                    }
                    guard let r = Decoders.run(key, root, context: context, report: report) else { return }
                    decoded = context.usable(r.versionRefs, unsure: &recheck) ? .run(r) : .invalid
                case .eval:
                    guard let e = Decoders.eval(key, root, context: context, report: report) else { return }
                    decoded = context.usable(e.versionRefs, unsure: &recheck) ? .eval(e) : .invalid
                case .view:
                    if let v = Decoders.view(key, root, context: context, report: report) { decoded = .view(v, root) }
                case .playground:
                    guard let p = Decoders.playground(key, root, context: context, report: report) else { return }
                    decoded = context.usable(p.versionRefs, unsure: &recheck) ? .playground(p) : .invalid
                }
            default: break
            }
        }
    }

    /// Refused layout entries: an error each, and what they hold is left alone — a refused spec is an
    /// invalid object (never pruned or cancelled), a refused status an unreadable one (nothing launched
    /// over it). Returns the refused paths that are folders or stray files, whose contents are unknown.
    static func refuse(_ refused: [RefusedFile], into result: inout LoadResult, objectFiles: inout Set<ObjectKey>,
                       groupFiles: inout Set<String>, versionFiles: inout Set<String>) -> [String] {
        var folders: [String] = []
        for r in refused {
            result.diagnostics.append(Diagnostic(path: r.path, mark: .none, message: r.message))
            switch Classifier.place(of: r.path) {
            case .object(let key): objectFiles.insert(key); result.invalidObjects.insert(key)
            case .status(let key): result.recorded.unreadable[key] = r.path
            case .group(let name): groupFiles.insert(name)
            case .version: versionFiles.insert(r.path)
            case .project, .invalidName, .ignored: continue
            case .misplaced, .statusAttachment: folders.append(r.path)
            }
        }
        return folders
    }

    /// Objects below a refused folder (a link in place of `groups/g`, `status/groups/g/runs`): a recorded
    /// object there is invalid rather than deleted, a desired one has an unreadable status.
    static func leaveAlone(under folders: [String], _ result: inout LoadResult) {
        guard !folders.isEmpty else { return }
        func below(_ path: String) -> String? { folders.first { path.hasPrefix($0 + "/") } }
        for key in result.recorded.statuses.keys where below(key.specPath) != nil { result.invalidObjects.insert(key) }
        let desired = Array(result.desired.runs.keys) + Array(result.desired.evals.keys) + Array(result.desired.playgrounds.keys)
        for key in desired { if let folder = below(key.statusPath) { result.recorded.unreadable[key] = folder } }
    }

    /// One file's tree and its literal secrets (parsing is pure: one libyaml parser per file).
    static func parseEntry(_ bytes: [UInt8]) -> ParseCache.Entry {
        let doc = YAMLParser.parse(bytes)
        var secrets: [(section: Substring, error: YAMLError)] = []
        if let root = doc.root { Decoders.scanSecrets(root) { secrets.append(($2, YAMLError($0, at: $1))) } }
        return ParseCache.Entry(bytes: bytes, document: doc, secrets: secrets)
    }

    /// Threads worth starting for `n` files: one below 64 files.
    static func workerCount(_ n: Int) -> Int { n < 64 ? 1 : cores }

    /// Every core, at most 8; `HONE_WORKERS=N` sets it (benchmarks: `HONE_WORKERS=1` measures the work itself).
    static let cores: Int = {
        let n = Int(ProcessInfo.processInfo.environment["HONE_WORKERS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
        return max(1, min(n, 8))
    }()

    /// The text of line `n` (1-based), without its line break or a leading byte-order mark.
    public static func line(_ n: Int, of bytes: [UInt8]) -> String? {
        var current = 1
        var start = 0
        var end: Int? = nil
        for (i, b) in bytes.enumerated() where b == 10 {
            if current == n { end = i; break }
            current += 1
            start = i + 1
        }
        guard current == n, start <= bytes.count else { return nil }
        var slice = bytes[start..<(end ?? bytes.count)]
        if slice.last == 13 { slice = slice.dropLast() }
        if start == 0, slice.starts(with: [0xEF, 0xBB, 0xBF]) { slice = slice.dropFirst(3) }
        return String(decoding: slice, as: UTF8.self)
    }
}

/// Holds finished loading state that nothing reads again (so sharing it between threads is safe).
final class KeptUntilReleased: @unchecked Sendable {
    let value: Any
    init(_ value: Any) { self.value = value }
}

/// `HONE_TIMINGS=1`: milliseconds per loading phase on stderr (bench/validate.sh).
package struct PhaseClock {
    /// Whether `HONE_TIMINGS` asks for timings (the reconciler's are switched on by it too).
    package static let enabled = ProcessInfo.processInfo.environment["HONE_TIMINGS"].map { !$0.isEmpty && $0 != "0" } ?? false
    private var last = DispatchTime.now().uptimeNanoseconds
    mutating func lap(_ phase: String) {
        guard PhaseClock.enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        FileHandle.standardError.write(Data(String(format: "load %@: %.1f ms\n", phase, Double(now - last) / 1e6).utf8))
        last = now
    }
}
