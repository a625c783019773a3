import HoneModel
import YAML

/// Status files (`RunStatus`, `EvalStatus`) ↔ ObjectStatus. Written by hone only, but read as strictly as specs:
/// a corrupted status is an error naming its path and line, never a crash and never ignored.
public enum StatusCodec {
    static func decode(_ key: ObjectKey, _ root: Node, report: FileReport) -> ObjectStatus? {
        let kindName = KindStatus(for: key.kind).kindName
        guard var f = Fields(root, what: "a \(kindName)", report: report), Decoders.header(&f, expected: kindName) else { return nil }
        var s = decodeCore(key, &f)
        switch s.detail {
        case .run(var run): decodeRun(&run, &f, report: report); s.detail = .run(run)
        case .eval(var eval): decodeEval(&eval, &f, report: report); s.detail = .eval(eval)
        case .playground(var p): decodePlayground(&p, &f); s.detail = .playground(p)
        }
        s.tasks = decodeTasks(&f, report: report)
        s.events = decodeEvents(&f, report: report)
        f.finish()
        return report.hasErrors ? nil : s
    }

    /// The fields every kind's status has. Decoded on past a missing field (`finish` reports it, and the
    /// rest's problems too): the result is nil then anyway, since the report has errors.
    private static func decodeCore(_ key: ObjectKey, _ f: inout Fields) -> ObjectStatus {
        _ = f.raw("object")
        let id = f.string("id", required: true)
        var phase: Phase? = nil
        if let p = f.require("phase"), let s = p.scalar {
            phase = Phase(rawValue: s)
            if phase == nil { f.error("unknown phase \"\(s)\"\(NearMiss.hint(for: s, among: Phase.allCases.map(\.rawValue)))", at: p.mark) }
        }
        let attempt = f.int("attempt", min: 0) ?? 0
        let digest = f.string("specDigest", required: true)
        let pool = f.string("pool") ?? ""
        let claimedBy = f.string("claimedBy", lenient: true)
        let handler = f.string("handler", lenient: true) ?? ""
        var s = ObjectStatus(key: key, id: id ?? "", phase: phase ?? .pending, pool: pool, handler: handler, attempt: attempt, specDigest: digest ?? "")
        s.rerun = f.int("rerun", min: 0) ?? 0
        s.claimedBy = claimedBy
        s.specCommit = f.string("specCommit")
        s.createdAt = f.string("createdAt", lenient: true)
        s.startedAt = f.string("startedAt", lenient: true)
        s.finishedAt = f.string("finishedAt", lenient: true)
        s.durationSeconds = f.double("durationSeconds")
        s.owner = f.string("owner", lenient: true)
        s.params = f.json("params") ?? [:]
        s.cost = f.double("cost")
        s.metrics = f.json("metrics") ?? [:]
        s.metricsMeta = MetricAnnotation.parse(f.json("metricsMeta").map(JSONValue.object))
        s.inputs = Dictionary((f.stringMap("inputs") ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        if let c = f.raw("code"), !c.isNullScalar {
            s.code = Dictionary((f.stringMap("code") ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        s.runtime = f.string("runtime")
        return s
    }

    private static func decodeRun(_ r: inout RunStatus, _ f: inout Fields, report: FileReport) {
        if let m = f.raw("model"), !m.isNullScalar, var mf = Fields(m, what: "\"model\"", report: report) {
            let name = mf.string("name") ?? ""
            let version = mf.string("version", lenient: true) ?? ""
            r.model = ModelOutput(name: name, version: version, uri: mf.string("uri"), sha256: mf.string("sha256"), published: mf.bool("published") ?? false)
            mf.finish(context: "model.")
        }
        r.baseModel = f.string("baseModel")
        r.trainDataset = f.string("trainDataset")
        r.validationDataset = f.string("validationDataset")
        r.publishedAs = f.string("publishedAs")
        r.publishedDigest = f.string("publishedDigest")
    }

    private static func decodeEval(_ e: inout EvalStatus, _ f: inout Fields, report: FileReport) {
        e.model = f.string("model")
        e.dataset = f.string("dataset")
        if let v = f.raw("autoRelease"), let t = v.scalar { if case .seconds(let n)? = DurationText.parse(t) { e.autoRelease = n } }
        if let dn = f.raw("debug"), !dn.isNullScalar, var df = Fields(dn, what: "\"debug\"", report: report) {
            e.debugEnabled = df.bool("enabled") ?? false
            e.debugWorkdir = df.string("workdir")
            _ = df.raw("keptUntil")
            df.finish(context: "debug.")
        }
        e.releaseAt = f.string("releaseAt", lenient: true)
        if let rn = f.raw("results"), !rn.isNullScalar, var rf = Fields(rn, what: "\"results\"", report: report) {
            e.resultsPath = rf.string("path")
            e.resultsRows = rf.int("rows", min: 0)
            rf.finish(context: "results.")
        }
    }

    private static func decodePlayground(_ p: inout PlaygroundStatus, _ f: inout Fields) {
        p.model = f.string("model")
        p.endpoint = f.string("endpoint")
        p.ready = f.bool("ready") ?? false
        for (key, field) in [("autoRelease", \PlaygroundStatus.autoRelease), ("idleRelease", \PlaygroundStatus.idleRelease)] {
            if let v = f.raw(key), let t = v.scalar { if case .seconds(let n)? = DurationText.parse(t) { p[keyPath: field] = n } }
        }
        p.releaseAt = f.string("releaseAt", lenient: true)
        p.lastRequestAt = f.string("lastRequestAt", lenient: true)
    }

    private static func decodeTasks(_ f: inout Fields, report: FileReport) -> [TaskStatus] {
        guard let tn = f.raw("tasks"), !tn.isNullScalar else { return [] }
        guard let items = tn.items else { f.error("\"tasks\" must be a list", at: tn.mark); return [] }
        var tasks: [TaskStatus] = []
        for item in items {
            guard var tf = Fields(item, what: "a task", report: report) else { continue }
            let name = tf.string("name") ?? "?"
            var tphase = Phase.pending
            if let p = tf.raw("phase"), let ps = p.scalar {
                if let ph = Phase(rawValue: ps) { tphase = ph } else { tf.error("unknown phase \"\(ps)\"", at: p.mark) }
            }
            tasks.append(TaskStatus(name: name, phase: tphase, executorId: tf.string("executorId", lenient: true),
                                    startedAt: tf.string("startedAt", lenient: true), finishedAt: tf.string("finishedAt", lenient: true),
                                    exitCode: tf.int("exitCode"), log: tf.string("log")))
            tf.finish(context: "tasks[].")
        }
        return tasks
    }

    private static func decodeEvents(_ f: inout Fields, report: FileReport) -> [StatusEvent] {
        guard let en = f.raw("events"), !en.isNullScalar else { return [] }
        guard let items = en.items else { f.error("\"events\" must be a list", at: en.mark); return [] }
        var events: [StatusEvent] = []
        for item in items {
            guard var ef = Fields(item, what: "an event", report: report) else { continue }
            let at = ef.string("at", lenient: true) ?? ""
            let type = StatusEvent.EventType(rawValue: ef.string("type") ?? "Normal") ?? .normal
            events.append(StatusEvent(at: at, type: type, reason: ef.string("reason") ?? "", message: ef.string("message", lenient: true) ?? "", task: ef.string("task")))
            ef.finish(context: "events[].")
        }
        return events
    }

    /// Parses a status file's text (used by the engine and tests); diagnostics name `path`.
    public static func decode(_ key: ObjectKey, text: String, path: String) -> (ObjectStatus?, [Diagnostic]) {
        let report = FileReport(path: path)
        let doc = YAMLParser.parse(text)
        for e in doc.errors { report.error(e.message, at: e.mark, notes: e.notes) }
        guard let root = doc.root else { return (nil, report.items) }
        return (decode(key, root, report: report), report.items)
    }

    /// The status as a node tree in a fixed key order (the emitter writes it deterministically). A kind's
    /// own fields go in three slots of that order: what it is about (after `claimedBy`), how long it is
    /// kept (after `params`) and what it produced (after `metrics`).
    public static func encode(_ s: ObjectStatus) -> Node {
        var e: [(String, Node)] = [("kind", .string(s.kindName)), ("object", .text(s.key.display)), ("id", .text(s.id)),
                                   ("phase", .string(s.phase.rawValue)), ("attempt", .int(s.attempt)), ("rerun", .int(s.rerun)),
                                   ("specDigest", .text(s.specDigest))]
        func opt(_ k: String, _ v: String?) { if let v { e.append((k, .text(v))) } }
        opt("specCommit", s.specCommit)
        opt("createdAt", s.createdAt)
        opt("startedAt", s.startedAt)
        opt("finishedAt", s.finishedAt)
        if let d = s.durationSeconds { e.append(("durationSeconds", .double(d))) }
        opt("owner", s.owner)
        e.append(("pool", .text(s.pool)))
        opt("claimedBy", s.claimedBy)
        let own: KindFields
        switch s.detail {
        case .run(let r): own = runFields(r)
        case .eval(let v): own = evalFields(v)
        case .playground(let p): own = playgroundFields(p)
        }
        e += own.subject
        opt("runtime", s.runtime)
        e.append(("handler", .text(s.handler)))
        e.append(("params", json(.object(s.params))))
        e += own.lease
        if let c = s.cost { e.append(("cost", .double((c * 10000).rounded() / 10000))) }
        e.append(("metrics", json(.object(s.metrics))))
        if !s.metricsMeta.isEmpty { e.append(("metricsMeta", json(.object(s.metricsMeta.mapValues(\.json))))) }
        e += own.outcome
        e.append(("inputs", .mapping(s.inputs.keys.sorted().map { ($0, .text(s.inputs[$0]!)) })))
        if let c = s.code { e.append(("code", .mapping(c.keys.sorted().map { ($0, .text(c[$0]!)) }))) }
        e.append(("tasks", .sequence(s.tasks.map(taskNode))))
        e.append(("events", .sequence(s.events.map { ev in
            var ee: [(String, Node)] = [("at", .text(ev.at)), ("type", .string(ev.type.rawValue)), ("reason", .text(ev.reason)), ("message", .text(ev.message))]
            if let t = ev.task { ee.append(("task", .text(t))) }
            return .mapping(ee)
        })))
        return .mapping(e)
    }

    /// A kind's own fields, by where they go in the file (see `encode`).
    private struct KindFields {
        var subject: [(String, Node)] = []
        var lease: [(String, Node)] = []
        var outcome: [(String, Node)] = []
    }

    private static func runFields(_ r: RunStatus) -> KindFields {
        var k = KindFields()
        if let m = r.model {
            var me: [(String, Node)] = [("name", .text(m.name)), ("version", .text(m.version))]
            if let u = m.uri { me.append(("uri", .text(u))) }
            if let h = m.sha256 { me.append(("sha256", .text(h))) }
            me.append(("published", .bool(m.published)))
            k.subject.append(("model", .mapping(me)))
        }
        if let v = r.baseModel { k.subject.append(("baseModel", .text(v))) }
        if let v = r.trainDataset { k.subject.append(("trainDataset", .text(v))) }
        if let v = r.validationDataset { k.subject.append(("validationDataset", .text(v))) }
        if let v = r.publishedAs { k.outcome.append(("publishedAs", .text(v))) }
        if let v = r.publishedDigest { k.outcome.append(("publishedDigest", .text(v))) }
        return k
    }

    private static func evalFields(_ v: EvalStatus) -> KindFields {
        var k = KindFields()
        if let m = v.model { k.subject.append(("model", .text(m))) }
        if let d = v.dataset { k.subject.append(("dataset", .text(d))) }
        k.lease.append(("autoRelease", .text(v.autoRelease.map { "\($0)s" } ?? "never")))
        if let r = v.releaseAt { k.lease.append(("releaseAt", .text(r))) }
        var de: [(String, Node)] = [("enabled", .bool(v.debugEnabled))]
        if let w = v.debugWorkdir { de.append(("workdir", .text(w))) }
        k.lease.append(("debug", .mapping(de)))
        if let p = v.resultsPath { k.outcome.append(("results", .mapping([("path", .text(p)), ("rows", .int(v.resultsRows ?? 0))]))) }
        return k
    }

    private static func playgroundFields(_ p: PlaygroundStatus) -> KindFields {
        var k = KindFields()
        if let m = p.model { k.subject.append(("model", .text(m))) }
        if let e = p.endpoint { k.subject.append(("endpoint", .text(e))) }
        k.subject.append(("ready", .bool(p.ready)))
        k.lease.append(("autoRelease", .text(p.autoRelease.map { "\($0)s" } ?? "never")))
        if let i = p.idleRelease { k.lease.append(("idleRelease", .text("\(i)s"))) }
        if let r = p.releaseAt { k.lease.append(("releaseAt", .text(r))) }
        if let l = p.lastRequestAt { k.lease.append(("lastRequestAt", .text(l))) }
        return k
    }

    private static func taskNode(_ t: TaskStatus) -> Node {
        var te: [(String, Node)] = [("name", .text(t.name)), ("phase", .string(t.phase.rawValue))]
        if let x = t.executorId { te.append(("executorId", .text(x))) }
        if let x = t.startedAt { te.append(("startedAt", .text(x))) }
        if let x = t.finishedAt { te.append(("finishedAt", .text(x))) }
        if let x = t.exitCode { te.append(("exitCode", .int(x))) }
        if let x = t.log { te.append(("log", .text(x))) }
        return .mapping(te)
    }

    /// How deep a JSON value's collections are written (the value itself is level 1). Statuses and
    /// published manifests put values at most two levels down, and hone never writes what it cannot
    /// read back (`YAMLParser.maxDepth`): a handler's summary.json may nest 512 deep.
    public static let jsonDepth = YAMLParser.maxDepth - 2

    /// JSON values as YAML nodes (sorted keys, typed scalars, strings safely quoted); collections past
    /// `jsonDepth` are written as a note instead.
    public static func json(_ v: JSONValue, depth: Int = 1) -> Node {
        let tooDeep = Node.text("(nested deeper than \(jsonDepth) levels: not recorded)")
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .text(s)
        case .array(let a): return depth > jsonDepth ? tooDeep : .sequence(a.map { json($0, depth: depth + 1) })
        case .object(let o): return depth > jsonDepth ? tooDeep : .mapping(o.keys.sorted().map { ($0, json(o[$0]!, depth: depth + 1)) })
        }
    }
}
