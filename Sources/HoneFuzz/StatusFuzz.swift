import HoneLoading
import HoneModel
import YAML

/// Bytes → a status file through `StatusCodec.decode`, as a run's and as an eval's. A status that
/// decodes must be written, read back without a problem, and written again to the same bytes.
public enum StatusFuzz {
    static let keys = [
        ObjectKey(scope: .group("g"), kind: .run, name: "r"),
        ObjectKey(scope: .group("g"), kind: .eval, name: "e"),
        ObjectKey(scope: .evaluations, kind: .eval, name: "x"),
    ]

    /// The spec of each key, so the loader pairs the status with its object.
    static let repository = SpecFuzz.repository.merging([
        "groups/g/runs/r.yaml": "kind: Run\nbaseModel: m@v1\ntrainDataset: d@v1\nhandler: h\n",
        "groups/g/evals/e.yaml": "kind: Eval\nfromRun: r\nhandler: h\ndataset: d@v1\n",
        "evaluations/x.yaml": "kind: Eval\nmodel: m@v1\nhandler: h\ndataset: d@v1\n",
    ]) { $1 }

    /// Selectors 0-2 decode the status directly; 3-5 load it as the file of a repository (bytes
    /// as they are, through the loader's pairing of statuses with objects).
    public static func run(_ data: UnsafeBufferPointer<UInt8>) {
        guard let selector = data.first else { return }
        let key = keys[Int(selector) % keys.count]
        let bytes = UnsafeBufferPointer(rebasing: data.dropFirst())
        if Int(selector) % (2 * keys.count) >= keys.count {
            var source = MemorySource(files: repository)
            source.files[key.statusPath] = Array(bytes)
            guard let result = try? Loader(source: source).load() else { return }
            for d in result.diagnostics { SpecFuzz.checkRendering(d) }
            return
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let (status, diagnostics) = StatusCodec.decode(key, text: text, path: key.statusPath)
        for d in diagnostics { SpecFuzz.checkRendering(d) }
        guard let status else { return }
        let written = write(status)
        let (again, problems) = StatusCodec.decode(key, text: written, path: key.statusPath)
        guard let again, problems.isEmpty else { fatalError("hone wrote a status it cannot read: \(problems.map(\.description))\n\(written)") }
        // Writing may fill in a default once (a missing `results.rows` is written 0); after that,
        // what is read back writes the same bytes.
        let rewritten = write(again)
        guard rewritten == written else { fatalError("the status changes each time it is written:\n\(written)\n---\n\(rewritten)") }
    }

    static func write(_ status: ObjectStatus) -> String {
        do { return try YAMLEmitter.emit(StatusCodec.encode(status)) } catch { fatalError("a status that was read cannot be written: \(error)") }
    }
}
