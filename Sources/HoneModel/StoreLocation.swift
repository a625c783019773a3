import Foundation

/// Where `store:` in hone.yaml puts the artifact store (specs/project.md, specs/versions.md "Remote
/// stores"): a local folder, or a remote one reached through rclone. Parsing only: no I/O.
public enum StoreLocation: Equatable, Sendable {
    /// A folder: relative to the repository root, absolute, or `file://` + absolute (prefix removed).
    case local(String)
    case remote(RemoteStoreURL)

    /// `store:` as written. A credential in it is refused (`.credential`): credentials come from the
    /// environment only, so nothing secret is ever committed.
    public static func parse(_ text: String) -> Result<StoreLocation, StoreURLProblem> {
        if text.isEmpty { return .failure(.malformed("\"store\" is empty: write a path, file:///abs/path, s3://bucket/prefix, gs://, azure://, sftp:// or rclone:REMOTE:path")) }
        if text.hasPrefix("file://") { return .success(.local(String(text.dropFirst(7)))) }
        if text.hasPrefix("rclone:") { return RemoteStoreURL.rclone(String(text.dropFirst(7)), written: text).map(StoreLocation.remote) }
        guard let sep = text.range(of: "://") else {
            // `s3:bucket/x` or `gs:/x` would be a local folder named "s3:": surely a URL mistyped.
            if let colon = text.firstIndex(of: ":"), ["s3", "gs", "azure", "sftp", "file"].contains(text[..<colon].lowercased()) {
                return .failure(.malformed("\"\(text)\" is not a URL: write \(text[..<colon].lowercased())://… (like s3://bucket/prefix), or a path"))
            }
            return .success(.local(text))
        }
        let scheme = text[..<sep.lowerBound].lowercased()
        guard let backend = RemoteStoreURL.Backend(rawValue: scheme), backend != .rclone else {
            return .failure(.malformed("unknown store scheme \"\(text[..<sep.lowerBound])\": use a path, file:///abs/path, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix, sftp://[user@]host[:port]/path or rclone:REMOTE:path"))
        }
        return RemoteStoreURL.url(backend, rest: String(text[sep.upperBound...]), written: text).map(StoreLocation.remote)
    }
}

/// Why a `store:` value is refused. `credential` messages never quote the secret.
public enum StoreURLProblem: Error, Equatable, Sendable {
    case credential(String)
    case malformed(String)

    public var message: String {
        switch self {
        case .credential(let m), .malformed(let m): return m
        }
    }
}

/// A remote store: the backend, its rclone path (`:s3:bucket/prefix`) and the flags that go with it.
/// Objects sit under it with the local store's layout (`sha256/<digest>/<file>`, `logs/…`, `outputs/…`).
public struct RemoteStoreURL: Equatable, Sendable, CustomStringConvertible {
    public enum Backend: String, Sendable {
        case s3, gs, azure, sftp, rclone
        /// rclone's backend name for the on-the-fly remote (`:s3:`), whose settings come from RCLONE_S3_… .
        public var rcloneBackend: String {
            switch self {
            case .s3: return "s3"
            case .gs: return "gcs"
            case .azure: return "azureblob"
            case .sftp: return "sftp"
            case .rclone: return ""
            }
        }
    }

    public var backend: Backend
    /// `store:` as written (holds no credential: parsing refuses those).
    public var written: String
    /// The rclone path of the store's root, without a trailing `/`.
    public var rclonePath: String
    /// Settings taken from the URL (sftp's host, user and port), as rclone flags.
    public var rcloneFlags: [String]

    public var description: String { written }

    /// The rclone path of `relative` (`sha256/<digest>/model.bin`) in the store.
    public func rclonePath(of relative: String) -> String {
        relative.isEmpty ? rclonePath : (rclonePath.hasSuffix(":") || rclonePath.hasSuffix("/") ? rclonePath + relative : rclonePath + "/" + relative)
    }

    static let advice = "put credentials in the environment (RCLONE_CONFIG_<REMOTE>_… or the provider's variables such as AWS_ACCESS_KEY_ID), never in hone.yaml"

    static func url(_ backend: Backend, rest: String, written: String) -> Result<RemoteStoreURL, StoreURLProblem> {
        var rest = Substring(rest)
        if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            let query = rest[rest.index(after: q)...]
            let keys = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "" }
            let signed = keys.contains { SecretWords.names($0) || ["sig", "signature", "x-amz-signature", "x-amz-credential", "x-goog-signature", "sas", "key"].contains($0.lowercased()) }
            return .failure(signed
                ? .credential("the store URL carries a credential in its query string: \(advice)")
                : .malformed("a store URL takes no query string or fragment (\"\(rest[q...])\"): settings of the backend go in the environment (RCLONE_\(backend.rcloneBackend.uppercased())_…)"))
        }
        // Anything before an "@" reads as user info (a key, or user:secret): only sftp takes a user name.
        var user: Substring? = nil
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            if backend != .sftp || userinfo.contains(":") || userinfo.contains("/") {
                return .failure(.credential("the store URL carries a credential (the part before \"@\"): \(advice)"))
            }
            user = userinfo
            rest = rest[rest.index(after: at)...]
        }
        let host = rest.prefix { $0 != "/" }
        rest = rest.dropFirst(host.count)
        let path = rest.drop { $0 == "/" }
        guard !host.isEmpty else {
            return .failure(.malformed("\"\(written)\" names no \(backend == .sftp ? "host" : backend == .azure ? "container" : "bucket"): write \(example(backend))"))
        }
        guard !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            return .failure(.malformed("the store path may not hold \".\" or \"..\" components: write \(example(backend))"))
        }
        let trimmed = String(path.hasSuffix("/") ? path.dropLast() : path)
        switch backend {
        case .s3, .gs, .azure:
            guard host.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
                return .failure(.malformed("\"\(host)\" is not a valid \(backend == .azure ? "container" : "bucket") name (lowercase letters, digits, \"-\", \".\" and \"_\"): write \(example(backend))"))
            }
            let root = ":\(backend.rcloneBackend):\(host)" + (trimmed.isEmpty ? "" : "/" + trimmed)
            return .success(RemoteStoreURL(backend: backend, written: written, rclonePath: root, rcloneFlags: []))
        case .sftp:
            var flags: [String] = []
            var name = host
            if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") {
                let port = host[host.index(after: colon)...]
                guard let p = Int(port), (1...65535).contains(p) else {
                    return .failure(.malformed("\"\(port)\" is not a port number: write \(example(backend))"))
                }
                name = host[..<colon]
                flags += ["--sftp-port", String(p)]
            }
            if name.hasPrefix("[") && name.hasSuffix("]") { name = name.dropFirst().dropLast() }
            flags = ["--sftp-host", String(name)] + flags
            if let user { flags += ["--sftp-user", String(user)] }
            // sftp://host/srv/hone is the absolute /srv/hone; sftp://host/~/hone is hone in the login's home.
            let remotePath = trimmed.hasPrefix("~/") ? String(trimmed.dropFirst(2)) : trimmed == "~" ? "" : "/" + trimmed
            return .success(RemoteStoreURL(backend: .sftp, written: written, rclonePath: ":sftp:" + remotePath, rcloneFlags: flags))
        case .rclone:
            return .failure(.malformed("use rclone:REMOTE:path"))
        }
    }

    /// `rclone:REMOTE:path`: a remote of the rclone configuration (`RCLONE_CONFIG_REMOTE_TYPE=…` or
    /// rclone.conf), or an on-the-fly one (`rclone::webdav,url=https…:path`) whose settings hold no secret.
    static func rclone(_ rest: String, written: String) -> Result<RemoteStoreURL, StoreURLProblem> {
        let onTheFly = rest.hasPrefix(":")
        let body = onTheFly ? rest.dropFirst() : Substring(rest)
        // The remote ends at the first ":" outside quotes that does not start a URL's "://" (`url=https://…`).
        var quote: Character? = nil
        let colon = body.indices.first { i in
            let c = body[i]
            if c == "'" || c == "\"" { quote = quote == nil ? c : (quote == c ? nil : quote); return false }
            return quote == nil && c == ":" && !body[body.index(after: i)...].hasPrefix("//")
        }
        guard let colon, colon != body.startIndex else {
            return .failure(.malformed("\"\(written)\" names no rclone remote: write rclone:REMOTE:path (REMOTE configured by RCLONE_CONFIG_REMOTE_TYPE=… or rclone.conf)"))
        }
        let remote = body[..<colon]
        let settings = remote.split(separator: ",").dropFirst()
        if settings.contains(where: { SecretWords.names($0.split(separator: "=", maxSplits: 1).first ?? "") || $0.lowercased().hasPrefix("key=") || $0.lowercased().hasPrefix("sas_url=") }) {
            return .failure(.credential("the store's rclone remote carries a credential in its settings: \(advice)"))
        }
        if rest.contains("://"), !SecretRedactor.credentials(inURL: rest).isEmpty {
            return .failure(.credential("the store's rclone remote carries a credential in a URL: \(advice)"))
        }
        if !onTheFly {
            guard !settings.isEmpty || remote.allSatisfy({ $0.isLetter || $0.isNumber || "_-. ".contains($0) }) else {
                return .failure(.malformed("\"\(remote)\" is not an rclone remote name (letters, digits, \"_\", \"-\", \".\", spaces)"))
            }
        }
        var path = String(body[body.index(after: colon)...])
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        guard !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            return .failure(.malformed("the store path may not hold \".\" or \"..\" components"))
        }
        return .success(RemoteStoreURL(backend: .rclone, written: written, rclonePath: (onTheFly ? ":" : "") + remote + ":" + path, rcloneFlags: []))
    }

    static func example(_ backend: Backend) -> String {
        switch backend {
        case .s3: return "s3://bucket/prefix"
        case .gs: return "gs://bucket/prefix"
        case .azure: return "azure://container/prefix"
        case .sftp: return "sftp://[user@]host[:port]/path"
        case .rclone: return "rclone:REMOTE:path"
        }
    }
}
