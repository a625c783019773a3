import Foundation
internal import CGit2

/// A git repository opened through libgit2. One handle per task: not Sendable.
public final class Repository {
    let handle: OpaquePointer

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        git_repository_free(handle)
    }

    /// Opens the repository at `path` — a work-tree root (or any folder inside it), a `.git` folder or a
    /// bare repository — searching upward from `path`.
    public static func open(_ path: String) throws -> Repository {
        ensureLibgit2()
        var repo: OpaquePointer?
        try check(git_repository_open_ext(&repo, path, 0, nil), "git_repository_open_ext")
        return Repository(handle: repo!)
    }

    /// Creates a repository (and missing parent folders) whose HEAD names `initialBranch`.
    public static func create(at path: String, bare: Bool = false, initialBranch: String = "main") throws -> Repository {
        ensureLibgit2()
        var opts = git_repository_init_options()
        try check(git_repository_init_options_init(&opts, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)),
                  "git_repository_init_options_init")
        opts.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | (bare ? GIT_REPOSITORY_INIT_BARE.rawValue : 0)
        var repo: OpaquePointer?
        try initialBranch.withCString { head in
            opts.initial_head = head
            try check(git_repository_init_ext(&repo, path, &opts), "git_repository_init_ext")
        }
        return Repository(handle: repo!)
    }

    /// The work tree's absolute path without a trailing slash; nil for a bare repository.
    public var workdir: String? {
        guard let p = git_repository_workdir(handle) else { return nil }
        return trimmingTrailingSlash(String(cString: p))
    }

    /// The git folder (`.git`, or the bare repository itself), absolute, without a trailing slash.
    public var gitDir: String {
        trimmingTrailingSlash(String(cString: git_repository_path(handle)))
    }

    public var isBare: Bool { git_repository_is_bare(handle) == 1 }

    // MARK: refs and revisions

    /// Resolves a revision (`HEAD`, `main`, `origin/main`, `HEAD~1`, a full or short sha, a tag) to a commit id.
    public func resolve(_ spec: String) throws -> ObjectID {
        var obj: OpaquePointer?
        try check(git_revparse_single(&obj, handle, spec), "git_revparse_single")
        defer { git_object_free(obj) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, obj, GIT_OBJECT_COMMIT), "git_object_peel")
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit))
    }

    /// The commit HEAD points at; nil on an unborn branch.
    public func headCommit() throws -> ObjectID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, handle, "HEAD")
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check(rc, "git_reference_name_to_id")
        return ObjectID(oid)
    }

    /// The branch HEAD names (`main`), also on an unborn branch; nil when HEAD is detached.
    public func currentBranch() throws -> String? {
        var ref: OpaquePointer?
        try check(git_reference_lookup(&ref, handle, "HEAD"), "git_reference_lookup")
        defer { git_reference_free(ref) }
        guard git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC, let target = git_reference_symbolic_target(ref) else {
            return nil
        }
        let name = String(cString: target)
        let prefix = "refs/heads/"
        return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
    }

    /// The id a ref points at (resolving symbolic refs); nil when the ref does not exist.
    /// `name` is a full ref name (`refs/heads/main`) or `HEAD`.
    public func referenceTarget(_ name: String) throws -> ObjectID? {
        var oid = git_oid()
        let rc = git_reference_name_to_id(&oid, handle, Repository.fullRefName(name))
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check(rc, "git_reference_name_to_id")
        return ObjectID(oid)
    }

    /// Atomically points `ref` at `new` if it currently points at `expected` (`expected` nil: the ref must not
    /// exist). A lost race throws a `GitError` with `isConflict`. `ref` is a full name (`refs/heads/x`);
    /// a name without `refs/` is taken as a branch.
    public func compareAndSwap(ref: String, to new: ObjectID, expected: ObjectID?) throws {
        let name = Repository.fullRefName(ref)
        var target = new.oid
        var out: OpaquePointer?
        let message = "hone: update \(name)"
        if var old = expected?.oid {
            try check(git_reference_create_matching(&out, handle, name, &target, 1, &old, message),
                      "git_reference_create_matching")
        } else {
            try check(git_reference_create(&out, handle, name, &target, 0, message), "git_reference_create")
        }
        git_reference_free(out)
    }

    /// The best common ancestor of two commits (`git merge-base`); nil when they share no history.
    public func mergeBase(_ a: ObjectID, _ b: ObjectID) throws -> ObjectID? {
        var out = git_oid()
        var x = a.oid, y = b.oid
        let rc = git_merge_base(&out, handle, &x, &y)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "git_merge_base")
        return ObjectID(out)
    }

    /// The full names of the refs matching a glob (`refs/heads/*`, `refs/remotes/*/*`), sorted.
    public func references(matching glob: String) throws -> [String] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_glob_new(&iterator, handle, glob), "git_reference_iterator_glob_new")
        defer { git_reference_iterator_free(iterator) }
        var names: [String] = []
        var name: UnsafePointer<CChar>?
        while true {
            let rc = git_reference_next_name(&name, iterator)
            if rc == GIT_ITEROVER.rawValue { break }
            try check(rc, "git_reference_next_name")
            if let name { names.append(String(cString: name)) }
        }
        return names.sorted()
    }

    static func fullRefName(_ ref: String) -> String {
        if ref.hasPrefix("refs/") || ref == "HEAD" { return ref }
        return "refs/heads/" + ref
    }

    // MARK: configuration and identity

    /// `user.name`/`user.email` from the configuration (now), or `hone <hone@localhost>`.
    public func defaultSignature() -> Signature {
        var sig: UnsafeMutablePointer<git_signature>?
        if git_signature_default(&sig, handle) == 0, let sig {
            defer { git_signature_free(sig) }
            return Signature(name: Signature(sig).name, email: Signature(sig).email, time: Date())
        }
        return Signature(name: "hone", email: "hone@localhost", time: Date())
    }

    /// A configuration value (`user.name`, `remote.origin.url`, …) as a string; nil when unset.
    public func config(_ key: String) -> String? {
        var cfg: OpaquePointer?
        guard git_repository_config_snapshot(&cfg, handle) == 0 else { return nil }
        defer { git_config_free(cfg) }
        var value: UnsafePointer<CChar>?
        guard git_config_get_string(&value, cfg, key) == 0, let value else { return nil }
        return String(cString: value)
    }
}

extension Repository {
    /// Removes `<git folder>/<name>.lock` (`refs/heads/main`, `index`) when it is older than `age` seconds. A
    /// lock that libgit2 or git takes lives for milliseconds, so an old one was left by a process killed while
    /// writing (kill -9), and every later write of that ref or of the index would fail on it for good.
    /// Returns whether one was removed.
    public func removeStaleLock(_ name: String, olderThan age: TimeInterval) -> Bool {
        let path = gitDir + "/" + name + ".lock"
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return false }
        let modified = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        guard Date().timeIntervalSince1970 - modified > age else { return false }
        return unlink(path) == 0
    }
}
