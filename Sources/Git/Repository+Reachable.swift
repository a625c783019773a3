import Foundation
internal import CGit2

extension Repository {
    /// The commits every reference points at (branches, remote-tracking branches, tags peeled to their
    /// commit) and HEAD, each once. References to something that is not a commit are skipped.
    public func referencedCommits() throws -> [ObjectID] {
        var iterator: OpaquePointer?
        try check(git_reference_iterator_new(&iterator, handle), "git_reference_iterator_new")
        defer { git_reference_iterator_free(iterator) }
        var seen: Set<ObjectID> = []
        var out: [ObjectID] = []
        func add(_ ref: OpaquePointer?) {
            var commit: OpaquePointer?
            guard git_reference_peel(&commit, ref, GIT_OBJECT_COMMIT) == 0 else { return }
            defer { git_object_free(commit) }
            let id = ObjectID(git_object_id(commit))
            if seen.insert(id).inserted { out.append(id) }
        }
        while true {
            var ref: OpaquePointer?
            let rc = git_reference_next(&ref, iterator)
            if rc == GIT_ITEROVER.rawValue { break }
            try check(rc, "git_reference_next")
            defer { git_reference_free(ref) }
            add(ref)
        }
        if let head = try headCommit(), seen.insert(head).inserted { out.append(head) }
        return out
    }

    /// Every blob under the folders `prefixes` in any commit reachable from `tips`, each once. A folder
    /// tree that many commits share is read once (hone's commits change a few files each), so the cost
    /// follows what changed, not commits × files. Parents missing from the object database (a shallow
    /// clone's edge) end the walk there.
    public func reachableBlobs(under prefixes: [String], from tips: [ObjectID]) throws -> Set<ObjectID> {
        var commits: Set<ObjectID> = []
        var trees: Set<ObjectID> = []
        var blobs: Set<ObjectID> = []
        var stack = tips
        let paths = prefixes.map(normalizedPath)
        while let id = stack.popLast() {
            guard commits.insert(id).inserted else { continue }
            var oid = id.oid
            var commit: OpaquePointer?
            let rc = git_commit_lookup(&commit, handle, &oid)
            if rc == GIT_ENOTFOUND.rawValue { continue }
            try check(rc, "git_commit_lookup")
            defer { git_commit_free(commit) }
            for i in 0..<git_commit_parentcount(commit) {
                if let p = git_commit_parent_id(commit, i) { stack.append(ObjectID(p)) }
            }
            var root: OpaquePointer?
            try check(git_commit_tree(&root, commit), "git_commit_tree")
            defer { git_tree_free(root) }
            for path in paths {
                var entry: OpaquePointer?
                guard git_tree_entry_bypath(&entry, root, path) == 0 else { continue }
                defer { git_tree_entry_free(entry) }
                let target = ObjectID(git_tree_entry_id(entry))
                switch git_tree_entry_type(entry) {
                case GIT_OBJECT_BLOB: blobs.insert(target)
                case GIT_OBJECT_TREE: try collectBlobs(tree: target, trees: &trees, blobs: &blobs)
                default: break
                }
            }
        }
        return blobs
    }

    /// The blobs of `tree` and of its sub-folders not in `trees` yet (which it extends).
    private func collectBlobs(tree id: ObjectID, trees: inout Set<ObjectID>, blobs: inout Set<ObjectID>) throws {
        var pending = [id]
        while let next = pending.popLast() {
            guard trees.insert(next).inserted else { continue }
            var oid = next.oid
            var tree: OpaquePointer?
            try check(git_tree_lookup(&tree, handle, &oid), "git_tree_lookup")
            defer { git_tree_free(tree) }
            for i in 0..<git_tree_entrycount(tree) {
                guard let entry = git_tree_entry_byindex(tree, i) else { continue }
                let target = ObjectID(git_tree_entry_id(entry))
                switch git_tree_entry_type(entry) {
                case GIT_OBJECT_BLOB: blobs.insert(target)
                case GIT_OBJECT_TREE: pending.append(target)
                default: break
                }
            }
        }
    }
}
