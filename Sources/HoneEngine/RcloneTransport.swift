import Foundation
import HoneModel

/// Why a remote store could not be read or written (specs/versions.md, "Remote stores"). Every text is
/// redacted: rclone's own error output can echo its configuration.
public enum RemoteStoreError: Error, Equatable, CustomStringConvertible {
    /// No `rclone` on PATH.
    case rcloneMissing
    /// The backend refused the credentials (or found none).
    case credentials(store: String, detail: String)
    /// The bucket or container does not exist (hone never creates one).
    case bucketMissing(store: String, detail: String)
    /// The server could not be reached, after `attempts` tries with backoff.
    case unreachable(store: String, detail: String, attempts: Int)
    /// The object is not in the store.
    case notFound(store: String, object: String)
    /// Anything else rclone reported.
    case failed(store: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case .rcloneMissing:
            return "rclone is not installed (remote stores go through it): install it (Debian/Ubuntu: apt-get install rclone; elsewhere https://rclone.org/install/) and reconcile again"
        case .credentials(let store, let detail):
            return "store \(store): the credentials were refused or are missing (set RCLONE_CONFIG_<REMOTE>_… or the provider's variables where hone runs): \(detail)"
        case .bucketMissing(let store, let detail):
            return "store \(store): the bucket or container does not exist (hone does not create it; e.g. rclone mkdir): \(detail)"
        case .unreachable(let store, let detail, let attempts):
            return "store \(store): unreachable after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(detail)"
        case .notFound(let store, let object):
            return "store \(store): \(object) is not in the store"
        case .failed(let store, let operation, let detail):
            return "store \(store): rclone \(operation) failed: \(detail)"
        }
    }

    /// Whether trying again later may succeed (the outputs stay in the local store meanwhile).
    public var isTransient: Bool {
        if case .unreachable = self { return true }
        return false
    }
}

/// The rclone command line for one remote store: copies files and folders both ways and lists objects.
/// rclone is run as a subprocess with the environment hone runs in (its credentials: `RCLONE_CONFIG_…`,
/// `RCLONE_S3_…`, `AWS_…`), minus `AWS_CA_BUNDLE`, which rclone 1.60's S3 backend cannot load: the bundle
/// is passed as rclone's own `--ca-cert` instead.
public struct RcloneTransport: Sendable {
    public let store: RemoteStoreURL
    public let environment: [String: String]
    public let redactor: SecretRedactor
    /// Tries for an unreachable server, waiting `backoff`, then twice as long, … between them.
    public var attempts = 3
    public var backoff: TimeInterval = 1

    public init(store: RemoteStoreURL, environment: [String: String], redactor: SecretRedactor) {
        self.store = store
        self.environment = environment
        self.redactor = redactor.merging(SecretRedactor.forEnvironment(environment))
    }

    /// Uploads a local file or folder to `relative` in the store. Objects are content-addressed: an upload
    /// racing another of the same object writes the same bytes; files already there with the same size
    /// and hash are skipped (`--checksum`).
    public func upload(_ local: URL, to relative: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: local.path, isDirectory: &isDir) else {
            throw RemoteStoreError.failed(store: store.written, operation: "upload", detail: "\(local.path) does not exist")
        }
        _ = try run(isDir.boolValue ? "copy" : "copyto", [local.path, store.rclonePath(of: relative)], operation: "upload of \(relative)")
    }

    /// Downloads `relative` (a file, or a folder when `folder`) to `local`, which must not exist yet.
    public func download(_ relative: String, folder: Bool, to local: URL) throws {
        _ = try run(folder ? "copy" : "copyto", [store.rclonePath(of: relative), local.path], operation: "download of \(relative)")
        // rclone copies nothing, successfully, from a path that does not exist.
        var isDir: ObjCBool = false
        let there = FileManager.default.fileExists(atPath: local.path, isDirectory: &isDir) && isDir.boolValue == folder
        if !there || (folder && ((try? FileManager.default.contentsOfDirectory(atPath: local.path).isEmpty) ?? true)) {
            throw RemoteStoreError.notFound(store: store.written, object: relative)
        }
    }

    /// The paths of the files under `relative`, recursively (empty when there are none).
    public func list(_ relative: String = "") throws -> [String] {
        let out = try run("lsf", ["-R", "--files-only", store.rclonePath(of: relative)], operation: "listing of \(relative.isEmpty ? "the store" : relative)")
        return out.split(separator: "\n").map(String.init)
    }

    /// Removes one file of the store.
    public func delete(_ relative: String) throws {
        _ = try run("deletefile", [store.rclonePath(of: relative)], operation: "removal of \(relative)")
    }

    // MARK: Running rclone

    func run(_ command: String, _ arguments: [String], operation: String) throws -> String {
        var delay = backoff
        var tries = 0
        while true {
            tries += 1
            do { return try runOnce(command, arguments) } catch let e as Failure {
                let kind = classify(e)
                switch kind {
                case .unreachable where tries < attempts:
                    Thread.sleep(forTimeInterval: delay)
                    delay *= 2
                    continue
                case .unreachable: throw RemoteStoreError.unreachable(store: store.written, detail: e.detail, attempts: tries)
                case .credentials: throw RemoteStoreError.credentials(store: store.written, detail: e.detail)
                case .bucketMissing: throw RemoteStoreError.bucketMissing(store: store.written, detail: e.detail)
                case .other: throw RemoteStoreError.failed(store: store.written, operation: operation, detail: e.detail)
                }
            }
        }
    }

    struct Failure: Error {
        var status: Int32
        /// stderr, redacted and cut to its last meaningful lines.
        var detail: String
    }

    enum FailureKind { case unreachable, credentials, bucketMissing, other }

    func classify(_ f: Failure) -> FailureKind {
        let text = f.detail.lowercased()
        func has(_ words: String...) -> Bool { words.contains { text.contains($0) } }
        if has("nosuchbucket", "bucket does not exist", "containernotfound", "container does not exist", "bucket not found", "notfound: bucket") { return .bucketMissing }
        if has("invalidaccesskeyid", "signaturedoesnotmatch", "accessdenied", "access denied", "status code: 403", "status code: 401", "authenticationfailed",
               "unable to authenticate", "invalid credentials", "nocredentialproviders", "no valid credential", "permission denied (publickey",
               "ssh: handshake failed", "couldn't connect ssh: ssh: unable", "expiredtoken", "invalidtoken") { return .credentials }
        if has("connection refused", "no such host", "i/o timeout", "network is unreachable", "connection reset", "broken pipe", "unexpected eof",
               "tls handshake timeout", "dial tcp", "timeout awaiting", "context deadline exceeded", "server misbehaving", "connection lost",
               "couldn't connect ssh", "use of closed network connection", "status code: 503", "status code: 502", "status code: 500") || f.status == 5 { return .unreachable }
        return .other
    }

    /// The environment rclone runs with, and the flags hone adds for it.
    func invocation() -> (environment: [String: String], flags: [String]) {
        var env = environment
        var flags = ["--retries", "1", "--low-level-retries", "3", "--contimeout", "10s", "--timeout", "60s", "--log-level", "ERROR", "--stats", "0"]
        if let bundle = env.removeValue(forKey: "AWS_CA_BUNDLE"), !bundle.isEmpty, FileManager.default.fileExists(atPath: bundle),
           env["RCLONE_CA_CERT"] == nil {
            flags += ["--ca-cert", bundle]
        }
        switch store.backend {
        case .s3:
            // The provider's own variables (AWS_ACCESS_KEY_ID, AWS_PROFILE, an instance role) when rclone's are not set.
            if env["RCLONE_S3_ENV_AUTH"] == nil { env["RCLONE_S3_ENV_AUTH"] = "true" }
            // A missing bucket is an error, not something to create.
            flags.append("--s3-no-check-bucket")
        case .gs, .azure, .sftp, .rclone: break
        }
        return (env, flags + store.rcloneFlags)
    }

    func runOnce(_ command: String, _ arguments: [String]) throws -> String {
        guard let executable = Self.executable(environment["PATH"]) else { throw RemoteStoreError.rcloneMissing }
        let (env, flags) = invocation()
        let process = Process()
        process.executableURL = executable
        process.arguments = [command] + flags + arguments
        process.environment = env
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("hone-rclone-\(UUID().uuidString.prefix(12))")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw RemoteStoreError.rcloneMissing }
        process.waitUntilExit()
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw Failure(status: process.terminationStatus, detail: Self.detail(redactor.redact(stderr), status: process.terminationStatus))
        }
        return stdout
    }

    /// rclone's error output cut to what says why: its last lines without timestamps and request ids.
    static func detail(_ stderr: String, status: Int32) -> String {
        var lines: [String] = []
        for raw in stderr.split(separator: "\n") {
            var line = raw.trimmingCharacters(in: .whitespaces)
            // "2026/12/04 21:14:22 ERROR : x.txt: Failed to copy: …"
            if line.count > 20, line.prefix(4).allSatisfy(\.isNumber), line.dropFirst(4).first == "/" { line = String(line.dropFirst(20)) }
            if line.hasPrefix("status code:") { if let last = lines.popLast() { lines.append(last + " (" + (line.split(separator: ",").first.map(String.init) ?? line) + ")") }; continue }
            if line.isEmpty || line.hasPrefix("NOTICE") { continue }
            if !lines.contains(line) { lines.append(line) }
        }
        let text = lines.suffix(3).joined(separator: "; ")
        let cut = text.count > 600 ? String(text.prefix(600)) + "…" : text
        return cut.isEmpty ? "rclone exited with status \(status)" : TerminalText.escaped(cut)
    }

    static func executable(_ path: String?) -> URL? {
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("rclone")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
