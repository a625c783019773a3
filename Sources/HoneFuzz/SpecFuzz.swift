import Foundation
import HoneLoading
import HoneModel
import HonePlanning
import YAML

/// Bytes → diagnostics through everything a spec goes through: the YAML parser, the decoder of the
/// kind the first byte picks (the file is put at that kind's place in a small valid repository),
/// references, the plan, and every rendering of the diagnostics and the plan. Never crashes; checks two promises and traps
/// when one is broken, so libFuzzer keeps the input:
/// - a tree hone reads, hone writes, and reads back the same (`YAMLEmitter` ↔ `YAMLParser`);
/// - every rendered diagnostic is free of control characters and its excerpt is bounded.
public enum SpecFuzz {
    /// Where the fuzzed file goes: one path per kind, in the repository below.
    static let places = [
        "groups/g/runs/r.yaml", "groups/g/evals/e.yaml", "groups/g/views/v.yaml", "hone.yaml",
        "groups/g/group.yaml", "models/m/v1.yaml", "datasets/d/v1.yaml", "runtimes/rt/v1.yaml",
        "evaluations/x.yaml", "evaluations/views/w.yaml",
    ]

    static let sha = String(repeating: "ab", count: 32)
    static let repository: [String: String] = [
        "hone.yaml": "kind: Project\nname: acme\npools:\n  local:\n    executor: local\n    maxParallel: 2\n",
        "groups/g/group.yaml": "kind: Group\ndescription: fuzz\n",
        "models/m/v1.yaml": "kind: ModelVersion\nuri: m.npz\nsha256: \(sha)\n",
        "datasets/d/v1.yaml": "kind: DatasetVersion\nuri: d.jsonl\nsha256: \(sha)\n",
        "runtimes/rt/v1.yaml": "kind: RuntimeVersion\npython: python3\n",
        "groups/g/runs/base.yaml": "kind: Run\nbaseModel: m@v1\ntrainDataset: d@v1\nhandler: h\n",
    ]

    public static func run(_ data: UnsafeBufferPointer<UInt8>) {
        guard let selector = data.first else { return }
        let text = UnsafeBufferPointer(rebasing: data.dropFirst())
        checkRoundTrip(text)
        var source = MemorySource(files: repository)
        source.files[places[Int(selector) % places.count]] = Array(text)
        guard let result = try? Loader(source: source).load() else { return }
        for d in result.diagnostics { checkRendering(d) }
        checkPlan(result)
    }

    /// The plan of what loaded (spec digests walk the params), in each of its renderings.
    static func checkPlan(_ result: LoadResult) {
        let plan = Planner(result, now: Date(timeIntervalSince1970: 1_800_000_000)).plan()
        for text in [PlanViews.text(plan, showUnchanged: true), PlanViews.markdown(plan), PlanViews.json(plan).prettyJSON] {
            for u in text.unicodeScalars where u != "\n" && TerminalText.needsEscape(u) {
                fatalError("an unescaped U+\(String(u.value, radix: 16)) in a plan: \(text.debugDescription)")
            }
        }
    }

    /// What the parser reads, the emitter writes and the parser reads back as the same values.
    static func checkRoundTrip(_ text: UnsafeBufferPointer<UInt8>) {
        let doc = YAMLParser.parse(buffer: text)
        guard doc.errors.isEmpty, let root = doc.root else { return }
        let emitted: String
        do { emitted = try YAMLEmitter.emit(root) } catch { fatalError("a tree that was read cannot be written: \(error)") }
        let back = YAMLParser.parse(emitted)
        // A document that is only `---` (or `~`) has a null root; it is written empty, read as none.
        if back.errors.isEmpty, back.root == nil, root.scalar != nil, root.resolvedType == .null { return }
        guard back.errors.isEmpty, let again = back.root else { fatalError("hone wrote what it cannot read: \(back.errors)\n\(emitted)") }
        guard sameValues(root, again) else { fatalError("written and read back differently:\n\(emitted)") }
    }

    /// Equal as values: same structure, and scalars with the same text and type (styles may differ).
    /// Keys are strings to hone whatever they look like (`1:`), so only their text counts.
    static func sameValues(_ a: Node, _ b: Node, isKey: Bool = false) -> Bool {
        switch (a.content, b.content) {
        case (.scalar(let x, _), .scalar(let y, _)):
            if isKey { return x == y }
            guard a.resolvedType == b.resolvedType else { return false }
            // The emitter rewrites floats into PyYAML's stricter form (`1e3` → `1.0e+3`), same value.
            if a.resolvedType == .float, x != y, let u = floatValue(x), let v = floatValue(y) { return u == v || u.isNaN && v.isNaN }
            return x == y
        case (.sequence(let x), .sequence(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { sameValues($0, $1) }
        case (.mapping(let x), .mapping(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { sameValues($0.key, $1.key, isKey: true) && sameValues($0.value, $1.value) }
        default:
            return false
        }
    }

    static func floatValue(_ s: String) -> Double? {
        let t = s.replacingOccurrences(of: "_", with: "").lowercased()
        switch t {
        case ".inf", "+.inf": return .infinity
        case "-.inf": return -.infinity
        case ".nan": return .nan
        default: return Double(t)
        }
    }

    static func checkRendering(_ d: Diagnostic) {
        let text = d.description
        for u in text.unicodeScalars where u != "\n" && TerminalText.needsEscape(u) {
            fatalError("an unescaped U+\(String(u.value, radix: 16)) in: \(text.debugDescription)")
        }
        // Headline and notes are short; an excerpt line and its caret line are at most a window each.
        if let line = d.sourceLine, d.line > 0, line.unicodeScalars.count > 4 * Excerpt.width {
            let excerpt = Excerpt(line: line, column: d.column)
            if excerpt.text.unicodeScalars.count > 5 * Excerpt.width { fatalError("excerpt not cut: \(excerpt.text.unicodeScalars.count) characters") }
        }
        _ = d.json
    }
}
