import Foundation
internal import CGit2

extension Repository {
    public func commit(_ id: ObjectID) throws -> CommitInfo {
        let commit = try lookupCommit(id)
        defer { git_commit_free(commit) }
        return commitInfo(commit)
    }

    /// Every blob of the commit's tree, recursively, in git order (like `git ls-tree -r`).
    public func tree(of commit: ObjectID) throws -> [TreeEntry] {
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        return try walk(tree, prefix: "")
    }

    /// The blobs under the folder `prefix` (paths stay relative to the repository root); empty when the
    /// folder is absent; the one entry when `prefix` names a file.
    public func tree(of commit: ObjectID, under prefix: String) throws -> [TreeEntry] {
        let prefix = normalizedPath(prefix)
        let root = try lookupTree(ofCommit: commit)
        defer { git_tree_free(root) }
        if prefix.isEmpty { return try walk(root, prefix: "") }
        var entry: OpaquePointer?
        let rc = git_tree_entry_bypath(&entry, root, prefix)
        if rc == GIT_ENOTFOUND.rawValue { return [] }
        try check(rc, "git_tree_entry_bypath")
        defer { git_tree_entry_free(entry) }
        switch git_tree_entry_type(entry) {
        case GIT_OBJECT_TREE:
            var sub: OpaquePointer?
            try check(git_tree_lookup(&sub, handle, git_tree_entry_id(entry)), "git_tree_lookup")
            defer { git_tree_free(sub) }
            return try walk(sub, prefix: prefix + "/")
        case GIT_OBJECT_BLOB:
            return [TreeEntry(path: prefix, blob: ObjectID(git_tree_entry_id(entry)),
                              executable: git_tree_entry_filemode(entry) == GIT_FILEMODE_BLOB_EXECUTABLE,
                              symbolicLink: git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK)]
        default:
            return []
        }
    }

    /// The content of the file at `path` in the commit; nil when there is no such file.
    public func blob(at path: String, in commit: ObjectID) throws -> Data? {
        guard let id = try blobID(at: path, in: commit) else { return nil }
        return try readBlob(id)
    }

    /// The blob id of the file at `path` in the commit; nil when there is no such file.
    public func blobID(at path: String, in commit: ObjectID) throws -> ObjectID? {
        let root = try lookupTree(ofCommit: commit)
        defer { git_tree_free(root) }
        var entry: OpaquePointer?
        let rc = git_tree_entry_bypath(&entry, root, normalizedPath(path))
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "git_tree_entry_bypath")
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
        return ObjectID(git_tree_entry_id(entry))
    }

    public func readBlob(_ id: ObjectID) throws -> Data {
        var oid = id.oid
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, handle, &oid), "git_blob_lookup")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let bytes = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: bytes, count: size)
    }

    /// A blob's bytes as an array (one copy, straight from libgit2's buffer).
    public func readBlobBytes(_ id: ObjectID) throws -> [UInt8] {
        var oid = id.oid
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, handle, &oid), "git_blob_lookup")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let bytes = git_blob_rawcontent(blob) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: size))
    }

    /// The id `data` would have as a blob; writes nothing.
    public func hashBlob(_ data: Data) throws -> ObjectID {
        var oid = git_oid()
        try data.withUnsafeBytes { raw in
            try check(git_odb_hash(&oid, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, raw.count, GIT_OBJECT_BLOB),
                      "git_odb_hash")
        }
        return ObjectID(oid)
    }

    // MARK: internals

    func lookupCommit(_ id: ObjectID) throws -> OpaquePointer {
        var oid = id.oid
        var commit: OpaquePointer?
        try check(git_commit_lookup(&commit, handle, &oid), "git_commit_lookup")
        return commit!
    }

    func lookupTree(ofCommit id: ObjectID) throws -> OpaquePointer {
        let commit = try lookupCommit(id)
        defer { git_commit_free(commit) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit), "git_commit_tree")
        return tree!
    }

    func commitInfo(_ commit: OpaquePointer) -> CommitInfo {
        let count = git_commit_parentcount(commit)
        var parents: [ObjectID] = []
        parents.reserveCapacity(Int(count))
        for i in 0..<count {
            if let p = git_commit_parent_id(commit, i) { parents.append(ObjectID(p)) }
        }
        return CommitInfo(
            id: ObjectID(git_commit_id(commit)),
            tree: ObjectID(git_commit_tree_id(commit)),
            parents: parents,
            author: Signature(git_commit_author(commit)),
            committer: Signature(git_commit_committer(commit)),
            message: git_commit_message(commit).map { String(cString: $0) } ?? "")
    }

    /// Pre-order walk of `tree`, collecting blobs; `prefix` is prepended to every path.
    private func walk(_ tree: OpaquePointer?, prefix: String) throws -> [TreeEntry] {
        final class Collector {
            var entries: [TreeEntry] = []
            let prefix: String
            /// The folder of the previous entry (entries of one folder come together in a pre-order walk);
            /// libgit2 reuses one buffer for `root`, so it is compared by content.
            var lastRoot: [CChar] = [0]
            var lastRootText: String
            init(prefix: String) { self.prefix = prefix; lastRootText = prefix }
        }
        let collector = Collector(prefix: prefix)
        let callback: git_treewalk_cb = { root, entry, payload in
            guard let entry, let payload else { return 0 }
            let type = git_tree_entry_type(entry)
            guard type == GIT_OBJECT_BLOB else { return 0 }
            let c = Unmanaged<Collector>.fromOpaque(payload).takeUnretainedValue()
            let same = root.map { r in c.lastRoot.withUnsafeBufferPointer { strcmp($0.baseAddress!, r) == 0 } } ?? (c.lastRoot == [0])
            if !same {
                c.lastRoot = root.map { Array(UnsafeBufferPointer(start: $0, count: strlen($0) + 1)) } ?? [0]
                c.lastRootText = c.prefix + (root.map { String(cString: $0) } ?? "")
            }
            let name = String(cString: git_tree_entry_name(entry))
            c.entries.append(TreeEntry(
                path: c.lastRootText + name,
                blob: ObjectID(git_tree_entry_id(entry)),
                executable: git_tree_entry_filemode(entry) == GIT_FILEMODE_BLOB_EXECUTABLE,
                symbolicLink: git_tree_entry_filemode(entry) == GIT_FILEMODE_LINK))
            return 0
        }
        try withExtendedLifetime(collector) {
            try check(git_tree_walk(tree, GIT_TREEWALK_PRE, callback, Unmanaged.passUnretained(collector).toOpaque()),
                      "git_tree_walk")
        }
        return collector.entries
    }
}
