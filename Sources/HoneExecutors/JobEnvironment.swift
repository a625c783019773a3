import HoneModel

/// What a job's processes inherit of the environment hone runs in (specs/secrets.md, "What jobs see"):
/// everything except the reconciler's credentials. Dropped: git and CI credentials and their plumbing
/// (`SecretRedactor.isCredentialVariable`: HONE_REMOTE_URL, GITHUB_TOKEN, SSH_AUTH_SOCK, GIT_CONFIG_*…), every
/// debug password variable (`withheldNames`: the `passwordEnv` of every eval, HONE_DEBUG_PASSWORD) and any
/// variable whose value holds a secret hone knows (`withheldValues`: a copy of the push token under another
/// name). A job's own `secretEnvironment` (its eval's debug password) is added back by the executor.
public struct JobEnvironmentPolicy: Sendable, Equatable {
    public var withheldNames: Set<String>
    public var withheldValues: [String]

    public init(withheldNames: Set<String> = [SecretRedactor.defaultPasswordVariable], withheldValues: [String] = []) {
        self.withheldNames = withheldNames.union([SecretRedactor.defaultPasswordVariable])
        self.withheldValues = withheldValues.filter { $0.utf8.count >= SecretRedactor.minimumLength }
    }

    public func allows(_ name: String, value: String) -> Bool {
        !SecretRedactor.isCredentialVariable(name) && !withheldNames.contains(name)
            && !withheldValues.contains { value.contains($0) }
    }

    /// `base` filtered by the policy, then the job's own secrets.
    public func environment(from base: [String: String], secrets: [String: String]) -> [String: String] {
        var out = base.filter { allows($0.key, value: $0.value) }
        for (k, v) in secrets { out[k] = v }
        return out
    }
}
