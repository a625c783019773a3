import HoneModel
import YAML

/// RunStatus / EvalStatus files ↔ ObjectStatus. Written by hone only, but read as strictly as specs:
/// a corrupted status is an error naming its path and line, never a crash and never ignored.
public enum StatusCodec {
    static func decode(_ key: ObjectKey, _ root: Node, report: FileReport) -> ObjectStatus? {
        let kindName = key.kind == .run ? "RunStatus" : "EvalStatus"
        guard var f = Fields(root, what: "a \(kindName)", report: report), Decoders.header(&f, expected: kindName) else { return nil }
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
        // Decoded on without a missing field (`finish` reports it, and the rest's problems too): the
        // result is nil then anyway, since the report has errors.
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
        s.inputs = Dictionary((f.stringMap("inputs") ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        if let c = f.raw("code"), !c.isNullScalar {
            s.code = Dictionary((f.stringMap("code") ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
        s.runtime = f.string("runtime")
        s.dataset = f.string("dataset")
        if key.kind == .run {
            if let m = f.raw("model"), !m.isNullScalar, var mf = Fields(m, what: "\"model\"", report: report) {
                let name = mf.string("name") ?? ""
                let version = mf.string("version", lenient: true) ?? ""
                s.model = ModelOutput(name: name, version: version, uri: mf.string("uri"), sha256: mf.string("sha256"), published: mf.bool("published") ?? false)
                mf.finish(context: "model.")
            }
            s.baseModel = f.string("baseModel")
            s.trainDataset = f.string("trainDataset")
            s.validationDataset = f.string("validationDataset")
            s.publishedAs = f.string("publishedAs")
            s.publishedDigest = f.string("publishedDigest")
        } else {
            s.evalModel = f.string("model")
            if let v = f.raw("autoRelease"), let t = v.scalar { if case .seconds(let n)? = Duration.parse(t) { s.autoRelease = n } }
            if let dn = f.raw("debug"), !dn.isNullScalar, var df = Fields(dn, what: "\"debug\"", report: report) {
                s.debugEnabled = df.bool("enabled") ?? false
                s.debugWorkdir = df.string("workdir")
                _ = df.raw("keptUntil")
                df.finish(context: "debug.")
            }
            s.releaseAt = f.string("releaseAt", lenient: true)
            if let rn = f.raw("results"), !rn.isNullScalar, var rf = Fields(rn, what: "\"results\"", report: report) {
                s.resultsPath = rf.string("path")
                s.resultsRows = rf.int("rows", min: 0)
                rf.finish(context: "results.")
            }
        }
        if let tn = f.raw("tasks"), !tn.isNullScalar {
            if let items = tn.items {
                for item in items {
                    guard var tf = Fields(item, what: "a task", report: report) else { continue }
                    let name = tf.string("name") ?? "?"
                    var tphase = Phase.pending
                    if let p = tf.raw("phase"), let ps = p.scalar {
                        if let ph = Phase(rawValue: ps) { tphase = ph } else { tf.error("unknown phase \"\(ps)\"", at: p.mark) }
                    }
                    s.tasks.append(TaskStatus(name: name, phase: tphase, executorId: tf.string("executorId", lenient: true),
                                              startedAt: tf.string("startedAt", lenient: true), finishedAt: tf.string("finishedAt", lenient: true),
                                              exitCode: tf.int("exitCode"), log: tf.string("log")))
                    tf.finish(context: "tasks[].")
                }
            } else { f.error("\"tasks\" must be a list", at: tn.mark) }
        }
        if let en = f.raw("events"), !en.isNullScalar {
            if let items = en.items {
                for item in items {
                    guard var ef = Fields(item, what: "an event", report: report) else { continue }
                    let at = ef.string("at", lenient: true) ?? ""
                    let type = StatusEvent.EventType(rawValue: ef.string("type") ?? "Normal") ?? .normal
                    s.events.append(StatusEvent(at: at, type: type, reason: ef.string("reason") ?? "", message: ef.string("message", lenient: true) ?? "", task: ef.string("task")))
                    ef.finish(context: "events[].")
                }
            } else { f.error("\"events\" must be a list", at: en.mark) }
        }
        f.finish()
        return report.hasErrors ? nil : s
    }

    /// Parses a status file's text (used by the engine and tests); diagnostics name `path`.
    public static func decode(_ key: ObjectKey, text: String, path: String) -> (ObjectStatus?, [Diagnostic]) {
        let report = FileReport(path: path)
        let doc = YAMLParser.parse(text)
        for e in doc.errors { report.error(e.message, at: e.mark, notes: e.notes) }
        guard let root = doc.root else { return (nil, report.items) }
        return (decode(key, root, report: report), report.items)
    }

    /// The status as a node tree in a fixed key order (the emitter writes it deterministically).
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
        if s.key.kind == .run {
            if let m = s.model {
                var me: [(String, Node)] = [("name", .text(m.name)), ("version", .text(m.version))]
                if let u = m.uri { me.append(("uri", .text(u))) }
                if let h = m.sha256 { me.append(("sha256", .text(h))) }
                me.append(("published", .bool(m.published)))
                e.append(("model", .mapping(me)))
            }
            opt("baseModel", s.baseModel)
            opt("trainDataset", s.trainDataset)
            opt("validationDataset", s.validationDataset)
        } else {
            opt("model", s.evalModel)
            opt("dataset", s.dataset)
        }
        opt("runtime", s.runtime)
        e.append(("handler", .text(s.handler)))
        e.append(("params", json(.object(s.params))))
        if s.key.kind == .eval {
            e.append(("autoRelease", .text(s.autoRelease.map { "\($0)s" } ?? "never")))
            opt("releaseAt", s.releaseAt)
            var de: [(String, Node)] = [("enabled", .bool(s.debugEnabled))]
            if let w = s.debugWorkdir { de.append(("workdir", .text(w))) }
            e.append(("debug", .mapping(de)))
        }
        if let c = s.cost { e.append(("cost", .double((c * 10000).rounded() / 10000))) }
        e.append(("metrics", json(.object(s.metrics))))
        if s.key.kind == .eval, let p = s.resultsPath {
            e.append(("results", .mapping([("path", .text(p)), ("rows", .int(s.resultsRows ?? 0))])))
        }
        if s.key.kind == .run { opt("publishedAs", s.publishedAs); opt("publishedDigest", s.publishedDigest) }
        e.append(("inputs", .mapping(s.inputs.keys.sorted().map { ($0, .text(s.inputs[$0]!)) })))
        if let c = s.code { e.append(("code", .mapping(c.keys.sorted().map { ($0, .text(c[$0]!)) }))) }
        e.append(("tasks", .sequence(s.tasks.map { t in
            var te: [(String, Node)] = [("name", .text(t.name)), ("phase", .string(t.phase.rawValue))]
            if let x = t.executorId { te.append(("executorId", .text(x))) }
            if let x = t.startedAt { te.append(("startedAt", .text(x))) }
            if let x = t.finishedAt { te.append(("finishedAt", .text(x))) }
            if let x = t.exitCode { te.append(("exitCode", .int(x))) }
            if let x = t.log { te.append(("log", .text(x))) }
            return .mapping(te)
        })))
        e.append(("events", .sequence(s.events.map { ev in
            var ee: [(String, Node)] = [("at", .text(ev.at)), ("type", .string(ev.type.rawValue)), ("reason", .text(ev.reason)), ("message", .text(ev.message))]
            if let t = ev.task { ee.append(("task", .text(t))) }
            return .mapping(ee)
        })))
        return .mapping(e)
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
