internal import CGit2

/// The one error type of the Git module: a failed libgit2 call, with the function that failed.
public struct GitError: Error, CustomStringConvertible, Sendable {
    /// The libgit2 return code (`GIT_ENOTFOUND` is -3, `GIT_EMODIFIED` -15, …).
    public let code: Int32
    /// The libgit2 error class (`GIT_ERROR_REFERENCE` is 4, …); 0 when libgit2 set none.
    public let errorClass: Int32
    public let message: String
    /// The libgit2 function (or the binding's operation) that failed, such as `git_commit_create`.
    public let function: String

    public init(code: Int32, errorClass: Int32, message: String, function: String) {
        self.code = code
        self.errorClass = errorClass
        self.message = message
        self.function = function
    }

    public var description: String {
        "\(function) failed (\(code), class \(errorClass)): \(message)"
    }

    /// A compare-and-swap lost: the ref's tip was not the expected one (`GIT_EMODIFIED`, -15), a ref that had
    /// to be absent exists (`GIT_EEXISTS`, -4), or another writer held the ref's lock file at that instant
    /// (`GIT_ELOCKED`, -14). In every case: re-read the tip and retry.
    public var isConflict: Bool { code == -15 || code == -4 || code == -14 }
    /// A lock file (`<ref>.lock`, `index.lock`) was held by another writer (`GIT_ELOCKED`).
    public var isLocked: Bool { code == -14 }
    /// A push was rejected because it would not fast-forward the remote ref (`GIT_ENONFASTFORWARD`).
    public var isNonFastForward: Bool { code == -11 }
    /// Why a push was refused, when a fetch and a retry can get past it: the one classification of push
    /// rejections (`Repository.push` turns what the remote reports into these codes).
    public enum PushRefusal: Sendable, Equatable {
        /// The remote ref moved: it would not fast-forward (`GIT_ENONFASTFORWARD`).
        case nonFastForward
        /// Another push held the remote ref's lock at that instant (`GIT_ELOCKED`).
        case remoteBusy
    }

    /// Set on errors of `Repository.push` that a fetch and a retry can get past (read it on those only).
    public var pushRefusal: PushRefusal? {
        switch code {
        case -11: return .nonFastForward
        case -14: return .remoteBusy
        default: return nil
        }
    }
    /// The object, ref, path or remote does not exist (`GIT_ENOTFOUND`).
    public var isNotFound: Bool { code == -3 }
}

/// libgit2 is initialised once, lazily, by the first repository operation (a global `let` runs once,
/// thread-safely). Owner validation is switched off so checkouts owned by another uid (CI) open.
private let libgit2Ready: Bool = {
    git_libgit2_init()
    _ = hone_git_disable_owner_validation()
    // Keep parsed trees up to 4 MB (~100,000 entries) in the object cache: libgit2's 4 KB default means a
    // folder of 10,000 status files is re-read and re-parsed on every lookup of a path inside it.
    _ = hone_git_set_cache_object_limit(GIT_OBJECT_TREE, 4 << 20)
    // Objects are not re-hashed on every read, as git does not (libgit2's default does): `git fsck`
    // is the integrity check, and hashing every blob was a tenth of loading 10,000 files.
    _ = hone_git_set_strict_hash_verification(0)
    return true
}()

@inline(__always)
func ensureLibgit2() {
    _ = libgit2Ready
}

/// The single checking helper: every libgit2 call goes through it. A negative return code becomes a
/// `GitError` built from `git_error_last()` right away (libgit2 errors are thread-local).
func check(_ rc: Int32, _ function: String) throws {
    if rc >= 0 { return }
    throw lastError(rc, function)
}

/// The error libgit2 recorded for the call that just returned `rc`.
func lastError(_ rc: Int32, _ function: String) -> GitError {
    if let e = git_error_last() {
        let message = e.pointee.message.map { String(cString: $0) } ?? "unknown error"
        return GitError(code: rc, errorClass: e.pointee.klass, message: message, function: function)
    }
    return GitError(code: rc, errorClass: 0, message: "unknown error", function: function)
}
