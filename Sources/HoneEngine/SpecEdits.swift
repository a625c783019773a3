import Foundation
import HoneLoading
import HoneModel
import YAML

/// One file change of an edit command: new text, or nil to delete the file.
public struct SpecChange: Sendable {
    public var path: String
    public var text: String?
    public init(path: String, text: String?) { self.path = path; self.text = text }
}

/// What an edit command did.
public struct EditOutcome: Sendable {
    public var changed: [String]
    /// Errors the repository already had elsewhere (not caused by this edit): worth a note.
    public var otherErrors: Int
}

/// The working tree with some files replaced or deleted: lets an edit be validated before it is written.
struct OverlaySource: FileSource {
    var base: FileSource
    var changes: [String: String?]
    var label: String { base.label }
    func listFiles() throws -> [String] {
        var files = Set(try base.listFiles())
        for (path, text) in changes { if text == nil { files.remove(path) } else if Layout.isInLayout(path) { files.insert(path) } }
        return files.sorted()
    }
    func listing() throws -> Listing {
        var l = try base.listing()
        l.files = try listFiles()
        l.refused.removeAll { changes[$0.path] != nil }
        return l
    }
    func read(_ path: String, limit: Int) throws -> [UInt8]? {
        if let change = changes[path] { return change.map { Array($0.utf8) } }
        return try base.read(path, limit: limit)
    }
    func filesInFolder(_ folder: String) throws -> [String]? { try base.filesInFolder(folder) }
}

/// The settings `hone view save|save-as` write (nil: leave as is).
public struct ViewSettings: Sendable {
    public var columns: [String]?
    public var pinned: [String]?
    /// `phase=Succeeded`, `metrics.accuracy>=0.5`, `model=support-bot@*` (one per column).
    public var filters: [String]?
    public var clearFilter = false
    /// `createdAt:desc`, `metrics.accuracy` (order defaults to desc).
    public var sort: String?
    public init(columns: [String]? = nil, pinned: [String]? = nil, filters: [String]? = nil, clearFilter: Bool = false, sort: String? = nil) {
        self.columns = columns; self.pinned = pinned; self.filters = filters; self.clearFilter = clearFilter; self.sort = sort
    }
    public var isEmpty: Bool { columns == nil && pinned == nil && filters == nil && !clearFilter && sort == nil }
}

/// Edit commands (`hone rerun`, `hone publish`, `hone view …`): they change spec files in the working
/// tree — keeping comments and layout (SpecEditor) — for the user to commit. An edit that would make
/// the repository invalid is refused and nothing is written.
public struct SpecEdits {
    public let workspace: Workspace
    public init(workspace: Workspace) { self.workspace = workspace }

    /// The spec to edit, read by the loader's policy: a link or special file is refused, never followed.
    func read(_ path: String) throws -> String {
        try SpecEdits.read(path, in: workspace)
    }

    static func read(_ path: String, in workspace: Workspace) throws -> String {
        do {
            guard let bytes = try WorkingTreeSource(root: workspace.root).read(path, limit: ReadLimit.specFile) else {
                throw HoneError("cannot read \(path): no such file")
            }
            return String(decoding: bytes, as: UTF8.self)
        } catch let refused as RefusedFile {
            throw HoneError("cannot edit \(refused)")
        }
    }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: workspace.url(path).path) }

    /// Loads the repository with the changes applied; refuses (writing nothing) when they add errors,
    /// then writes them.
    public func apply(_ changes: [SpecChange]) throws -> EditOutcome {
        let base = WorkingTreeSource(root: workspace.root)
        let before = try Loader(source: base).load()
        let overlay = OverlaySource(base: base, changes: Dictionary(changes.map { ($0.path, $0.text) }, uniquingKeysWith: { _, b in b }))
        let after = try Loader(source: overlay).load()
        func signature(_ d: Diagnostic) -> String { d.path + "\u{0}" + d.message }
        let old = Set(before.errors.map(signature))
        let added = after.errors.filter { !old.contains(signature($0)) }
        if !added.isEmpty {
            throw HoneError("nothing was written: the edit would make the repository invalid:\n" + added.map(\.description).joined(separator: "\n"))
        }
        for change in changes {
            if let text = change.text { try workspace.write(change.path, text) }
            else { try FileManager.default.removeItem(at: workspace.url(change.path)) }
        }
        return EditOutcome(changed: changes.map(\.path), otherErrors: after.errors.count)
    }

    // MARK: rerun, publish

    /// Raises `rerun:` by one (adds `rerun: 1` when absent). Returns the object and the new value.
    public func rerun(_ address: ObjectAddress) throws -> (key: ObjectKey, from: Int, to: Int, outcome: EditOutcome) {
        let load = try workspace.load(ref: nil)
        let key = try address.resolve(in: load)
        guard exists(key.specPath) else { throw HoneError("\(key.display) has no spec (\(key.specPath) was deleted): there is nothing to rerun") }
        var editor = try SpecEditor(text: read(key.specPath), path: key.specPath)
        var current = 0
        if let node = try editor.value("rerun"), let s = node.scalar, node.resolvedType != .null {
            guard let n = Int(s), n >= 0 else { throw HoneError("\(key.specPath): \"rerun\" is \"\(s)\", not a number: fix it first") }
            current = n
        }
        try editor.set("rerun", .int(current + 1))
        let outcome = try apply([SpecChange(path: key.specPath, text: editor.text)])
        return (key, current, current + 1, outcome)
    }

    /// Writes `publish: {model: M, as: new|version}` into a run's spec.
    public func publish(_ address: ObjectAddress, model: String, as mode: PublishAs) throws -> (key: ObjectKey, replaced: PublishRequest?, outcome: EditOutcome) {
        guard Names.isValid(model) else { throw HoneError("model name \"\(model)\" is not a valid name (names match \(Names.pattern))") }
        let load = try workspace.load(ref: nil)
        let key = try address.resolve(in: load, only: .run)
        guard exists(key.specPath) else { throw HoneError("\(key.display) has no spec (\(key.specPath) was deleted): it cannot be published") }
        let versions = (load.desired.versions[.model] ?? [:]).values.filter { $0.ref.name == model }
        let onDisk = load.files.contains { $0.hasPrefix("models/\(model)/") && $0.hasSuffix(".yaml") }
        switch mode {
        case .new:
            // The model this very run created stays its own when other runs add versions (as the loader says).
            if (onDisk && versions.isEmpty) || (!versions.isEmpty && !versions.modelCreated(by: key.display)) {
                let list = versions.map(\.ref.version).sorted().joined(separator: ", ")
                throw HoneError("model \"\(model)\" already exists (models/\(model)/\(list.isEmpty ? "" : ": " + list)): use --existing to publish a new version of it, or choose another name")
            }
        case .version:
            // Another run publishing M as new makes it exist by then (the loader accepts that too).
            let comingFromOther = load.desired.runs.values.contains { $0.key != key && $0.publish?.model == model && $0.publish?.as_ == .new }
            if !onDisk && !comingFromOther {
                let names = Set((load.desired.versions[.model] ?? [:]).keys.map(\.name))
                let hint = NearMiss.suggestion(for: model, among: Array(names)).map { " (did you mean \($0)?)" } ?? ""
                throw HoneError("model \"\(model)\" does not exist (no models/\(model)/)\(hint): use --new to publish it as a new model")
            }
        }
        var editor = try SpecEditor(text: read(key.specPath), path: key.specPath)
        try editor.set("publish", .mapping([("model", .text(model)), ("as", .string(mode.rawValue))]))
        let outcome = try apply([SpecChange(path: key.specPath, text: editor.text)])
        return (key, load.desired.runs[key]?.publish, outcome)
    }

    // MARK: views

    func checkScope(_ scope: Scope, _ load: LoadResult) throws { try ObjectAddress.checkScope(scope, in: load) }

    func viewFiles(_ scope: Scope, _ load: LoadResult) -> [String] {
        let folder = scope.folder + "/views/"
        return load.files.filter { $0.hasPrefix(folder) && $0.hasSuffix(".yaml") && !$0.dropFirst(folder.count).contains("/") }
    }

    func existingView(_ scope: Scope, _ name: String, _ load: LoadResult) throws -> ObjectKey {
        let key = ObjectKey(scope: scope, kind: .view, name: name)
        guard load.files.contains(key.specPath) else {
            let names = viewFiles(scope, load).map { String($0.split(separator: "/").last!.dropLast(5)) }
            let hint = NearMiss.suggestion(for: name, among: names).map { " (did you mean \($0)?)" } ?? ""
            throw HoneError("no view \"\(name)\" in \(scope.folder)/views\(hint)" + (names.isEmpty ? "" : "; views: \(names.sorted().joined(separator: ", "))"))
        }
        return key
    }

    /// `metrics.accuracy>=0.5` → (`metrics.accuracy`, `>=0.5`); `phase=Succeeded` → (`phase`, `Succeeded`).
    public static func parseFilter(_ text: String) throws -> (column: String, condition: String) {
        guard let i = text.firstIndex(where: { "=!<>".contains($0) }), i > text.startIndex else {
            throw HoneError("--filter \"\(text)\": expected COLUMN=VALUE, COLUMN!=VALUE or COLUMN>=N (also <, <=, >); VALUE may use * and ?")
        }
        let column = String(text[..<i]).trimmingCharacters(in: .whitespaces)
        var condition = String(text[i...]).trimmingCharacters(in: .whitespaces)
        if condition.hasPrefix("=") && !condition.hasPrefix("==") { condition.removeFirst() }
        return (column, condition)
    }

    static func parseSort(_ text: String) throws -> (by: String, order: ViewSortOrder) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, !parts[0].isEmpty else { throw HoneError("--sort \"\(text)\": expected COLUMN or COLUMN:asc|desc") }
        guard let order = parts.count == 2 ? ViewSortOrder(rawValue: parts[1]) : .desc else {
            throw HoneError("--sort \"\(text)\": the order must be asc or desc, found \"\(parts[1])\"")
        }
        return (parts[0], order)
    }

    static func applySettings(_ s: ViewSettings, to editor: inout SpecEditor) throws {
        if let columns = s.columns { try editor.set("columns", .sequence(columns.map(Node.text))) }
        if let pinned = s.pinned {
            if pinned.isEmpty { try editor.remove("pinned") } else { try editor.set("pinned", .sequence(pinned.map(Node.text))) }
        }
        if s.clearFilter { try editor.remove("filter") }
        if let filters = s.filters, !filters.isEmpty {
            var pairs: [(String, Node)] = []
            for f in filters {
                let (column, condition) = try parseFilter(f)
                if pairs.contains(where: { $0.0 == column }) {
                    throw HoneError("--filter: column \"\(column)\" is given twice: a view holds one condition per column")
                }
                pairs.append((column, .text(condition)))
            }
            try editor.set("filter", .mapping(pairs))
        }
        if let sort = s.sort {
            let (by, order) = try parseSort(sort)
            try editor.set("sort", .mapping([("by", .text(by)), ("order", .string(order.rawValue))]))
        }
    }

    /// `hone view save V`: writes the given settings into an existing view.
    public func saveView(_ scope: Scope, _ name: String, _ settings: ViewSettings) throws -> EditOutcome {
        guard !settings.isEmpty else { throw HoneError("nothing to save: give --columns, --pinned, --filter, --clear-filter or --sort") }
        let load = try workspace.load(ref: nil, includeStatus: false)
        try checkScope(scope, load)
        let key = try existingView(scope, name, load)
        var editor = try SpecEditor(text: read(key.specPath), path: key.specPath)
        try SpecEdits.applySettings(settings, to: &editor)
        return try apply([SpecChange(path: key.specPath, text: editor.text)])
    }

    /// `hone view save-as NEW [--from V]`: a new view (not the default), from V's settings or from
    /// scratch (every column, newest first), with the given settings on top.
    public func saveViewAs(_ scope: Scope, _ name: String, from: String?, _ settings: ViewSettings) throws -> EditOutcome {
        guard Names.isValid(name) else { throw HoneError("view name \"\(name)\" is not a valid name (names match \(Names.pattern))") }
        let load = try workspace.load(ref: nil, includeStatus: false)
        try checkScope(scope, load)
        let key = ObjectKey(scope: scope, kind: .view, name: name)
        if load.files.contains(key.specPath) { throw HoneError("view \"\(name)\" already exists (\(key.specPath)): use `hone view save \(name) …` to change it") }
        var editor: SpecEditor
        if let from {
            let source = try existingView(scope, from, load)
            editor = try SpecEditor(text: read(source.specPath), path: key.specPath)
            try editor.remove("default")
        } else {
            editor = try SpecEditor(text: "kind: View\n", path: key.specPath)
        }
        try SpecEdits.applySettings(settings, to: &editor)
        // The product's default for a new view: newest first, written out so the file says it.
        if from == nil && settings.sort == nil {
            try editor.set("sort", .mapping([("by", .string("createdAt")), ("order", .string("desc"))]))
        }
        return try apply([SpecChange(path: key.specPath, text: editor.text)])
    }

    public func deleteView(_ scope: Scope, _ name: String) throws -> (outcome: EditOutcome, wasDefault: Bool) {
        let load = try workspace.load(ref: nil, includeStatus: false)
        try checkScope(scope, load)
        let key = try existingView(scope, name, load)
        let wasDefault = load.desired.views[key]?.isDefault ?? false
        return (try apply([SpecChange(path: key.specPath, text: nil)]), wasDefault)
    }

    /// Makes V the scope's default view and clears `default` on any other.
    public func setDefaultView(_ scope: Scope, _ name: String) throws -> (outcome: EditOutcome, cleared: [String], hidden: Bool) {
        let load = try workspace.load(ref: nil, includeStatus: false)
        try checkScope(scope, load)
        let key = try existingView(scope, name, load)
        var changes: [SpecChange] = []
        var cleared: [String] = []
        let target = load.desired.views[key]?.target
        let sameTarget = { (path: String) in load.desired.views.values.first { $0.key.specPath == path }.map { $0.target == target } ?? true }
        for path in viewFiles(scope, load) where path != key.specPath && sameTarget(path) {
            var editor = try SpecEditor(text: read(path), path: path)
            if let d = try editor.value("default"), d.scalar == "true" {
                try editor.set("default", .bool(false))
                changes.append(SpecChange(path: path, text: editor.text))
                cleared.append(String(path.split(separator: "/").last!.dropLast(5)))
            }
        }
        var editor = try SpecEditor(text: read(key.specPath), path: key.specPath)
        try editor.set("default", .bool(true))
        changes.insert(SpecChange(path: key.specPath, text: editor.text), at: 0)
        let hidden = load.desired.views[key].map { !$0.visible } ?? false
        return (try apply(changes), cleared, hidden)
    }

    /// `hone view hide|show V`.
    public func setViewVisible(_ scope: Scope, _ name: String, _ visible: Bool) throws -> (outcome: EditOutcome, isDefault: Bool) {
        let load = try workspace.load(ref: nil, includeStatus: false)
        try checkScope(scope, load)
        let key = try existingView(scope, name, load)
        var editor = try SpecEditor(text: read(key.specPath), path: key.specPath)
        try editor.set("visible", .bool(visible))
        return (try apply([SpecChange(path: key.specPath, text: editor.text)]), load.desired.views[key]?.isDefault ?? false)
    }
}
