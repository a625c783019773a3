import Foundation
import HoneLoading
import HoneModel

/// `hone describe run|eval`: a run's or eval's overview (every field of the product's overview page),
/// its tasks and its events. The recorded attempt wins where it has a value (what actually ran); the
/// spec fills in the rest, so an object that has never run is described too.
public enum Describe {
    /// How an eval's model reads in lists: `support-bot@v1` or `draft of run lr-small`.
    public static func modelText(_ e: EvalSpec) -> String {
        if let m = e.model { return m.description }
        return "draft of run \(e.fromRun ?? "?")"
    }

    static func ref(_ s: String?) -> JSONValue {
        guard let s else { return .null }
        if let r = VersionRef.parse(s) { return .object(["name": .string(r.name), "version": .string(r.version)]) }
        return .object(["name": .string(s)])
    }
    static func str(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }

    /// A playground's own fields of the JSON document.
    static func playgroundFields(_ load: LoadResult, _ key: ObjectKey, _ s: ObjectStatus?, handler: String?, into d: inout [String: JSONValue]) {
        let spec = load.desired.playgrounds[key], p = s?.playground
        d["description"] = str(spec?.description)
        d["owner"] = str(s?.owner ?? spec?.owner)
        d["pool"] = str(s?.pool ?? spec?.pool)
        d["rerun"] = .int(spec?.rerun ?? s?.rerun ?? 0)
        var model: [String: JSONValue] = [:]
        if let m = spec?.model { model = ["name": .string(m.name), "version": .string(m.version)] }
        if let r = spec?.fromRunKey { model["fromRun"] = .string(r.display) }
        if spec == nil, let m = p?.model { model = ref(m).objectValue ?? [:] }
        d["model"] = model.isEmpty ? .null : .object(model)
        d["runtime"] = ref(s?.runtime ?? spec?.runtime?.description)
        d["handler"] = str(handler ?? spec?.handler)
        d["params"] = .object(s?.params ?? spec?.params ?? [:])
        d["endpoint"] = str(p?.endpoint)
        d["ready"] = .bool(s?.phase == .running && p?.ready == true)
        d["autoRelease"] = (s != nil ? p?.autoRelease : spec?.autoRelease).map(JSONValue.int) ?? .null
        d["idleRelease"] = (s != nil ? p?.idleRelease : spec?.idleRelease).map(JSONValue.int) ?? .null
        d["releaseAt"] = str(p?.releaseAt)
        d["lastRequestAt"] = str(p?.lastRequestAt)
        d["apiKeyEnv"] = str(spec?.apiKeyEnv)
    }

    /// The JSON document (`--format json`).
    public static func document(_ load: LoadResult, _ key: ObjectKey) -> JSONValue {
        let s = load.recorded.statuses[key]
        var d: [String: JSONValue] = [
            "apiVersion": .string(Documents.apiVersion), "object": (try? JSONValue(encoding: ObjectRef(key))) ?? .null,
            "kind": .string(key.kind.title), "path": .string(key.specPath),
            "phase": .string(s?.shownPhase ?? neverRunPhase), "id": str(s?.id), "attempt": s.map { .int($0.attempt) } ?? .null,
            "createdAt": str(s?.createdAt), "startedAt": str(s?.startedAt), "finishedAt": str(s?.finishedAt),
            "durationSeconds": s?.durationSeconds.map(JSONValue.double) ?? .null, "cost": s?.cost.map(JSONValue.double) ?? .null,
            "metrics": .object(s?.metrics ?? [:]),
            "tasks": .array((s?.tasks ?? []).map { t in
                .object(["name": .string(t.name), "phase": .string(t.phase.rawValue), "executorId": str(t.executorId),
                         "startedAt": str(t.startedAt), "finishedAt": str(t.finishedAt), "exitCode": t.exitCode.map(JSONValue.int) ?? .null,
                         "log": str(t.log)])
            }),
            "events": .array((s?.events ?? []).map(eventJSON)),
        ]
        let handler = (s?.handler).flatMap { $0.isEmpty ? nil : $0 }
        switch key.kind {
        case .run:
            let spec = load.desired.runs[key]
            d["description"] = str(spec?.description)
            d["owner"] = str(s?.owner ?? spec?.owner)
            d["pool"] = str(s?.pool ?? spec?.pool)
            d["rerun"] = .int(spec?.rerun ?? s?.rerun ?? 0)
            d["model"] = s?.run?.model.map { m in .object(["name": .string(m.name), "version": .string(m.version), "published": .bool(m.published)]) } ?? .null
            d["baseModel"] = ref(s?.run?.baseModel ?? spec?.baseModel.description)
            d["trainDataset"] = ref(s?.run?.trainDataset ?? spec?.trainDataset.description)
            d["validationDataset"] = ref(s?.run?.validationDataset ?? spec?.validationDataset?.description)
            d["runtime"] = ref(s?.runtime ?? spec?.runtime?.description)
            d["handler"] = str(handler ?? spec?.handler)
            d["params"] = .object(s?.params ?? spec?.params ?? [:])
            d["publish"] = spec?.publish.map { p in .object(["model": .string(p.model), "as": .string(p.as_.rawValue)]) } ?? .null
            d["publishedAs"] = str(s?.run?.publishedAs)
        case .playground:
            playgroundFields(load, key, s, handler: handler, into: &d)
        case .eval, .view:
            let spec = load.desired.evals[key]
            d["description"] = str(spec?.description)
            d["owner"] = str(s?.owner ?? spec?.owner)
            d["pool"] = str(s?.pool ?? spec?.pool)
            d["rerun"] = .int(spec?.rerun ?? s?.rerun ?? 0)
            var model: [String: JSONValue] = [:]
            if let m = spec?.model { model = ["name": .string(m.name), "version": .string(m.version)] }
            if let r = spec?.fromRunKey {
                model["fromRun"] = .string(r.display)
                if let out = load.recorded.statuses[r]?.run?.model {
                    model["name"] = .string(out.name); model["version"] = .string(out.version); model["published"] = .bool(out.published)
                }
            }
            if spec == nil, let m = s?.eval?.model { model = ref(m).objectValue ?? [:] }
            d["model"] = model.isEmpty ? .null : .object(model)
            d["dataset"] = ref(s?.eval?.dataset ?? spec?.dataset.description)
            d["runtime"] = ref(s?.runtime ?? spec?.runtime?.description)
            d["handler"] = str(handler ?? spec?.handler)
            d["params"] = .object(s?.params ?? spec?.params ?? [:])
            let release = s != nil ? s?.eval?.autoRelease : spec?.autoRelease
            d["autoRelease"] = release.map(JSONValue.int) ?? .null
            d["releaseAt"] = str(s?.eval?.releaseAt)
            d["debug"] = .object(["enabled": .bool(s?.eval?.debugEnabled ?? spec?.debug.enabled ?? false)])
            d["results"] = s?.eval?.resultsPath.map { p in .object(["path": .string(p), "rows": .int(s?.eval?.resultsRows ?? 0)]) } ?? .null
            d["gates"] = .object(Dictionary((spec?.gates ?? []).map { ($0.metric, JSONValue.string($0.expression)) }, uniquingKeysWith: { a, _ in a }))
            d["baseline"] = str(spec?.baseline)
        }
        return .object(d)
    }

    static func eventJSON(_ e: StatusEvent) -> JSONValue {
        .object(["at": .string(e.at), "type": .string(e.type.rawValue), "reason": .string(e.reason), "message": .string(e.message),
                 "task": str(e.task)])
    }

    /// The events of a status as a table: time, type, reason, message.
    public static func events(_ s: ObjectStatus?, since: Date? = nil) -> Table {
        let shown = (s?.events ?? []).filter { e in
            guard let since, let at = Timestamp.date(e.at) else { return true }
            return at >= since
        }
        return Table(columns: ["time", "type", "reason", "message"], rows: shown.map { e in
            ["time": .string(e.at), "type": .string(e.type.rawValue), "reason": .string(e.reason), "message": .string(e.message)]
        })
    }

    public static func tasks(_ s: ObjectStatus?) -> Table {
        Table(columns: ["name", "phase", "executorId", "startedAt", "finishedAt", "exitCode", "log"], rows: (s?.tasks ?? []).map { t in
            ["name": .string(t.name), "phase": .string(t.phase.rawValue), "executorId": str(t.executorId), "startedAt": str(t.startedAt),
             "finishedAt": str(t.finishedAt), "exitCode": t.exitCode.map(JSONValue.int) ?? .null, "log": str(t.log)]
        })
    }

    /// The text overview: `Label:  value` lines, then the tasks and events tables.
    public static func text(_ load: LoadResult, _ key: ObjectKey) -> String {
        let doc = document(load, key)
        let s = load.recorded.statuses[key]
        var lines: [(String, String)] = []
        func add(_ label: String, _ v: String?) { lines.append((label, v ?? "-")) }
        func v(_ k: String) -> String? { doc[k].flatMap { $0 == .null ? nil : $0.display } }
        func refText(_ k: String) -> String? {
            guard let o = doc[k]?.objectValue, let n = o["name"]?.stringValue else { return nil }
            return o["version"]?.stringValue.map { "\(n), version \($0)" } ?? n
        }
        add("Description", v("description"))
        add("ID", v("id"))
        add("Phase", v("phase").map { p in s?.queuedReason.map { "\(p): \($0)" } ?? p })
        add("Attempt", v("attempt").map { a in "\(a) (rerun \(v("rerun") ?? "0"))" })
        add("Created", v("createdAt"))
        add("Started", v("startedAt"))
        add("Finished", v("finishedAt"))
        add("Duration", s?.durationSeconds.map(DurationText.span))
        add("Owner", v("owner"))
        add("Pool", v("pool"))
        switch key.kind {
        case .run:
            let m = doc["model"]?.objectValue
            add("Model name", m?["name"]?.stringValue)
            add("Model version", m.map { m in (m["version"]?.stringValue ?? "-") + (m["published"] == .bool(true) ? " (published)" : " (draft)") })
            add("Base model", refText("baseModel"))
            add("Train dataset", refText("trainDataset"))
            add("Validation dataset", refText("validationDataset"))
        case .eval, .view:
            var model = refText("model")
            if let from = doc["model"]?["fromRun"]?.stringValue {
                model = (model.map { $0 + ", " } ?? "") + "draft of run \(from)"
            }
            add("Model", model)
            add("Dataset", refText("dataset"))
        case .playground:
            var model = refText("model")
            if let from = doc["model"]?["fromRun"]?.stringValue { model = (model.map { $0 + ", " } ?? "") + "draft of run \(from)" }
            add("Model", model)
            add("Endpoint", v("endpoint").map { e in e + (doc["ready"] == .bool(true) ? " (ready)" : s?.phase == .running ? " (not ready yet)" : " (stopped)") })
        }
        add("Runtime", refText("runtime"))
        add("Handler", v("handler"))
        add("Params", doc["params"]?.canonicalJSON)
        switch key.kind {
        case .run:
            if let p = doc["publish"]?.objectValue {
                add("Publish", "\(p["model"]?.display ?? "?") (as \(p["as"]?.display ?? "?"))" + (v("publishedAs").map { ", published as \($0)" } ?? ""))
            } else if let p = v("publishedAs") { add("Publish", "published as \(p)") }
        case .eval, .view:
            add("Auto release", doc["autoRelease"]?.doubleValue.map { DurationText.format(Int($0)) } ?? "never")
            add("Release at", v("releaseAt"))
            add("Debug", doc["debug"]?["enabled"] == .bool(true) ? "enabled" : "disabled")
            add("Results", doc["results"]?.objectValue.map { r in "\(r["path"]?.display ?? "-") (\(r["rows"]?.display ?? "0") rows)" })
            if let b = v("baseline") { add("Baseline", b) }
            if let gates = doc["gates"]?.objectValue, !gates.isEmpty {
                add("Gates", gates.keys.sorted().map { "\($0) \(gates[$0]!.display)" }.joined(separator: "; "))
            }
        case .playground:
            add("Auto release", doc["autoRelease"]?.doubleValue.map { DurationText.format(Int($0)) } ?? "never")
            add("Idle release", doc["idleRelease"]?.doubleValue.map { DurationText.format(Int($0)) } ?? "never")
            add("Release at", v("releaseAt"))
            add("Last request", v("lastRequestAt"))
            add("API key", v("apiKeyEnv").map { "from $\($0) (bearer token)" } ?? "none (open on its host)")
        }
        add("Cost", v("cost"))
        let metrics = s?.metrics ?? [:]
        add("Metrics", metrics.isEmpty ? nil : metrics.keys.sorted().map { "\($0)=\(metrics[$0]!.display)" }.joined(separator: ", "))

        let width = lines.map(\.0.count).max()! + 2
        var out = "\(key.kind.title) \(key.display)\n"
        for (label, value) in lines { out += (label + ":").padding(toLength: width, withPad: " ", startingAt: 0) + value + "\n" }
        out += "\nTasks:\n"
        out += s.map { $0.tasks.isEmpty ? "  (none)\n" : tasks($0).render(.table) } ?? "  (none: \(key.display) has never run; `hone reconcile` launches it)\n"
        out += "\nEvents:\n"
        out += (s?.events.isEmpty ?? true) ? "  (none)\n" : events(s).render(.table)
        return out
    }
}
