import HoneModel

/// What an object's spec digest covers (specs/status.md, "specDigest"): its canonical spec, the digests of
/// the versions it reads, and its code files in the commit read (specs/run.md, "Code").
struct SpecParts {
    var canonical: JSONValue
    var inputs: [String: String]
    /// The object's code files now (file → blob id); nil when the code cannot be read (no commit).
    var files: [String: String]?
    /// `CodeSnapshot.digest` of `files`; nil when there are none.
    var codeDigest: String?

    init(canonical: JSONValue, inputs: [String: String], code: CodeSnapshot, codePaths: [String]) {
        self.canonical = canonical; self.inputs = inputs
        if code.isKnown {
            files = code.files(codePaths)
            codeDigest = code.digest(codePaths)
        }
    }

    /// The digest of the spec with its current code — or, when the code cannot be read, with the code
    /// recorded (nothing is said to have changed that hone cannot see).
    func digest(recordedCode: [String: String]?) -> String {
        if files == nil, let recordedCode { return SpecDigest.digest(canonical: canonical, inputs: inputs, code: Self.digest(recordedCode)) }
        return SpecDigest.digest(canonical: canonical, inputs: inputs, code: codeDigest)
    }

    static func digest(_ files: [String: String]) -> String? { files.isEmpty ? nil : CodeSnapshot.digest(files) }

    /// What differs from the attempt `status` records, once its digest differs. A status recorded before
    /// hone recorded code holds the digest without code: its code is compared with the code of the
    /// commit it was launched from (`codeAtLaunch`) and counts as unchanged when that is unknown.
    func change(from status: ObjectStatus, codeAtLaunch: [String: String]?) -> SpecChange {
        let recorded = status.code ?? codeAtLaunch
        var out = SpecChange()
        if let files, let recorded, files != recorded { out.codeFiles = CodeSnapshot.changedFiles(from: recorded, to: files) }
        let specAsRecorded = status.code == nil
            ? SpecDigest.digest(canonical: canonical, inputs: inputs)
            : SpecDigest.digest(canonical: canonical, inputs: inputs, code: Self.digest(status.code!))
        out.spec = status.specDigest != specAsRecorded
        return out
    }
}

/// Why an attempt no longer matches its spec.
struct SpecChange {
    /// Something other than code changed (handler, params, inputs, …).
    var spec = false
    /// The code files that changed since the attempt (added, changed or removed).
    var codeFiles: [String] = []
    var any: Bool { spec || !codeFiles.isEmpty }
    var reasons: [String] {
        (spec ? ["spec changed"] : []) + (codeFiles.isEmpty ? [] : ["code changed: " + CodeSnapshot.describe(codeFiles)])
    }
}
