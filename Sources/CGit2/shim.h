#ifndef HONE_CGIT2_SHIM_H
#define HONE_CGIT2_SHIM_H
#include <git2.h>
/* The in-memory object store: big commits are written as one packfile instead of thousands of loose objects. */
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

/* git_libgit2_opts is variadic and so not callable from Swift: wrap the options hone needs. */
static inline int hone_git_disable_owner_validation(void) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}
static inline int hone_git_set_cache_max_size(size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)bytes);
}
/* libgit2 caches no tree over 4 KB by default: raise the limit for one object type. */
static inline int hone_git_set_cache_object_limit(git_object_t type, size_t bytes) {
    return git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, type, bytes);
}
/* Like git itself, do not re-hash every object read (git fsck checks them): a tenth of reading 10,000 specs. */
static inline int hone_git_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}
#endif
