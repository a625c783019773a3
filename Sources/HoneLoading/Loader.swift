import Foundation
import HoneModel
import YAML

/// What a file is, by its place in the layout (design §1).
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

enum Classifier {
    static func place(of path: String) -> FilePlace {
        if path == Layout.projectFile { return .project }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let isYAML = path.hasSuffix(".yaml")
        func stem(_ s: String) -> String { String(s.dropLast(5)) }
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
                return check([parts[1], stem(parts[2])], .version(kind, VersionRef(name: parts[1], version: stem(parts[2]))))
            }
            // Small artifacts may be committed beside their versions; only stray YAML is suspicious.
            return path.hasSuffix(".yaml") || path.hasSuffix(".yml") ? unknown : .ignored
        case "groups":
            if parts.count == 3 && parts[2] == "group.yaml" { return check([parts[1]], .group(parts[1])) }
            if parts.count == 4 && isYAML {
                let kinds: [String: ObjectKey.Kind] = ["runs": .run, "evals": .eval, "views": .view]
                if let k = kinds[parts[2]] {
                    return check([parts[1], stem(parts[3])], .object(ObjectKey(scope: .group(parts[1]), kind: k, name: stem(parts[3]))))
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
            if parts.count == 5 && parts[1] == "groups" && isYAML && (parts[3] == "runs" || parts[3] == "evals") {
                return .status(ObjectKey(scope: .group(parts[2]), kind: parts[3] == "runs" ? .run : .eval, name: stem(parts[4])))
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
    /// Root nodes of object files, for marks in later checks.
    var nodes: [String: Node] = [:]

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
        var secrets: [YAMLError]
    }
    private var entries: [String: Entry] = [:]
    private let lock = NSLock()
    public init() {}

    subscript(id: String) -> Entry? { lock.withLock { entries[id] } }

    /// Keeps exactly these entries (the files of the latest load).
    func replace(with fresh: [String: Entry]) { lock.withLock { entries = fresh } }
}

/// Reads a repository (working tree or commit) into model values, checking everything (design §1):
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

    public func load(includeStatus: Bool = true) throws -> LoadResult {
        var result = LoadResult()
        let paths = try source.listFiles().sorted()
        result.files = paths
        var texts: [String: [UInt8]] = [:]
        var reports: [String: FileReport] = [:]

        // Read every file hone parses (sequentially: a libgit2 handle is not shared between threads),
        // then parse them on every core.
        var toParse: [String] = []
        let places = paths.map(Classifier.place)
        for (path, place) in zip(paths, places) {
            switch place {
            case .project, .version, .group: toParse.append(path)
            case .object: if wanted(path) { toParse.append(path) }
            case .status: if includeStatus && wanted(path) { toParse.append(path) }
            default: break
            }
        }
        var parsed: [String: (bytes: [UInt8], document: YAMLDocument, secrets: [YAMLError])] = [:]
        parsed.reserveCapacity(toParse.count)
        // Files the cache holds (same content id) are neither read nor parsed again.
        var ids: [String: String] = [:]
        var kept: [String: ParseCache.Entry] = [:]
        if let cache {
            for path in toParse {
                guard let id = try source.contentID(path) else { continue }
                ids[path] = id
                if let hit = cache[id] {
                    parsed[path] = (hit.bytes, hit.document, hit.secrets)
                    kept[id] = hit
                }
            }
        }
        let unparsed = parsed.isEmpty ? toParse : toParse.filter { parsed[$0] == nil }
        var contents: [[UInt8]?] = []
        contents.reserveCapacity(unparsed.count)
        for path in unparsed { contents.append(try source.read(path)) }
        let documents = Loader.parseAll(contents)
        for (i, path) in unparsed.enumerated() {
            if let bytes = contents[i], let (doc, secrets) = documents[i] {
                parsed[path] = (bytes, doc, secrets)
                if let id = ids[path] { kept[id] = ParseCache.Entry(bytes: bytes, document: doc, secrets: secrets) }
            }
        }
        contents = []
        cache?.replace(with: kept)

        func parse(_ path: String) throws -> Node? {
            guard let (bytes, doc, secrets) = parsed[path] else { return nil }
            texts[path] = bytes
            let report = FileReport(path: path)
            reports[path] = report
            for e in doc.errors { report.error(e.message, at: e.mark, notes: e.notes) }
            guard let root = doc.root else {
                if doc.errors.isEmpty { report.error("file is empty: expected a mapping with kind: …", at: Mark(line: 1, column: 1)) }
                return nil
            }
            for e in secrets { report.error(e.message, at: e.mark) }
            return root
        }

        // The project first: pools and the default pool are needed by the others.
        if paths.contains(Layout.projectFile), let root = try parse(Layout.projectFile) {
            result.desired.project = Decoders.project(root, report: reports[Layout.projectFile]!)
        } else if !paths.contains(Layout.projectFile) {
            result.diagnostics.append(Diagnostic(path: Layout.projectFile, mark: .none, message: "no hone.yaml: this is not a hone repository (run `hone init` to make one)"))
        }
        let project = result.desired.project

        // Pass 1: what everything else refers to (versions, groups), and the object files' trees.
        var objects: [(ObjectKey, String, Node)] = []
        var objectFiles: Set<ObjectKey> = []
        var groupFiles: Set<String> = []
        var versionFiles: Set<String> = []
        for (path, place) in zip(paths, places) where path != Layout.projectFile {
            switch place {
            case .project, .ignored, .statusAttachment: continue
            case .misplaced(let message):
                result.diagnostics.append(Diagnostic(.warning, path: path, mark: .none, message: message))
            case .invalidName(let message):
                result.diagnostics.append(Diagnostic(path: path, mark: .none, message: message))
            case .status(let key):
                guard includeStatus, let root = try parse(path) else { continue }
                if let status = StatusCodec.decode(key, root, report: reports[path]!) { result.recorded.statuses[key] = status }
            case .version(let kind, let ref):
                versionFiles.insert(path)
                guard let root = try parse(path) else { continue }
                if let v = Decoders.version(kind, ref: ref, root, report: reports[path]!) {
                    result.desired.versions[kind, default: [:]][ref] = v
                }
            case .group(let name):
                groupFiles.insert(name)
                guard let root = try parse(path) else { continue }
                if let g = Decoders.group(name, root, report: reports[path]!) { result.desired.groups[name] = g }
            case .object(let key):
                objectFiles.insert(key)
                guard wanted(path) else { continue }
                guard let root = try parse(path) else { result.invalidObjects.insert(key); continue }
                result.nodes[path] = root
                objects.append((key, path, root))
            }
        }

        // Pass 2: runs, evals and views, with every reference checked where it is written.
        var publishes: [String: [(PublishAs, ObjectKey)]] = [:]
        for (key, _, root) in objects where key.kind == .run {
            if let m = root["publish"]?["model"]?.scalar {
                publishes[m, default: []].append((root["publish"]?["as"]?.scalar == "version" ? .version : .new, key))
            }
        }
        let context = ReferenceContext(project: project, versions: result.desired.versions, versionFiles: versionFiles,
                                       groups: Set(result.desired.groups.keys), groupFiles: groupFiles, objectFiles: objectFiles,
                                       publishes: publishes)
        // Decoded on every core: each object has its own report; the context is only read.
        enum Decoded { case run(RunSpec?), eval(EvalSpec?), view(ViewSpec?) }
        let objectReports = objects.map { reports[$0.1]! }
        nonisolated(unsafe) let sharedReports = objectReports
        let sharedObjects = objects
        let decoded: [Decoded] = Loader.parallelMap(objects.count) { i in
            let (key, _, root) = sharedObjects[i]
            let report = sharedReports[i]
            switch key.kind {
            case .run: return .run(Decoders.run(key, root, context: context, report: report))
            case .eval: return .eval(Decoders.eval(key, root, context: context, report: report))
            case .view: return .view(Decoders.view(key, root, context: context, report: report))
            }
        }
        func exists(_ kind: VersionKind, _ ref: VersionRef?) -> Bool {
            guard let ref else { return true }
            return result.desired.version(kind, ref) != nil || context.willBePublished(ref, kind)
        }
        for (i, (key, _, _)) in objects.enumerated() {
            switch decoded[i] {
            case .run(let r?):
                // A run on a broken version file: reported there, skipped here.
                if exists(.model, r.baseModel) && exists(.dataset, r.trainDataset) && exists(.dataset, r.validationDataset) && exists(.runtime, r.runtime) {
                    result.desired.runs[key] = r
                } else { result.invalidObjects.insert(key) }
            case .eval(let e?):
                if exists(.model, e.model) && exists(.dataset, e.dataset) && exists(.runtime, e.runtime) {
                    result.desired.evals[key] = e
                } else { result.invalidObjects.insert(key) }
            case .view(let v?): result.desired.views[key] = v
            default: break
            }
            if objectReports[i].hasErrors { result.invalidObjects.insert(key) }
        }

        // Objects of a group without groups/<g>/group.yaml: one problem per group, its objects skipped.
        var orphans: [String: [ObjectKey]] = [:]
        for key in objectFiles { if case .group(let g) = key.scope, !groupFiles.contains(g) { orphans[g, default: []].append(key) } }
        for (g, keys) in orphans.sorted(by: { $0.key < $1.key }) {
            let n = keys.count
            result.diagnostics.append(Diagnostic(path: "groups/\(g)/group.yaml", mark: .none,
                message: "group \"\(g)\" has no groups/\(g)/group.yaml, so its \(n) file\(n == 1 ? "" : "s") cannot be used: create it with `hone group create \(g) --description …`"))
            for key in keys {
                result.invalidObjects.insert(key)
                result.desired.runs[key] = nil; result.desired.evals[key] = nil; result.desired.views[key] = nil
            }
        }
        References.checkViews(&result, reports: reports)
        References.checkPublishedManifests(&result, texts: texts, reports: &reports)

        // Source lines for every diagnostic that points into a file.
        for path in reports.keys.sorted() { result.diagnostics += reports[path]!.items }
        for i in result.diagnostics.indices where result.diagnostics[i].line > 0 {
            let d = result.diagnostics[i]
            if let bytes = texts[d.path] { result.diagnostics[i].sourceLine = Loader.line(d.line, of: bytes) }
        }
        result.diagnostics = result.diagnostics.enumerated()
            .sorted { ($0.element.path, $0.element.line, $0.element.column, $0.offset) < ($1.element.path, $1.element.line, $1.element.column, $1.offset) }
            .map(\.element)
        return result
    }

    /// Parses files on every core (YAML parsing is pure: one libyaml parser per file).
    /// Literal secrets are looked for here too, as they need nothing but the tree.
    static func parseAll(_ contents: [[UInt8]?]) -> [(YAMLDocument, [YAMLError])?] {
        let contents = contents
        return parallelMap(contents.count) { i in
            guard let bytes = contents[i] else { return nil }
            let doc = YAMLParser.parse(bytes)
            var secrets: [YAMLError] = []
            if let root = doc.root { Decoders.scanSecrets(root) { secrets.append(YAMLError($0, at: $1)) } }
            return (doc, secrets)
        }
    }

    /// `(0..<n).map(body)` on every core, in order. `body` must only read shared state.
    static func parallelMap<T>(_ n: Int, _ body: (Int) -> T) -> [T] {
        guard n > 0 else { return [] }
        let workers = n < 64 ? 1 : max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        if workers == 1 { return (0..<n).map(body) }
        let out = UnsafeMutableBufferPointer<T?>.allocate(capacity: n)
        out.initialize(repeating: nil)
        defer { out.deinitialize(); out.deallocate() }
        nonisolated(unsafe) let target = out
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var i = w
                while i < n {
                    target[i] = body(i)
                    i += workers
                }
            }
        }
        return out.map { $0! }
    }

    /// The text of line `n` (1-based), without its line break or a leading byte-order mark.
    static func line(_ n: Int, of bytes: [UInt8]) -> String? {
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
