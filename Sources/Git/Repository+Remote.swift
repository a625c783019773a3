import Foundation
internal import CGit2

/// State shared with the C callbacks of one fetch or push (passed as their payload).
private final class RemoteCallbacks {
    var credentialAttempts = 0
    var rejected: [(ref: String, status: String)] = []
}

/// Credentials: offer the SSH agent once for SSH remotes; otherwise let libgit2 fail with its own error.
private let credentialCallback: git_credential_acquire_cb = { out, _, usernameFromURL, allowed, payload in
    guard let payload else { return GIT_PASSTHROUGH.rawValue }
    let state = Unmanaged<RemoteCallbacks>.fromOpaque(payload).takeUnretainedValue()
    state.credentialAttempts += 1
    guard state.credentialAttempts == 1, allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 else {
        return GIT_PASSTHROUGH.rawValue
    }
    if let usernameFromURL { return git_credential_ssh_key_from_agent(out, usernameFromURL) }
    return git_credential_ssh_key_from_agent(out, "git")
}

/// A rejected ref is reported only here (`git_remote_push` itself succeeds): record it.
private let pushUpdateReferenceCallback: git_push_update_reference_cb = { refname, status, payload in
    guard let status, let payload else { return 0 }
    let state = Unmanaged<RemoteCallbacks>.fromOpaque(payload).takeUnretainedValue()
    state.rejected.append((refname.map { String(cString: $0) } ?? "?", String(cString: status)))
    return 0
}

extension Repository {
    /// Fetches `remote` with its configured refspecs (updating `refs/remotes/<remote>/*`).
    public func fetch(remote name: String) throws {
        let remote = try lookupRemote(name)
        defer { git_remote_free(remote) }
        let state = RemoteCallbacks()
        var opts = git_fetch_options()
        try check(git_fetch_options_init(&opts, UInt32(GIT_FETCH_OPTIONS_VERSION)), "git_fetch_options_init")
        opts.callbacks.credentials = credentialCallback
        opts.callbacks.payload = Unmanaged.passUnretained(state).toOpaque()
        try withExtendedLifetime(state) {
            try check(git_remote_fetch(remote, nil, &opts, nil), "git_remote_fetch")
        }
    }

    /// Pushes `refspecs` (`refs/heads/main:refs/heads/main`, `+refs/…` to force) to `remote`. A ref the remote
    /// rejects throws: `isNonFastForward` (code -11) when it would not fast-forward, as libgit2 finds
    /// before sending or as the remote reports.
    public func push(remote name: String, refspecs: [String]) throws {
        do {
            if let path = try localRemotePath(name), refspecs.allSatisfy({ !$0.hasPrefix("+") && $0.contains(":") }) {
                return try pushCompareAndSwap(toLocal: path, remote: name, refspecs: refspecs)
            }
            try pushWithLibgit2(remote: name, refspecs: refspecs)
        } catch let e as GitError where e.pushRefusal == nil && Self.rejectionCode(e.message) != GIT_ERROR.rawValue {
            // Whatever step of the push said it (a ref lock held, the remote moved): classified here, once.
            throw GitError(code: Self.rejectionCode(e.message), errorClass: e.errorClass, message: e.message, function: e.function)
        }
    }

    private func pushWithLibgit2(remote name: String, refspecs: [String]) throws {
        let remote = try lookupRemote(name)
        defer { git_remote_free(remote) }
        let state = RemoteCallbacks()
        var opts = git_push_options()
        try check(git_push_options_init(&opts, UInt32(GIT_PUSH_OPTIONS_VERSION)), "git_push_options_init")
        opts.callbacks.credentials = credentialCallback
        opts.callbacks.push_update_reference = pushUpdateReferenceCallback
        opts.callbacks.payload = Unmanaged.passUnretained(state).toOpaque()
        do {
            try withExtendedLifetime(state) {
                try withStrarray(refspecs) { specs in
                    try check(git_remote_push(remote, specs, &opts), "git_remote_push")
                }
            }
        } catch let e as GitError where e.code != GIT_ELOCKED.rawValue && Self.isLockFailure(e.message) {
            // libgit2's local transport reports the remote's held ref lock as a plain error.
            throw GitError(code: GIT_ELOCKED.rawValue, errorClass: e.errorClass, message: e.message, function: e.function)
        }
        if let first = state.rejected.first {
            let text = state.rejected.map { "\($0.ref) rejected: \($0.status)" }.joined(separator: "; ")
            throw GitError(code: Self.rejectionCode(first.status), errorClass: Int32(GIT_ERROR_REFERENCE.rawValue),
                           message: text, function: "git_remote_push")
        }
    }

    /// A remote reports a rejected ref as text only (git's receive-pack statuses): the one place it is read,
    /// into the codes `GitError.pushRefusal` classifies.
    static func rejectionCode(_ status: String) -> Int32 {
        let lower = status.lowercased()
        if lower.contains("non-fast-forward") || lower.contains("nonfastforward") || lower.contains("fetch first")
            || lower.contains("stale info") { return GIT_ENONFASTFORWARD.rawValue }
        if isLockFailure(lower) { return GIT_ELOCKED.rawValue }
        return GIT_ERROR.rawValue
    }

    static func isLockFailure(_ message: String) -> Bool {
        let lower = message.lowercased()
        return lower.contains("failed to lock") || lower.contains("cannot lock ref")
    }

    /// libgit2's local transport sets the remote's refs without checking what they point at, so two pushes
    /// at once to a repository on disk could overwrite each other (a git server checks under its ref lock).
    /// For such remotes the objects go under a private ref first; then the branch moves by compare-and-swap
    /// in the remote repository, from the tip it was found at, only when that is a fast-forward.
    private func pushCompareAndSwap(toLocal path: String, remote name: String, refspecs: [String]) throws {
        for spec in refspecs {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let new = try referenceTarget(parts[0]) else { throw GitError(code: GIT_ENOTFOUND.rawValue, errorClass: 0, message: "nothing to push for \(spec)", function: "push") }
            let incoming = "refs/hone/incoming/\(UUID().uuidString)"
            try pushWithLibgit2(remote: name, refspecs: ["+\(parts[0]):\(incoming)"])
            let target = try Repository.open(path)
            defer {
                var ref: OpaquePointer?
                if git_reference_lookup(&ref, target.handle, incoming) == 0 { git_reference_delete(ref); git_reference_free(ref) }
            }
            let current = try target.referenceTarget(parts[1])
            if let current, current != new {
                var n = new.oid, c = current.oid
                guard git_graph_descendant_of(target.handle, &n, &c) == 1 else { throw Self.nonFastForward(parts[1]) }
            }
            if current != new {
                do { try target.compareAndSwap(ref: parts[1], to: new, expected: current) }
                catch let e as GitError where e.isConflict || e.isNotFound || e.code == GIT_EEXISTS.rawValue { throw Self.nonFastForward(parts[1]) }
            }
            if parts[1].hasPrefix("refs/heads/") {
                try compareAndSwap(ref: "refs/remotes/\(name)/" + parts[1].dropFirst("refs/heads/".count), to: new,
                                   expected: try referenceTarget("refs/remotes/\(name)/" + parts[1].dropFirst("refs/heads/".count)))
            }
        }
    }

    private static func nonFastForward(_ ref: String) -> GitError {
        GitError(code: GIT_ENONFASTFORWARD.rawValue, errorClass: Int32(GIT_ERROR_REFERENCE.rawValue),
                 message: "\(ref) rejected: non-fast-forward (the remote moved)", function: "git_remote_push")
    }

    /// The folder of a remote whose URL is a path or `file://` URL (libgit2's local transport); nil otherwise.
    func localRemotePath(_ name: String) throws -> String? {
        guard let url = try remoteURL(name) else { return nil }
        let path: String
        if url.hasPrefix("file://") { path = String(url.dropFirst("file://".count)) }
        else if !url.contains("://"), !url.contains("@") || url.hasPrefix("/") || url.hasPrefix(".") { path = url }
        else { return nil }
        let absolute = path.hasPrefix("/") ? path : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: workdir ?? gitDir)).standardizedFileURL.path
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: absolute, isDirectory: &isDir) && isDir.boolValue ? absolute : nil
    }

    /// The fetch URL of `remote`; nil when there is no such remote.
    public func remoteURL(_ name: String) throws -> String? {
        var remote: OpaquePointer?
        let rc = git_remote_lookup(&remote, handle, name)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "git_remote_lookup")
        defer { git_remote_free(remote) }
        return git_remote_url(remote).map { String(cString: $0) }
    }

    private func lookupRemote(_ name: String) throws -> OpaquePointer {
        var remote: OpaquePointer?
        try check(git_remote_lookup(&remote, handle, name), "git_remote_lookup")
        return remote!
    }
}
