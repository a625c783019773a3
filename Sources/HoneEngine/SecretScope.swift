import Foundation
import Git
import HoneExecutors
import HoneModel

/// The secrets in scope where hone runs (specs/secrets.md): the redactor every committed or printed string
/// passes through, and what jobs are not given. Built from the environment and the repository's remote
/// URLs; the debug password variables the specs name are learnt at each load.
public struct SecretScope {
    public let environment: [String: String]
    public let remoteURLs: [String]
    public private(set) var passwordVariables: Set<String> = [SecretRedactor.defaultPasswordVariable]
    public private(set) var redactor: SecretRedactor
    /// What a job inherits of the environment hone runs in.
    public private(set) var jobPolicy = JobEnvironmentPolicy()

    public init(environment: [String: String], remoteURLs: [String] = []) {
        self.environment = environment
        self.remoteURLs = remoteURLs
        redactor = SecretRedactor()
        update()
    }

    /// The scope of `repository`: its remotes' URLs (`origin`, and `remotes`) carry credentials too.
    public init(environment: [String: String], repository: Repository?, remotes: [String?] = []) {
        let names = Set(["origin"] + remotes.compactMap { $0 })
        let urls = names.sorted().compactMap { try? repository?.remoteURL($0) }
        self.init(environment: environment, remoteURLs: urls)
    }

    /// Learns the `passwordEnv` names of the loaded evals.
    public mutating func learn(passwordVariables names: some Sequence<String>) {
        let before = passwordVariables.count
        passwordVariables.formUnion(names)
        if passwordVariables.count != before { update() }
    }

    private mutating func update() {
        redactor = SecretRedactor.forEnvironment(environment, passwordVariables: passwordVariables, remoteURLs: remoteURLs)
        // Withheld by value: the reconciler's credentials and every debug password (a handler's own token,
        // like HF_TOKEN, is redacted from what hone writes but still reaches the jobs).
        var values = remoteURLs.flatMap(SecretRedactor.credentials(inURL:))
        for (name, value) in environment where passwordVariables.contains(name) || SecretRedactor.credentialVariables.contains(name) {
            values += SecretRedactor.credentials(inURL: value)
            if !value.contains("://") { values.append(value) }
        }
        jobPolicy = JobEnvironmentPolicy(withheldNames: passwordVariables, withheldValues: values)
    }
}
