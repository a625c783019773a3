import Foundation
import YAML

/// Key names that hold a secret (specs/secrets.md): the secret scan of files people write, the masking of
/// source excerpts and the secret-named environment variables all use these words.
public enum SecretWords {
    /// Keys that are secrets whatever their value.
    public static let exact: Set<String> = ["password", "passwd", "pass", "token", "secret", "apikey", "accesstoken", "secretkey",
                                            "privatekey", "accesskey", "clientsecret", "authtoken", "credentials"]
    /// Endings that make a key a secret when it holds text (`HF_TOKEN`, `db_password`), but not
    /// `max_tokens: 512` nor `passwordEnv: NAME`.
    public static let suffixes = ["password", "passwd", "token", "secret", "apikey", "accesskey", "privatekey"]

    /// The key lowercased, without `_`, `-` and `.` (`API_KEY` → `apikey`).
    public static func folded(_ key: some StringProtocol) -> String {
        String(String.UnicodeScalarView(key.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" && $0 != "." }))
    }

    /// Whether `key` names a secret: exactly one of the words, or (`orSuffix`) ending in one.
    public static func names(_ key: some StringProtocol, orSuffix: Bool = true) -> Bool {
        let k = folded(key)
        return exact.contains(k) || (orSuffix && suffixes.contains { k.hasSuffix($0) })
    }
}

/// The one redactor: knows every secret value in scope (debug passwords read from the environment,
/// credentials of remote URLs, secret-named environment variables) and replaces each by `***` in
/// everything hone commits or prints. See specs/secrets.md, "Redaction".
///
/// Rules: values shorter than `minimumLength` are not secrets here (they would mask ordinary words; hone
/// refuses debug passwords that short); a value that contains another is replaced whole (longest first);
/// each value is also replaced in the forms hone's own encoders give it (JSON/YAML escapes, YAML single
/// quotes, URL percent-encoding).
public struct SecretRedactor: Sendable, Equatable {
    public static let mask = "***"
    public static let minimumLength = 6

    /// The byte strings replaced, longest first.
    public private(set) var needles: [[UInt8]] = []

    public init() {}

    public init(_ secrets: some Sequence<String>) { add(secrets) }

    public var isEmpty: Bool { needles.isEmpty }

    /// Learns more secret values (and their encoded forms).
    public mutating func add(_ secrets: some Sequence<String>) {
        var known = Set(needles)
        for secret in secrets where secret.utf8.count >= Self.minimumLength {
            for form in Self.forms(of: secret) where form.utf8.count >= Self.minimumLength {
                known.insert(Array(form.utf8))
            }
        }
        needles = known.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
    }

    public func adding(_ secrets: some Sequence<String>) -> SecretRedactor {
        var copy = self
        copy.add(secrets)
        return copy
    }

    /// Both redactors' secrets.
    public func merging(_ other: SecretRedactor) -> SecretRedactor {
        var copy = self
        copy.needles = Set(needles).union(other.needles).sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
        return copy
    }

    /// The encodings a value can take in what hone writes.
    static func forms(of secret: String) -> Set<String> {
        var json = ""
        JSONValue.quote(secret, into: &json)
        var forms: Set<String> = [secret, String(json.dropFirst().dropLast()), secret.replacingOccurrences(of: "'", with: "''")]
        if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) { forms.insert(encoded) }
        return forms
    }

    public func redact(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        var text = text
        let out = text.withUTF8 { redacted(UnsafeRawBufferPointer($0)) }
        return out.map { String(decoding: $0, as: UTF8.self) } ?? text
    }

    public func redact(_ data: Data) -> Data {
        guard !needles.isEmpty, let out = data.withUnsafeBytes({ redacted($0) }) else { return data }
        return Data(out)
    }

    /// The bytes with every needle replaced, or nil when none occurs (nothing copied then).
    private func redacted(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        var current: [UInt8]? = nil
        for needle in needles {
            let hits = current.map { c in c.withUnsafeBytes { Self.occurrences(of: needle, in: $0) } } ?? Self.occurrences(of: needle, in: input)
            guard !hits.isEmpty else { continue }
            let source = current ?? Array(input)
            var out: [UInt8] = []
            out.reserveCapacity(source.count)
            var copied = 0
            for h in hits {
                out += source[copied..<h]
                out += Self.maskBytes
                copied = h + needle.count
            }
            out += source[copied...]
            current = out
        }
        return current
    }

    private static let maskBytes = Array(mask.utf8)

    /// Where `needle` starts in `buffer`, without overlaps (memchr finds candidates: most text has few).
    private static func occurrences(of needle: [UInt8], in buffer: UnsafeRawBufferPointer) -> [Int] {
        guard let first = needle.first, let base = buffer.baseAddress, buffer.count >= needle.count else { return [] }
        var hits: [Int] = []
        needle.withUnsafeBytes { n in
            let last = buffer.count - n.count
            var i = 0
            while i <= last, let p = memchr(base + i, Int32(first), last - i + 1) {
                let at = base.distance(to: UnsafeRawPointer(p))
                if memcmp(base + at, n.baseAddress!, n.count) == 0 { hits.append(at); i = at + n.count } else { i = at + 1 }
            }
        }
        return hits
    }
}

extension SecretRedactor {
    /// Variables that hold git or CI credentials: never passed to jobs, their values redacted.
    public static let credentialVariables: Set<String> = [
        "HONE_REMOTE_URL", "GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GITLAB_TOKEN",
        "HONE_GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V1", "CI_JOB_JWT_V2", "CI_REGISTRY_PASSWORD",
        "CI_DEPLOY_PASSWORD", "CI_REPOSITORY_URL", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "BITBUCKET_TOKEN", "GIT_TOKEN",
    ]
    /// Variables through which git finds credentials (a helper program, the ssh agent holding a deploy key,
    /// configuration): never passed to jobs; their values are paths and commands, not redacted.
    public static let credentialPlumbing: Set<String> = [
        "GIT_ASKPASS", "SSH_ASKPASS", "SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_CREDENTIAL_HELPER", "GIT_CONFIG_PARAMETERS",
    ]
    /// Names starting so are git configuration passed through the environment (`GIT_CONFIG_VALUE_0` may
    /// hold an `http.extraHeader` with a token).
    public static let plumbingPrefixes = ["GIT_CONFIG_"]

    /// Whether a job must not inherit the variable, whatever its value.
    public static func isCredentialVariable(_ name: String) -> Bool {
        credentialVariables.contains(name) || credentialPlumbing.contains(name) || plumbingPrefixes.contains { name.hasPrefix($0) }
    }

    /// Endings of rclone's settings variables (`RCLONE_CONFIG_<REMOTE>_<OPTION>`, `RCLONE_<BACKEND>_<OPTION>`)
    /// that hold a credential: S3/GCS/Azure keys, sftp passwords and keys, SAS URLs, tokens.
    public static let rcloneSecretSuffixes = ["_KEY", "_PASS", "_PASSWORD", "_SECRET", "_TOKEN", "_SAS_URL", "_CREDENTIALS", "_KEY_PEM",
                                              "_ACCESS_KEY_ID", "_SECRET_ACCESS_KEY", "_SESSION_TOKEN", "_CLIENT_SECRET", "_KEY_FILE_PASS"]

    /// Whether a variable holds a credential of a remote store (rclone's settings, the providers' keys).
    public static func isStoreCredential(_ name: String) -> Bool {
        if name.hasPrefix("RCLONE_") { return rcloneSecretSuffixes.contains { name.hasSuffix($0) } }
        return ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY", "AZURE_STORAGE_CONNECTION_STRING",
                "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET"].contains(name)
    }

    /// The default name of the debug password variable.
    public static let defaultPasswordVariable = "HONE_DEBUG_PASSWORD"

    /// Everything secret in `environment`: the values of `passwordVariables` (and HONE_DEBUG_PASSWORD), of the
    /// credential variables and of secret-named variables (`HF_TOKEN`, `DB_PASSWORD`), and the credentials
    /// of every URL among the values and in `remoteURLs`.
    public static func forEnvironment(_ environment: [String: String], passwordVariables: some Sequence<String> = [String](),
                                      remoteURLs: [String] = []) -> SecretRedactor {
        let passwords = Set(passwordVariables).union([defaultPasswordVariable])
        var secrets: [String] = []
        for (name, value) in environment {
            let named = passwords.contains(name) || credentialVariables.contains(name) || SecretWords.names(name)
                || name.hasPrefix("GIT_CONFIG_VALUE") || isStoreCredential(name)
            // A URL's secret is its userinfo: the rest of HONE_REMOTE_URL stays readable.
            let inURL = credentials(inURL: value)
            secrets += inURL
            if named && !value.contains("://") { secrets.append(value) }
        }
        for url in remoteURLs { secrets += credentials(inURL: url) }
        return SecretRedactor(secrets)
    }

    /// The secret part of a URL's userinfo (`https://user:TOKEN@host/x` → TOKEN, `https://TOKEN@host` →
    /// TOKEN for http(s)), as written and percent-decoded. The user name beside a password is not secret
    /// (`x-access-token`, `oauth2`), nor ssh's `git@`.
    public static func credentials(inURL text: String) -> [String] {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") else { return [] }
        let userinfo = text[scheme.upperBound..<at]
        guard !userinfo.contains("/") else { return [] }  // an @ in the path, not userinfo
        let lowerScheme = text[..<scheme.lowerBound].lowercased()
        let secret: Substring
        if let colon = userinfo.firstIndex(of: ":") { secret = userinfo[userinfo.index(after: colon)...] }
        else if lowerScheme == "http" || lowerScheme == "https" { secret = userinfo }
        else { return [] }
        guard !secret.isEmpty else { return [] }
        var out = [String(secret)]
        if let decoded = String(secret).removingPercentEncoding, decoded != String(secret) { out.append(decoded) }
        return out
    }
}

/// Source excerpts of diagnostics never show a secret: the value of a secret-named key (`password: ***`,
/// `debug: {token: ***}`), and a `passwordEnv` value that is not a variable name (likely the password).
public enum SecretExcerpt {
    /// `^[A-Za-z_][A-Za-z0-9_]*$`: what bash can export.
    public static func isVariableName(_ s: some StringProtocol) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    private static let keyPattern = try! NSRegularExpression(pattern: #"(["']?)([A-Za-z0-9_.\-]+)\1[ \t]*:(?=[ \t]|$)"#)

    /// `line` with the value of each secret key replaced by `***`.
    public static func masked(_ line: String) -> String {
        let chars = Array(line.utf16)
        var cuts: [Range<Int>] = []
        for match in keyPattern.matches(in: line, range: NSRange(location: 0, length: chars.count)) {
            let keyRange = match.range(at: 2)
            let key = String(utf16CodeUnits: Array(chars[keyRange.location..<NSMaxRange(keyRange)]), count: keyRange.length)
            var start = NSMaxRange(match.range)
            while start < chars.count && (chars[start] == 32 || chars[start] == 9) { start += 1 }
            guard start < chars.count, cuts.allSatisfy({ !$0.contains(start) }) else { continue }
            let inFlow = flowDepth(chars[..<match.range.location]) > 0
            let end = valueEnd(chars, from: start, inFlow: inFlow)
            let value = String(utf16CodeUnits: Array(chars[start..<end]), count: end - start)
            let secret = SecretWords.names(key)
                || (key == "passwordEnv" && !isVariableName(value.trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))))
            if secret && end > start { cuts.append(start..<end) }
        }
        cuts += urlCredentialCuts(line).filter { c in !cuts.contains { $0.overlaps(c) } }
        guard !cuts.isEmpty else { return line }
        var out = chars
        for cut in cuts.sorted(by: { $0.lowerBound > $1.lowerBound }) { out.replaceSubrange(cut, with: Array(SecretRedactor.mask.utf16)) }
        return String(utf16CodeUnits: out, count: out.count)
    }

    private static let userinfoPattern = try! NSRegularExpression(pattern: #"([A-Za-z][A-Za-z0-9+.\-]{0,31})://([^\s@'"]{0,512})@"#)
    private static let settingPattern = try! NSRegularExpression(pattern: ##"[?&;,]([A-Za-z0-9_.\-]{1,64})=([^&\s,:'"#]{0,4096})"##)
    /// Query and connection-string keys whose values are signatures or keys (besides the secret words).
    public static let signedSettings: Set<String> = ["sig", "signature", "xamzsignature", "xamzcredential", "xgoogsignature", "sas", "sasurl", "key"]

    /// Where a URL written in the line holds a credential: the password of its user info (all of it but
    /// for ssh-like schemes, where a bare name is a user), and the values of secret settings in its query
    /// or in an rclone connection string (`:s3,secret_access_key=…:bucket`).
    /// (Bounded patterns: a megabyte-long line costs a linear scan.)
    static func urlCredentialCuts(_ line: String) -> [Range<Int>] {
        guard line.contains("://") || line.contains("=") else { return [] }
        let range = NSRange(location: 0, length: (line as NSString).length)
        let ns = line as NSString
        var cuts: [Range<Int>] = []
        for m in userinfoPattern.matches(in: line, range: range) {
            let scheme = ns.substring(with: m.range(at: 1)).lowercased()
            let info = m.range(at: 2)
            let text = ns.substring(with: info)
            guard info.length > 0 else { continue }
            if let colon = text.firstIndex(of: ":") {
                let offset = text.utf16.distance(from: text.startIndex, to: colon) + 1
                if offset < info.length { cuts.append(info.location + offset..<NSMaxRange(info)) }
            } else if !text.contains("/") && !["ssh", "sftp", "git", "git+ssh", "ssh+git"].contains(scheme) {
                cuts.append(info.location..<NSMaxRange(info))
            }
        }
        for m in settingPattern.matches(in: line, range: range) where m.range(at: 2).length > 0 {
            let key = ns.substring(with: m.range(at: 1))
            if SecretWords.names(key) || signedSettings.contains(SecretWords.folded(key)) {
                cuts.append(m.range(at: 2).location..<NSMaxRange(m.range(at: 2)))
            }
        }
        return cuts
    }

    /// How many flow collections are open at the end of `prefix` (quotes not followed: an excerpt is one line).
    private static func flowDepth(_ prefix: ArraySlice<UInt16>) -> Int {
        var depth = 0
        for c in prefix {
            if c == 123 || c == 91 { depth += 1 } else if (c == 125 || c == 93) && depth > 0 { depth -= 1 }
        }
        return depth
    }

    /// Where a value that starts at `start` ends: its closing quote or bracket; in a flow collection the next
    /// `,` `}` `]` at its own level; otherwise the end of the line.
    private static func valueEnd(_ chars: [UInt16], from start: Int, inFlow: Bool) -> Int {
        let first = chars[start]
        if first == 34 || first == 39 {  // quoted: through the closing quote
            var i = start + 1
            while i < chars.count && chars[i] != first { i += chars[i] == 92 && first == 34 ? 2 : 1 }
            return min(i + 1, chars.count)
        }
        var depth = 0, i = start
        while i < chars.count {
            let c = chars[i]
            if c == 123 || c == 91 { depth += 1 }
            else if c == 125 || c == 93 {
                if depth == 0 { return i }
                depth -= 1
                if depth == 0 && !inFlow { return i + 1 }
            } else if c == 44 && depth == 0 && inFlow { return i }
            i += 1
        }
        var end = chars.count
        while end > start && (chars[end - 1] == 32 || chars[end - 1] == 9) { end -= 1 }
        return end
    }
}

extension SecretRedactor {
    /// A YAML tree with every key and scalar redacted: a changed scalar is re-styled (`***` written plain
    /// would read back as an alias), so what hone emits stays valid YAML. Redact trees before emitting
    /// them; redacting emitted text could turn a whole plain scalar into an alias.
    public func redact(_ node: Node) -> Node {
        guard !needles.isEmpty else { return node }
        var out = node
        switch node.content {
        case .scalar(let text, _):
            let masked = redact(text)
            if masked != text { out.content = Node.text(masked).content }
        case .sequence(let items): out.content = .sequence(items.map(redact))
        case .mapping(let pairs): out.content = .mapping(pairs.map { Pair(key: redact($0.key), value: redact($0.value)) })
        }
        return out
    }
}
