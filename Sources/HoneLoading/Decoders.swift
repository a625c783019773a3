import HoneModel
import YAML

/// Literal secrets: keys that hold a password, token, secret or API key, given a value (the words are
/// `SecretWords`, shared with the masking of source excerpts).
enum Secrets {
    /// Keys that are secrets whatever their value.
    static let exact = SecretWords.exact
    /// Endings that make a key a secret when its value holds text (`HF_TOKEN`, `db_password`), but not
    /// `max_tokens: 512` nor `passwordEnv: NAME`.
    static let suffixes = SecretWords.suffixes

    /// Every secret word ends in one of these letter pairs (password, passwd, pass, token, secret, apikey,
    /// credentials): most keys are ruled out by their last two letters (`_`, `-` and `.` skipped).
    static func mightBeSecret(_ key: String) -> Bool {
        var last: UInt8 = 0, previous: UInt8 = 0
        for c in key.utf8.reversed() where c != 95 && c != 45 && c != 46 {
            if last == 0 { last = c | 0x20 } else { previous = c | 0x20; break }
        }
        switch (previous, last) {
        case (UInt8(ascii: "r"), UInt8(ascii: "d")), (UInt8(ascii: "w"), UInt8(ascii: "d")), (UInt8(ascii: "s"), UInt8(ascii: "s")),
             (UInt8(ascii: "e"), UInt8(ascii: "n")), (UInt8(ascii: "e"), UInt8(ascii: "t")), (UInt8(ascii: "e"), UInt8(ascii: "y")),
             (UInt8(ascii: "l"), UInt8(ascii: "s")):
            return true
        default: return false
        }
    }

    /// Whether a secret key given this value holds something: non-empty text, or a non-empty list or mapping.
    static func hasValue(_ node: Node) -> Bool {
        switch node.content {
        case .scalar(let text, _): return !text.isEmpty && !node.isNullScalar
        case .sequence(let items): return !items.isEmpty
        case .mapping(let pairs): return !pairs.isEmpty
        }
    }

    /// Text somewhere in the value: a string scalar, or a list or mapping holding one.
    static func holdsText(_ node: Node) -> Bool {
        switch node.content {
        case .scalar: return node.resolvedType == .string && hasValue(node)
        case .sequence(let items): return items.contains(where: holdsText)
        case .mapping(let pairs): return pairs.contains { holdsText($0.value) }
        }
    }

    /// `password: x`, `password: [x]`, `token: {value: x}`, `HF_TOKEN: x`, `db_password: [x]`.
    static func isLiteralSecret(key: String, value: Node) -> Bool {
        guard mightBeSecret(key), hasValue(value) else { return false }
        // The key lowercased and without `_`, `-` and `.`: its last 16 bytes (enough for every word), reversed.
        var tail: (UInt64, UInt64) = (0, 0)
        var length = 0
        return withUnsafeMutableBytes(of: &tail) { buf -> Bool in
            for c in key.utf8.reversed() where c != 95 && c != 45 && c != 46 {
                if length < 16 { buf[length] = c >= 65 && c <= 90 ? c + 32 : c }
                length += 1
            }
            func ends(_ word: [UInt8]) -> Bool {
                guard word.count <= min(length, 16) else { return false }
                for (i, w) in word.enumerated() where buf[i] != w { return false }
                return true
            }
            if exactReversed.contains(where: { $0.count == length && ends($0) }) { return true }
            guard holdsText(value) else { return false }
            return suffixesReversed.contains(where: ends)
        }
    }
    private static let exactReversed = exact.map { Array($0.utf8.reversed()) }
    private static let suffixesReversed = suffixes.map { Array($0.utf8.reversed()) }
}

/// Decoders from a file's root node to model values. Each reports to the file's report and
/// returns nil only when the object is unusable.
enum Decoders {
    static let secretHint = "secrets never go into git: name an environment variable instead (for debug mode: `passwordEnv: HONE_DEBUG_PASSWORD`) and set it where hone runs"

    /// Flags literal secrets anywhere in a file, each once, at its key, with the top-level key it is under
    /// (hone-written sections are exempt: see `Loader.Prepared`). The dotted path of a key is only put
    /// together when a secret is found.
    static func scanSecrets(_ node: Node, found: (_ message: String, _ at: Mark, _ section: Substring) -> Void) {
        var path: [Substring] = []
        scanSecrets(node, path: &path, found: found)
    }

    /// `path`: the keys down to `node`, pushed and popped on the way (no array made per mapping).
    private static func scanSecrets(_ node: Node, path: inout [Substring], found: (String, Mark, Substring) -> Void) {
        switch node.content {
        case .mapping(let pairs):
            for p in pairs {
                guard case .scalar(let k, _) = p.key.content else { continue }
                if Secrets.isLiteralSecret(key: k, value: p.value) {
                    let here = (path + [Substring(k)]).joined(separator: ".")
                    found("literal secret in \"\(here)\": \(secretHint)", p.key.mark, path.first ?? Substring(k))
                } else if case .scalar = p.value.content {
                    continue
                } else {
                    path.append(Substring(k))
                    scanSecrets(p.value, path: &path, found: found)
                    path.removeLast()
                }
            }
        case .sequence(let items):
            for item in items {
                if case .scalar = item.content { continue }
                let last = path.popLast()
                path.append((last ?? "") + "[]")
                scanSecrets(item, path: &path, found: found)
                path.removeLast()
                if let last { path.append(last) }
            }
        case .scalar: break
        }
    }

    /// Common header: `kind` must match the file's place; `apiVersion` optional.
    static func header(_ f: inout Fields, expected: String) -> Bool {
        if let v = f.raw("apiVersion"), let s = v.scalar, s != "hone/v1" {
            f.error("unsupported apiVersion \"\(s)\": the only version is hone/v1", at: v.mark)
        }
        guard let k = f.raw("kind"), !k.isNullScalar else {
            // The place says what it should be: check the rest as that kind.
            f.error("missing required field \"kind\": files at this path are kind \(expected) (add `kind: \(expected)`)", at: f.node["kind"]?.mark ?? f.node.mark)
            return true
        }
        guard let s = k.scalar, s == expected else {
            let found = k.scalar ?? k.kindDescription
            f.error("kind \(found) does not belong here: files at this path are kind \(expected)", at: k.mark)
            return false
        }
        return true
    }

    static func versionRef(_ f: inout Fields, _ key: String, required: Bool) -> VersionRef? {
        guard let v = required ? f.require(key) : f.raw(key), !v.isNullScalar else { return nil }
        guard let s = v.scalar, v.items == nil, v.pairs == nil else {
            f.error("\"\(key)\" must be a name@version string, found \(v.kindDescription)", at: v.mark)
            return nil
        }
        guard let r = VersionRef.parse(s) else {
            if !s.contains("@") && Names.isValid(s) {
                f.error("\"\(key)\": \"\(s)\" has no version: write name@version, like \(s)@v1", at: v.mark)
            } else {
                f.error("\"\(key)\": \"\(s)\" is not a valid name@version reference (name and version each match \(Names.pattern))", at: v.mark)
            }
            return nil
        }
        return r
    }

    static func name(_ f: inout Fields, _ key: String) -> String? {
        guard let v = f.raw(key), !v.isNullScalar else { return nil }
        guard let s = Fields.string(v, key: key, lenient: false, fields: &f) else { return nil }
        guard Names.isValid(s) else {
            f.error("\"\(key)\": \"\(s)\" is not a valid name (names match \(Names.pattern))", at: v.mark)
            return nil
        }
        return s
    }

    static func project(_ root: Node, report: FileReport) -> Project? {
        guard var f = Fields(root, what: "hone.yaml", report: report), header(&f, expected: "Project") else { return nil }
        let name = f.string("name", required: true)
        let owner = f.string("owner", lenient: true)
        let store = f.string("store") ?? ".hone/store"
        // A store hone cannot use leaves no project: nothing is launched whose outputs would go elsewhere.
        var storeRefused = false
        if let v = f.node["store"], case .failure(let problem) = StoreLocation.parse(store) {
            f.error(problem.message, at: v.mark)
            storeRefused = true
        }
        var publishBranch = "main"
        let branchNode = f.node["publishBranch"]
        if let b = f.string("publishBranch") {
            if Decoders.isBranchName(b) { publishBranch = b }
            else { f.error("\"publishBranch\" must be a branch name such as main or release/models, found \"\(b)\"", at: branchNode?.mark ?? root.mark) }
        }
        var pools: [String: Pool] = [:]
        var defaultPool: String? = nil
        if let poolsNode = f.require("pools") {
            if let pairs = poolsNode.pairs {
                if pairs.isEmpty { f.error("\"pools\" needs at least one pool", at: poolsNode.mark) }
                for p in pairs {
                    guard let pn = p.key.scalar else { continue }
                    if !Names.isValid(pn) { f.error("pool name \"\(pn)\" is not a valid name (names match \(Names.pattern))", at: p.key.mark); continue }
                    if let pool = self.pool(pn, p.value, report: report) { pools[pn] = pool }
                }
            } else {
                f.error("\"pools\" must be a mapping of pool names to settings, found \(poolsNode.kindDescription)", at: poolsNode.mark)
            }
        }
        if let d = f.raw("defaults") {
            if var df = Fields(d, what: "\"defaults\"", report: report) {
                if let v = df.raw("pool"), let s = v.scalar {
                    if pools[s] == nil && !pools.isEmpty {
                        df.error("default pool \"\(s)\" is not among the pools\(NearMiss.hint(for: s, among: pools.keys))", at: v.mark)
                    } else { defaultPool = s }
                }
                df.finish(context: "defaults.")
            }
        }
        var keepFinishedJobs = Project.defaultKeepFinishedJobs
        if let g = f.raw("gc"), var gf = Fields(g, what: "\"gc\"", report: report) {
            if let n = gf.int("keepFinishedJobs", min: 0) { keepFinishedJobs = n }
            gf.finish(context: "gc.")
        }
        f.finish()
        guard let name, !storeRefused else { return nil }
        let def = defaultPool ?? (pools["local"] != nil ? "local" : pools.keys.sorted().first ?? "local")
        var project = Project(name: name, owner: owner, store: store, publishBranch: publishBranch, pools: pools, defaultPool: def)
        project.keepFinishedJobs = keepFinishedJobs
        return project
    }

    /// A short branch name git accepts (`git check-ref-format --branch`, the common cases): no `refs/`
    /// prefix, spaces, `..`, `~^:?*[\\`, control characters, leading `-` or `/`, trailing `/`, `.` or `.lock`.
    static func isBranchName(_ b: String) -> Bool {
        guard !b.isEmpty, !b.hasPrefix("-"), !b.hasPrefix("/"), !b.hasSuffix("/"), !b.hasSuffix("."), !b.hasSuffix(".lock"),
              !b.hasPrefix("refs/"), !b.contains(".."), !b.contains("//"), !b.contains("@{") else { return false }
        return !b.unicodeScalars.contains { $0.value < 0x21 || $0.value == 0x7f || "~^:?*[\\".unicodeScalars.contains($0) }
    }

    static func pool(_ name: String, _ node: Node, report: FileReport) -> Pool? {
        guard var f = Fields(node, what: "pool \"\(name)\"", report: report) else { return nil }
        var kind = ExecutorKind.local
        if let v = f.raw("executor"), let s = v.scalar {
            if let e = ExecutorKind(rawValue: s) { kind = e }
            else if s == "kubernetes" { f.error("executor kubernetes is planned but not available yet: use local or slurm", at: v.mark) }
            else { f.error("unknown executor \"\(s)\": use local or slurm\(NearMiss.hint(for: s, among: ExecutorKind.allCases.map(\.rawValue)))", at: v.mark) }
        }
        var pool = Pool(name: name, backend: backend(kind, name, node, &f))
        pool.maxParallel = f.int("maxParallel", min: 1) ?? (kind == .slurm ? 4 : 2)
        pool.costPerHour = f.double("costPerHour", min: 0) ?? 0
        if let h = f.double("maxHours", min: 0) {
            if h <= 0 { f.error("\"maxHours\" must be more than 0", at: f.node["maxHours"]!.mark) } else { pool.maxHours = h }
        }
        f.finish(context: "pools.\(name).")
        return pool
    }

    /// The executor's own settings of a pool.
    static func backend(_ kind: ExecutorKind, _ name: String, _ node: Node, _ f: inout Fields) -> PoolBackend {
        switch kind {
        case .local:
            for k in SlurmPoolSettings.fieldNames {
                if let v = f.raw(k) { f.warning("\"\(k)\" only applies to slurm pools; pool \"\(name)\" is local", at: v.mark) }
            }
            return .local(LocalPoolSettings())
        case .slurm:
            var s = SlurmPoolSettings(workdir: "")
            s.partition = f.string("partition")
            s.gres = f.string("gres")
            s.cpusPerTask = f.int("cpusPerTask", min: 1)
            s.mem = f.string("mem")
            s.account = f.string("account")
            s.qos = f.string("qos")
            s.constraint = f.string("constraint")
            s.extraArgs = f.strings("extraArgs") ?? []
            if let w = f.string("workdir") { s.workdir = w } else {
                f.error("slurm pool \"\(name)\" needs \"workdir\": a directory every Slurm node can read and write", at: node.mark)
                s.workdir = ".hone/slurm"
            }
            return .slurm(s)
        }
    }

    static func version(_ kind: VersionKind, ref: VersionRef, _ root: Node, report: FileReport) -> VersionSpec? {
        guard var f = Fields(root, what: "a \(kind.rawValue)", report: report), header(&f, expected: kind.rawValue) else { return nil }
        var v = VersionSpec(kind: kind, ref: ref)
        v.description = f.string("description", lenient: true)
        if kind == .runtime {
            v.python = f.string("python") ?? "python3"
            v.requirements = f.strings("requirements") ?? []
            let env = f.stringMap("env") ?? []
            // A job's environment takes variable names only: anything else would be dropped at run time.
            for e in env where !Decoders.isVariableName(e.key) {
                f.error("\"env\": \"\(e.key)\" is not an environment variable name (letters, digits and _, not starting with a digit)", at: root["env"]?.pairs?.first { $0.key.scalar == e.key }?.key.mark ?? e.mark)
            }
            v.env = Dictionary(env.filter { Decoders.isVariableName($0.key) }.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            v.systemSitePackages = f.bool("systemSitePackages") ?? false
        } else {
            v.uri = f.string("uri", required: true)
            if let shaNode = f.require("sha256"), let s = Fields.string(shaNode, key: "sha256", lenient: true, fields: &f) {
                if s.count == 64 && s.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) { v.sha256 = s }
                else { f.error("\"sha256\" must be 64 lowercase hex digits (`sha256sum FILE` prints it)", at: shaNode.mark) }
            }
            if kind == .model {
                v.publishedFrom = f.string("publishedFrom")
                v.publishedAt = f.string("publishedAt", lenient: true)
                if let l = f.raw("lineage") { v.lineage = Fields.jsonValue(l) }
                v.metrics = f.json("metrics") ?? [:]
                if let b = f.raw("base") { modelBase(b, into: &v, fields: &f) }
                if let files = f.raw("files") { v.files = Fields.jsonValue(files) }
                v.size = f.int("size", min: 0)
            }
        }
        f.finish()
        if report.hasErrors { return nil }
        v.digest = kind == .runtime ? runtimeDigest(v) : (v.sha256 ?? "")
        v.marks = marks(root, ["kind", "sha256"])
        return v
    }

    /// `base: {model: name@version, sha256: <64 hex>}` (sha256 optional): the base an adapter needs.
    static func modelBase(_ node: Node, into v: inout VersionSpec, fields f: inout Fields) {
        guard case .object(let o) = Fields.jsonValue(node), case .string(let m)? = o["model"], let ref = VersionRef.parse(m) else {
            f.error("\"base\" must be a mapping with model: name@version (the base model an adapter is applied to) and optionally its sha256", at: node.mark)
            return
        }
        v.base = ref
        if let sha = o["sha256"] {
            guard case .string(let s) = sha, s.count == 64, s.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                f.error("\"base.sha256\" must be 64 lowercase hex digits", at: node.mark); return
            }
            v.baseSha256 = s
        }
        if let unknown = o.keys.sorted().first(where: { $0 != "model" && $0 != "sha256" }) {
            f.error("\"base\": unknown field \"\(unknown)\" (fields: model, sha256)", at: node.mark)
        }
    }

    /// The marks of the top-level fields later checks point at (only those: 10,000 runs are decoded at once).
    static func marks(_ root: Node, _ fields: [String]) -> SourceMarks {
        var m: [String: Mark] = [:]
        for field in fields { if let node = root[field] { m[field] = node.mark } }
        return SourceMarks(m)
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`: what a shell and `execve`'s environment take as a variable name.
    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(48...57).contains(first) else { return false }
        return s.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    /// A runtime's digest: its environment-defining fields in canonical JSON.
    static func runtimeDigest(_ v: VersionSpec) -> String {
        let canon = JSONValue.object([
            "python": .string(v.python), "requirements": .array(v.requirements.map(JSONValue.string)),
            "env": .object(v.env.mapValues(JSONValue.string)), "systemSitePackages": .bool(v.systemSitePackages),
        ])
        return ContentHash.hex(canon.canonicalJSON)
    }

    static func group(_ name: String, _ root: Node, report: FileReport) -> GroupSpec? {
        guard var f = Fields(root, what: "a Group", report: report), header(&f, expected: "Group") else { return nil }
        let g = GroupSpec(name: name, description: f.string("description", lenient: true))
        f.finish()
        return report.hasErrors ? nil : g
    }

    static func publish(_ f: inout Fields) -> PublishRequest? {
        guard let node = f.raw("publish"), !node.isNullScalar else { return nil }
        guard var p = Fields(node, what: "\"publish\"", report: f.report) else { return nil }
        let model = name(&p, "model")
        if node["model"] == nil { p.missing(["model"], "\"publish\" needs \"model\": the registry model to publish into", at: node.mark) }
        else if node["model"]!.isNullScalar { p.error("\"publish.model\" needs a value: the registry model to publish into", at: node["model"]!.mark) }
        var as_: PublishAs? = .new
        if let v = p.raw("as"), !v.isNullScalar {
            if let s = v.scalar, let a = PublishAs(rawValue: s) { as_ = a } else {
                p.error("\"publish.as\" must be new or version, found \(v.scalar.map { "\"\($0)\"" } ?? v.kindDescription)\(NearMiss.hint(for: v.scalar ?? "", among: ["new", "version"]))", at: v.mark)
                as_ = nil
            }
        }
        p.finish(context: "publish.")
        guard let model, let as_ else { return nil }
        return PublishRequest(model: model, as: as_)
    }

    /// `code:` (specs/run.md, "Code"): repository paths, files or folders; absent → the folder of the
    /// handler's script (the script itself when it is at the top of the repository, nothing when the
    /// handler names no script); `[]` → none.
    static func code(_ f: inout Fields, handler: String?) -> [String] {
        guard let v = f.raw("code"), !v.isNullScalar else { return defaultCode(handler: handler) }
        guard let items = v.items else {
            f.error("\"code\" must be a list of repository paths (files or folders), like [handlers/, lib/tokenize.py], or [] for none; found \(v.kindDescription)", at: v.mark)
            return []
        }
        var out: [String] = []
        for item in items {
            guard let s = Fields.string(item, key: "code item", lenient: false, fields: &f) else { continue }
            guard let path = HandlerScript.repositoryPath(s) else {
                f.error("\"code\": \"\(s)\" is not a path inside the repository (relative, without .. or shell characters)", at: item.mark)
                continue
            }
            if writtenByHone(path) {
                f.error("\"code\": \"\(s)\" is written by hone, not code (every reconcile would change it)", at: item.mark)
                continue
            }
            if !out.contains(path) { out.append(path) }
        }
        return out.sorted()
    }

    /// `status/`, `.hone/`, `.git/`: what hone writes changes with every reconcile.
    static func writtenByHone(_ path: String) -> Bool {
        guard let top = path.split(separator: "/").first else { return false }
        return top == "status" || top == ".hone" || top == ".git"
    }

    static func defaultCode(handler: String?) -> [String] {
        guard let handler, let script = HandlerScript.path(in: handler) else { return [] }
        let folder = script.split(separator: "/").dropLast().joined(separator: "/")
        return [folder.isEmpty ? script : folder]
    }

    static func onChange(_ f: inout Fields) -> OnChange {
        guard let v = f.raw("onChange"), !v.isNullScalar else { return .cancel }
        if let s = v.scalar, let o = OnChange(rawValue: s) { return o }
        f.error("\"onChange\" must be cancel or wait, found \(v.scalar.map { "\"\($0)\"" } ?? v.kindDescription)\(NearMiss.hint(for: v.scalar ?? "", among: ["cancel", "wait"]))", at: v.mark)
        return .cancel
    }

    static func run(_ key: ObjectKey, _ root: Node, context c: ReferenceContext, report: FileReport) -> RunSpec? {
        let project = c.project
        guard var f = Fields(root, what: "a Run", report: report), header(&f, expected: "Run") else { return nil }
        let description = f.string("description", lenient: true)
        let pool = name(&f, "pool") ?? project?.defaultPool ?? "local"
        let base = versionRef(&f, "baseModel", required: true)
        let train = versionRef(&f, "trainDataset", required: true)
        let val = versionRef(&f, "validationDataset", required: false)
        let runtime = versionRef(&f, "runtime", required: false)
        let handler = f.string("handler", required: true)
        let params = f.params("params") ?? [:]
        let owner = f.string("owner", lenient: true)
        let rerun = f.int("rerun", min: 0) ?? 0
        let oc = onChange(&f)
        let pub = publish(&f)
        let code = code(&f, handler: handler)
        f.finish()
        c.checkPool(&f, pool)
        c.checkVersion(&f, "baseModel", .model, base)
        c.checkVersion(&f, "trainDataset", .dataset, train)
        c.checkVersion(&f, "validationDataset", .dataset, val)
        c.checkVersion(&f, "runtime", .runtime, runtime)
        c.checkPublish(&f, key, pub)
        guard !report.hasErrors, let base, let train, let handler else { return nil }
        var run = RunSpec(key: key, description: description, pool: pool, baseModel: base, trainDataset: train, validationDataset: val,
                          runtime: runtime, handler: handler, params: params, owner: owner, rerun: rerun, onChange: oc, publish: pub, code: code)
        run.marks = marks(root, ["kind"])
        return run
    }

    /// `groups/<g>/playgrounds/<p>.yaml` (specs/playground.md).
    static func playground(_ key: ObjectKey, _ root: Node, context c: ReferenceContext, report: FileReport) -> PlaygroundSpec? {
        guard var f = Fields(root, what: "a Playground", report: report), header(&f, expected: "Playground") else { return nil }
        let description = f.string("description", lenient: true)
        let pool = name(&f, "pool") ?? c.project?.defaultPool ?? "local"
        let model = versionRef(&f, "model", required: false)
        let fromRun = name(&f, "fromRun")
        if model != nil && fromRun != nil {
            f.error("a playground takes exactly one of \"model\" and \"fromRun\", not both", at: root["fromRun"]!.mark)
        } else if model == nil && fromRun == nil {
            let message = "a playground needs one of \"model\" (a registry version, name@version) or \"fromRun\" (a run of this group, whose draft it serves)"
            let present = [root["model"], root["fromRun"]].compactMap { $0 }
            if present.isEmpty { f.missing(["model", "fromRun"], message, at: root.mark) } else { f.error(message, at: present[0].mark) }
        }
        let runtime = versionRef(&f, "runtime", required: false)
        let handler = f.string("handler", required: true)
        let params = f.params("params") ?? [:]
        let autoRelease = releaseDuration(&f, "autoRelease", default: 3600)
        let idleRelease = releaseDuration(&f, "idleRelease", default: nil)
        var apiKeyEnv: String? = nil
        if let v = f.raw("apiKeyEnv"), !v.isNullScalar, let s = Fields.string(v, key: "apiKeyEnv", lenient: false, fields: &f) {
            // Not quoted: what was typed here may be the key itself.
            if SecretExcerpt.isVariableName(s) { apiKeyEnv = s } else {
                f.error("\"apiKeyEnv\" must name an environment variable (letters, digits and _, like HONE_PLAYGROUND_KEY), not hold a value: if this is the key, it is in git now, so change it", at: v.mark)
            }
        }
        let owner = f.string("owner", lenient: true)
        let rerun = f.int("rerun", min: 0) ?? 0
        let code = code(&f, handler: handler)
        f.finish()
        c.checkPool(&f, pool)
        c.checkVersion(&f, "model", .model, model)
        c.checkVersion(&f, "runtime", .runtime, runtime)
        c.checkSibling(&f, key, field: "fromRun", kind: .run, name: fromRun)
        guard !report.hasErrors, let handler else { return nil }
        var p = PlaygroundSpec(key: key, description: description, pool: pool, model: model, fromRun: fromRun, runtime: runtime, handler: handler,
                               params: params, autoRelease: autoRelease, idleRelease: idleRelease, apiKeyEnv: apiKeyEnv, owner: owner,
                               rerun: rerun, code: code)
        p.marks = marks(root, ["kind"])
        return p
    }

    /// A release limit: a duration, or 0/never for none; absent → `default`.
    static func releaseDuration(_ f: inout Fields, _ key: String, default value: Int?) -> Int? {
        guard let v = f.raw(key), !v.isNullScalar else { return value }
        guard let s = v.scalar, let d = DurationText.parse(s) else {
            f.error("\"\(key)\" must be a duration like 90s, 15m, 2h or 3600 (seconds), or 0/never to turn it off; found \(v.scalar.map { "\"\($0)\"" } ?? v.kindDescription)", at: v.mark)
            return value
        }
        if case .seconds(let n) = d { return n }
        return nil
    }

    static func eval(_ key: ObjectKey, _ root: Node, context c: ReferenceContext, report: FileReport) -> EvalSpec? {
        let project = c.project
        guard var f = Fields(root, what: "an Eval", report: report), header(&f, expected: "Eval") else { return nil }
        let description = f.string("description", lenient: true)
        let pool = name(&f, "pool") ?? project?.defaultPool ?? "local"
        let model = versionRef(&f, "model", required: false)
        let fromRun = name(&f, "fromRun")
        if model != nil && fromRun != nil {
            f.error("an eval takes exactly one of \"model\" and \"fromRun\", not both", at: root["fromRun"]!.mark)
        } else if model == nil && fromRun == nil {
            let message = "an eval needs one of \"model\" (a registry version, name@version) or \"fromRun\" (a run of this group)"
            let present = [root["model"], root["fromRun"]].compactMap { $0 }
            if present.isEmpty { f.missing(["model", "fromRun"], message, at: root.mark) }
            else if present.allSatisfy(\.isNullScalar) { f.error(message, at: present[0].mark) }
        }
        if fromRun != nil, case .evaluations = key.scope {
            f.error("\"fromRun\" is only available to evals in a group: the evaluation module has no runs", at: root["fromRun"]!.mark)
        }
        let handler = f.string("handler", required: true)
        let dataset = versionRef(&f, "dataset", required: true)
        let runtime = versionRef(&f, "runtime", required: false)
        let params = f.params("params") ?? [:]
        var autoRelease: Int? = 3600
        if let v = f.raw("autoRelease"), !v.isNullScalar {
            if let s = v.scalar, let d = DurationText.parse(s) {
                if case .seconds(let n) = d { autoRelease = n } else { autoRelease = nil }
            } else {
                f.error("\"autoRelease\" must be a duration like 90s, 15m, 2h or 3600 (seconds), or 0/never to turn it off; found \(v.scalar.map { "\"\($0)\"" } ?? v.kindDescription)", at: v.mark)
            }
        }
        var debug = DebugSettings()
        if let d = f.raw("debug"), !d.isNullScalar, var df = Fields(d, what: "\"debug\"", report: report) {
            debug.enabled = df.bool("enabled") ?? false
            if let pe = df.raw("passwordEnv"), let s = Fields.string(pe, key: "passwordEnv", lenient: false, fields: &df) {
                if !SecretExcerpt.isVariableName(s) {
                    // Not quoted: what was typed here may be the password itself.
                    df.error("\"debug.passwordEnv\" must name an environment variable (letters, digits and _, like HONE_DEBUG_PASSWORD), not hold a value: if this is the password, it is in git now, so change it", at: pe.mark)
                } else { debug.passwordEnv = s }
            }
            df.finish(context: "debug.")
        }
        let rerun = f.int("rerun", min: 0) ?? 0
        let oc = onChange(&f)
        let owner = f.string("owner", lenient: true)
        var gates: [(metric: String, expression: String)] = []
        if let g = f.raw("gates"), !g.isNullScalar {
            if let pairs = g.pairs {
                for p in pairs {
                    guard let k = p.key.scalar else { continue }
                    if !(k.hasPrefix("metrics.") && k.count > 8) {
                        f.error("gate \"\(k)\" must name a metric as metrics.<key>", at: p.key.mark); continue
                    }
                    guard let e = p.value.scalar, GateExpression.parse(e) != nil else {
                        f.error("gate \"\(k)\": expected a comparison like \">= baseline - 0.01\" or \"<= 12\", found \(p.value.scalar.map { "\"\($0)\"" } ?? p.value.kindDescription)", at: p.value.mark)
                        continue
                    }
                    gates.append((k, e))
                }
            } else { f.error("\"gates\" must be a mapping of metrics.<key> to a comparison", at: g.mark) }
        }
        let baseline = name(&f, "baseline")
        if baseline == nil, let relative = gates.first(where: { GateExpression.parse($0.expression)!.relativeToBaseline }) {
            f.error("gate \"\(relative.metric)\" compares with the baseline, but this eval names no \"baseline\"", at: root["gates"]![relative.metric]!.mark)
        }
        let syncedFrom = f.string("syncedFrom")
        let code = code(&f, handler: handler)
        f.finish()
        c.checkPool(&f, pool)
        c.checkVersion(&f, "model", .model, model)
        c.checkVersion(&f, "dataset", .dataset, dataset)
        c.checkVersion(&f, "runtime", .runtime, runtime)
        if case .group = key.scope { c.checkSibling(&f, key, field: "fromRun", kind: .run, name: fromRun) }
        c.checkSibling(&f, key, field: "baseline", kind: .eval, name: baseline)
        guard !report.hasErrors, let handler, let dataset else { return nil }
        var eval = EvalSpec(key: key, description: description, pool: pool, model: model, fromRun: fromRun, handler: handler, dataset: dataset,
                            runtime: runtime, params: params, autoRelease: autoRelease, debug: debug, rerun: rerun, onChange: oc, owner: owner,
                            gates: gates, baseline: baseline, syncedFrom: syncedFrom, code: code)
        eval.marks = marks(root, ["kind", "debug"])
        return eval
    }

    static func view(_ key: ObjectKey, _ root: Node, context c: ReferenceContext, report: FileReport) -> ViewSpec? {
        guard var f = Fields(root, what: "a View", report: report), header(&f, expected: "View") else { return nil }
        var view = ViewSpec(key: key)
        if let node = f.raw("for"), !node.isNullScalar {
            if let s = node.scalar, let t = ViewSpec.Target(rawValue: s) {
                if t == .runs, key.scope == .evaluations { f.error("the evaluation module has no runs: \"for: runs\" belongs in groups/<group>/views/", at: node.mark) }
                view.target = t
            } else { f.error("\"for\" must be evals or runs, found \(node.scalar.map { "\"\($0)\"" } ?? node.kindDescription)", at: node.mark) }
        }
        func checkColumn(_ c: String, _ mark: Mark, _ what: String) -> Bool {
            if ViewSpec.isKnownColumn(c, for: view.target) { return true }
            let known = ViewSpec.columns(for: view.target)
            let extra = view.target == .runs ? "params.<key> or metrics.<key>" : "metrics.<key>"
            f.error("unknown \(what) \"\(c)\"\(NearMiss.hint(for: c, among: known)): use one of \(known.joined(separator: ", ")) or \(extra)", at: mark)
            return false
        }
        if let cols = f.raw("columns"), !cols.isNullScalar {
            if let items = cols.items {
                view.columns = items.compactMap { n in
                    guard let c = n.scalar, !n.isNullScalar else {
                        f.error("column names are strings, found \(n.kindDescription)", at: n.mark); return nil
                    }
                    return checkColumn(c, n.mark, "column") ? c : nil
                }
            } else { f.error("\"columns\" must be a list of column names", at: cols.mark) }
        }
        if let pins = f.raw("pinned"), !pins.isNullScalar {
            if let items = pins.items {
                for n in items {
                    guard let c = n.scalar, !n.isNullScalar else {
                        f.error("column names are strings, found \(n.kindDescription)", at: n.mark); continue
                    }
                    guard checkColumn(c, n.mark, "pinned column") else { continue }
                    if let cols = view.columns, !cols.contains(c) {
                        f.error("pinned column \"\(c)\" is not among the view's columns", at: n.mark)
                    } else { view.pinned.append(c) }
                }
            } else { f.error("\"pinned\" must be a list of column names", at: pins.mark) }
        }
        if let filter = f.raw("filter"), !filter.isNullScalar {
            if let pairs = filter.pairs {
                for p in pairs {
                    guard let c = p.key.scalar, checkColumn(c, p.key.mark, "filter column") else { continue }
                    guard let text = p.value.scalar else {
                        f.error("filter \"\(c)\" must be a value or a comparison like \">=0.5\", found \(p.value.kindDescription)", at: p.value.mark); continue
                    }
                    switch FilterParser.parse(column: c, text) {
                    case .success(let clause): view.filter.append(clause)
                    case .failure(let message): f.error("filter \"\(c)\": \(message.message)", at: p.value.mark)
                    }
                }
            } else { f.error("\"filter\" must be a mapping of column to value or comparison", at: filter.mark) }
        }
        if let sort = f.raw("sort"), !sort.isNullScalar, var sf = Fields(sort, what: "\"sort\"", report: report) {
            if let by = sf.raw("by"), !by.isNullScalar {
                if let s = by.scalar {
                    if checkColumn(s, by.mark, "sort column") { view.sortBy = s }
                } else { sf.error("\"sort.by\" must be a column name, found \(by.kindDescription)", at: by.mark) }
            }
            if let o = sf.raw("order"), !o.isNullScalar {
                if let s = o.scalar, let order = ViewSortOrder(rawValue: s) { view.sortOrder = order }
                else { sf.error("\"sort.order\" must be asc or desc, found \(o.scalar.map { "\"\($0)\"" } ?? o.kindDescription)", at: o.mark) }
            }
            sf.finish(context: "sort.")
        }
        view.isDefault = f.bool("default") ?? false
        view.visible = f.bool("visible") ?? true
        f.finish()
        return report.hasErrors ? nil : view
    }
}

struct FilterError: Error { var message: String }

/// View filter values: `Succeeded`, `"!=Failed"`, `">=0.5"`, `"support-bot@*"` (glob).
public enum FilterParser {
    static func parse(column: String, _ text: String) -> Result<FilterClause, FilterError> {
        var t = text.trimmingCharacters(in: .whitespaces)
        var op: FilterClause.Op = .eq
        for candidate in [FilterClause.Op.ge, .le, .ne, .gt, .lt] where t.hasPrefix(candidate.rawValue) {
            op = candidate; t = String(t.dropFirst(candidate.rawValue.count)).trimmingCharacters(in: .whitespaces); break
        }
        if op == .eq, t.hasPrefix("=") { t = String(t.dropFirst()).trimmingCharacters(in: .whitespaces) }
        if t.isEmpty { return .failure(FilterError(message: "expected a value after \"\(op.rawValue)\"")) }
        let ordered = [FilterClause.Op.ge, .le, .gt, .lt].contains(op)
        let numeric = column.hasPrefix("metrics.") || column.hasPrefix("params.") || column == "duration" || column == "cost" || column == "attempt"
        let temporal = column == "createdAt" || column == "finishedAt"
        if ordered {
            if numeric && Double(t) == nil { return .failure(FilterError(message: "\"\(op.rawValue)\" needs a number, found \"\(t)\"")) }
            if temporal && Timestamp.date(t) == nil && Timestamp.date(t + "T00:00:00Z") == nil {
                return .failure(FilterError(message: "\"\(op.rawValue)\" needs a date like 2026-01-31 or 2026-01-31T12:00:00Z, found \"\(t)\""))
            }
            if !numeric && !temporal { return .failure(FilterError(message: "\"\(op.rawValue)\" only applies to metrics, params, duration, cost, attempt and dates")) }
        }
        if column == "phase" && (op == .eq || op == .ne) && !t.contains("*") && !ObjectStatus.listedPhases.contains(t) {
            let phases = ObjectStatus.listedPhases
            return .failure(FilterError(message: "unknown phase \"\(t)\"\(NearMiss.hint(for: t, among: phases)): one of \(phases.joined(separator: ", "))"))
        }
        if op == .eq && (t.contains("*") || t.contains("?")) { op = .glob }
        return .success(FilterClause(column: column, op: op, value: t))
    }
}

import Foundation
