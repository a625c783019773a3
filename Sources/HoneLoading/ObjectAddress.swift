import Foundation
import HoneLoading
import HoneModel

/// How users name a run or eval on the command line: `support/lora-r8`, `evaluations/e`, or — when a
/// group has a run and an eval of the same name — `support/runs/x`, `support/evals/x`, or the spec path
/// `groups/support/runs/x.yaml`.
public struct ObjectAddress: Sendable, CustomStringConvertible {
    public var scope: Scope
    public var name: String
    /// Set when the address says which kind it means.
    public var kind: ObjectKey.Kind?

    public var description: String { "\(scope.name)/\(kind.map { $0.rawValue + "s/" } ?? "")\(name)" }

    public static func parse(_ text: String) throws -> ObjectAddress {
        var t = text
        if t.hasSuffix(".yaml") { t = String(t.dropLast(5)) }
        var parts = t.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "groups" && parts.count == 4 { parts.removeFirst() }
        let usage = "\"\(text)\" is not an object name: use GROUP/NAME (support/lora-r8) or evaluations/NAME"
        func kind(_ s: String) -> ObjectKey.Kind? { ObjectKey.Kind(folder: s).flatMap { $0.runsJobs ? $0 : nil } }
        let address: ObjectAddress
        switch parts.count {
        case 2:
            address = ObjectAddress(scope: parts[0] == "evaluations" ? .evaluations : .group(parts[0]), name: parts[1], kind: nil)
        case 3:
            guard let k = kind(parts[1]), parts[0] != "evaluations" else { throw HoneError(usage) }
            address = ObjectAddress(scope: .group(parts[0]), name: parts[2], kind: k)
        default:
            throw HoneError(usage)
        }
        if case .group(let g) = address.scope, !Names.isValid(g) { throw HoneError(usage) }
        guard Names.isValid(address.name) else { throw HoneError(usage) }
        return address
    }

    /// The run or eval this address names, in the specs or (for a deleted spec) the recorded state.
    public func resolve(in load: LoadResult, only: ObjectKey.Kind? = nil) throws -> ObjectKey {
        let wanted = kind ?? only
        if let only, let kind, kind != only {
            throw HoneError("\(self) is \(kind.withArticle), not \(only.withArticle)")
        }
        let kinds: [ObjectKey.Kind] = wanted.map { [$0] } ?? (scope == .evaluations ? [.eval] : [.run, .eval])
        let found = kinds.map { ObjectKey(scope: scope, kind: $0, name: name) }.filter { key in
            load.desired.hasSpec(key) || load.recorded.statuses[key] != nil
                || load.files.contains(key.specPath)
        }
        if found.count > 1 {
            throw HoneError("\(self) is both a run and an eval: say which with \(scope.name)/runs/\(name) or \(scope.name)/evals/\(name)")
        }
        if let key = found.first {
            if load.invalidObjects.contains(key) && load.recorded.statuses[key] == nil {
                throw HoneError("\(key.specPath) is invalid: run `hone validate` to see why")
            }
            return key
        }
        let what = wanted?.rawValue ?? "run or eval"
        let known = (Array(load.desired.runs.keys) + Array(load.desired.evals.keys))
            .filter { $0.scope == scope && (wanted == nil || $0.kind == wanted) }.map(\.name)
        var hint = ""
        if let near = NearMiss.suggestion(for: name, among: known) { hint = " (did you mean \(scope.name)/\(near)?)" }
        if case .group(let g) = scope, load.desired.groups[g] == nil, !load.files.contains("groups/\(g)/group.yaml") {
            throw HoneError("no group \"\(g)\" (groups/\(g)/group.yaml does not exist)")
        }
        throw HoneError("no \(what) \"\(name)\" in \(scope.folder)\(hint)")
    }
}

extension ObjectAddress {
    /// How each run and eval is named on the command line (`g/name`, `evaluations/name`; `g/runs/name`
    /// and `g/evals/name` when a group has both), sorted: what shell completion offers.
    public static func names(in load: LoadResult) -> [String] {
        let keys = Set(Array(load.desired.runs.keys) + Array(load.desired.evals.keys) + load.recorded.statuses.keys.filter { $0.kind.runsJobs })
        let shared = Set(keys.filter { $0.kind == .run }.map { ObjectKey(scope: $0.scope, kind: .eval, name: $0.name) }).intersection(keys)
        return keys.flatMap { k -> [String] in
            let both = shared.contains(ObjectKey(scope: k.scope, kind: .eval, name: k.name))
            return both ? ["\(k.scope.name)/\(k.kind.rawValue)s/\(k.name)"] : [k.display]
        }.sorted()
    }

    /// Throws unless `scope` is `evaluations` or a group that exists (in the specs or as a file).
    public static func checkScope(_ scope: Scope, in load: LoadResult) throws {
        if case .group(let g) = scope {
            guard Names.isValid(g) else { throw HoneError("\"\(g)\" is not a valid group name") }
            guard load.desired.groups[g] != nil || load.files.contains("groups/\(g)/group.yaml") else {
                throw HoneError("no group \"\(g)\" (groups/\(g)/group.yaml does not exist)")
            }
        }
    }
}
