import Foundation
import HoneLoading
import HoneModel

/// `hone get models|datasets|runtimes|views`: what the repository declares besides runs and evals, one
/// row per version (or view), from the files alone.
public enum Catalog {
    public static func columns(_ kind: VersionKind) -> [String] {
        switch kind {
        case .model: return ["name", "version", "uri", "sha256", "publishedFrom", "publishedAt", "description", "path"]
        case .dataset: return ["name", "version", "uri", "sha256", "description", "path"]
        case .runtime: return ["name", "version", "python", "requirements", "systemSitePackages", "description", "path"]
        }
    }

    static func narrow(_ kind: VersionKind) -> [String] {
        switch kind {
        case .model: return ["name", "version", "publishedFrom", "digest", "age"]
        case .dataset: return ["name", "version", "uri", "digest"]
        case .runtime: return ["name", "version", "python", "requirements"]
        }
    }

    /// Every version of a kind, by name then version (v2 before v10).
    public static func versions(_ load: LoadResult, _ kind: VersionKind, name: String? = nil) -> Table {
        let specs = (load.desired.versions[kind] ?? [:]).values.filter { name == nil || $0.ref.name == name }
            .sorted { a, b in a.ref.name != b.ref.name ? a.ref.name < b.ref.name : a.ref.version.compare(b.ref.version, options: .numeric) == .orderedAscending }
        var t = Table(columns: columns(kind), rows: specs.map(row))
        t.documentKind = kind.rawValue + "List"
        t.narrow = narrow(kind)
        t.ages = ["age": "publishedAt"]
        return t
    }

    static func row(_ v: VersionSpec) -> [String: JSONValue] {
        func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        var r: [String: JSONValue] = ["name": .string(v.ref.name), "version": .string(v.ref.version), "uri": str(v.uri),
                                      "sha256": str(v.sha256), "description": str(v.description), "path": .string(v.path)]
        // The narrow table's digest: enough of it to tell versions apart (wide and JSON have all of it).
        r["digest"] = str(v.sha256.map { String($0.prefix(12)) })
        switch v.kind {
        case .model:
            r["publishedFrom"] = str(v.publishedFrom); r["publishedAt"] = str(v.publishedAt)
        case .dataset: break
        case .runtime:
            r["python"] = .string(v.python)
            r["requirements"] = .string(v.requirements.joined(separator: " "))
            r["systemSitePackages"] = .bool(v.systemSitePackages)
        }
        return r
    }

    public static let viewColumns = ["name", "group", "for", "columns", "pinned", "filter", "sort", "default", "visible", "path"]

    /// The saved views (of one scope, or all), by scope then name.
    public static func views(_ load: LoadResult, scope: Scope?) -> Table {
        let specs = load.desired.views.values.filter { scope == nil || $0.key.scope == scope }.sorted { $0.key < $1.key }
        let rows: [[String: JSONValue]] = specs.map { v in
            ["name": .string(v.key.name), "group": .string(v.key.scope.name),
             "columns": v.columns.map { .string($0.joined(separator: ",")) } ?? .null,
             "pinned": .string(v.pinned.joined(separator: ",")),
             "filter": .string(v.filter.map { "\($0.column)\($0.op.rawValue)\($0.value)" }.joined(separator: " ")),
             "sort": .string("\(v.sortBy) \(v.sortOrder.rawValue)"),
             "default": .bool(v.isDefault), "visible": .bool(v.visible), "path": .string(v.key.specPath),
             "for": .string(v.target.rawValue), Table.itemKey: viewItem(v)]
        }
        var t = Table(columns: viewColumns, rows: rows)
        t.documentKind = "ViewList"
        t.narrow = ["name", "group", "default", "visible", "columns"]
        return t
    }
}

/// One view of `get views -o json`.
struct ViewItem: Encodable {
    struct Sort: Encodable { var by: String; var order: String }
    var object: ObjectRef
    var `for`: String
    /// nil: every column.
    var columns: [String]?
    var pinned: [String]
    /// `column` → condition as written in the view (`">=0.5"`, `Succeeded`).
    var filter: [String: String]
    var sort: Sort
    var `default`: Bool
    var visible: Bool
}

extension Catalog {
    static func viewItem(_ v: ViewSpec) -> JSONValue {
        let filter = Dictionary(v.filter.map { ($0.column, ($0.op == .eq || $0.op == .glob ? "" : $0.op.rawValue) + $0.value) }, uniquingKeysWith: { a, _ in a })
        let item = ViewItem(object: ObjectRef(v.key), for: v.target.rawValue, columns: v.columns, pinned: v.pinned, filter: filter,
                            sort: .init(by: v.sortBy, order: v.sortOrder.rawValue), default: v.isDefault, visible: v.visible)
        return (try? JSONValue(encoding: item)) ?? .null
    }
}

/// `hone describe group G` and `hone describe model NAME[@VERSION]`.
extension Catalog {
    public static func groupDocument(_ load: LoadResult, _ g: String) -> JSONValue {
        let scope = Scope.group(g)
        func members(_ kind: ObjectKey.Kind) -> JSONValue {
            .array(Listings.keys(load, kind: kind, scope: scope).map { k in
                .object(["name": .string(k.name), "phase": .string(load.recorded.statuses[k]?.phase.rawValue ?? neverRunPhase)])
            })
        }
        let views = load.desired.views.keys.filter { $0.scope == scope }.map(\.name).sorted()
        let row = Listings.groups(load).rows.first { $0["name"] == .string(g) }
        return .object(["object": .string(g), "kind": .string("Group"), "path": .string("groups/\(g)/group.yaml"),
                        "description": load.desired.groups[g]?.description.map(JSONValue.string) ?? .null,
                        "lastActivity": row?["lastActivity"] ?? .null,
                        "runs": members(.run), "evals": members(.eval), "views": .array(views.map(JSONValue.string))])
    }

    public static func groupText(_ load: LoadResult, _ g: String, now: Date = Date()) -> String {
        let doc = groupDocument(load, g)
        var out = "Group \(g)\n"
        out += "Description:    \(doc["description"].flatMap { $0 == .null ? nil : $0.display } ?? "-")\n"
        out += "Last activity:  \(doc["lastActivity"].flatMap { $0 == .null ? nil : $0.display } ?? "-")\n"
        out += "Views:          \(doc["views"]?.arrayValue?.map(\.display).joined(separator: ", ").nonEmpty ?? "-")\n"
        let runs = Listings.runs(load, group: g), evals = Listings.evals(load, scope: .group(g), view: nil)
        out += "\nRuns:\n" + (runs.rows.isEmpty ? "  (none)\n" : runs.render(.table, now: now))
        out += "\nEvals:\n" + (evals.rows.isEmpty ? "  (none)\n" : evals.render(.table, now: now))
        return out
    }

    /// A model's versions (or one), with the evals that read each.
    public static func modelDocument(_ load: LoadResult, name: String, version: String?) -> JSONValue {
        let table = versions(load, .model, name: name)
        let rows = table.rows.filter { version == nil || $0["version"] == .string(version!) }
        let items: [JSONValue] = rows.map { r in
            var o = Dictionary(uniqueKeysWithValues: table.columns.map { ($0, r[$0] ?? .null) })
            let ref = VersionRef(name: name, version: r["version"]?.stringValue ?? "")
            o["metrics"] = .object(load.desired.version(.model, ref)?.metrics ?? [:])
            o["evals"] = .array(load.desired.evals.values.filter { $0.model == ref }.map(\.key).sorted().map { .string($0.display) })
            return .object(o)
        }
        return .object(["object": .string(version.map { "\(name)@\($0)" } ?? name), "kind": .string("Model"),
                        "name": .string(name), "versions": .array(items)])
    }

    public static func modelText(_ load: LoadResult, name: String, version: String?) -> String {
        let doc = modelDocument(load, name: name, version: version)
        var out = "Model \(doc["object"]?.display ?? name)\n"
        for v in doc["versions"]?.arrayValue ?? [] {
            out += "\nVersion \(v["version"]?.display ?? "?")\n"
            for (label, key) in [("Path", "path"), ("URI", "uri"), ("sha256", "sha256"), ("Published from", "publishedFrom"),
                                 ("Published at", "publishedAt"), ("Description", "description")] {
                let value = v[key].flatMap { $0 == .null ? nil : $0.display } ?? "-"
                out += "  " + (label + ":").padding(toLength: 16, withPad: " ", startingAt: 0) + value + "\n"
            }
            let metrics = v["metrics"]?.objectValue ?? [:]
            out += "  Metrics:        " + (metrics.isEmpty ? "-" : metrics.keys.sorted().map { "\($0)=\(metrics[$0]!.display)" }.joined(separator: ", ")) + "\n"
            let evals = v["evals"]?.arrayValue?.map(\.display) ?? []
            out += "  Evals:          " + (evals.isEmpty ? "-" : evals.joined(separator: ", ")) + "\n"
        }
        return out
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
