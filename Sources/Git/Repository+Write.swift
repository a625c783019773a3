import Foundation
internal import CGit2

extension Repository {
    /// Writes a commit whose tree is `parent`'s tree with `changes` applied, without touching the index or the
    /// work tree, and moves `refs/heads/<branch>` to it — only if the branch's tip is still `parent`
    /// (otherwise a `GitError` with `isConflict`, and the branch is unchanged). `parent` nil makes a root
    /// commit, allowed only while the branch does not exist. A message without a final newline gets one.
    public func writeCommit(branch: String, parent: ObjectID?, changes: [String: FileChange], message: String,
                            author: Signature, committer: Signature? = nil) throws -> ObjectID {
        try createCommit(updateRef: Repository.fullRefName(branch), parent: parent, changes: changes, message: message,
                         author: author, committer: committer)
    }

    /// Like `writeCommit`, but moves no ref: the caller publishes the commit (e.g. by compare-and-swap).
    public func writeCommitDetached(parent: ObjectID?, changes: [String: FileChange], message: String,
                                    author: Signature, committer: Signature? = nil) throws -> ObjectID {
        try createCommit(updateRef: nil, parent: parent, changes: changes, message: message, author: author, committer: committer)
    }

    /// From this many written files on, a commit's new objects go to disk as one packfile (built in memory)
    /// instead of one loose object each: creating 10,000 small files costs seconds; one pack, milliseconds.
    /// Below it, loose objects (a pack per small commit would pile up packs that every lookup searches).
    static let packThreshold = 64

    private func createCommit(updateRef: String?, parent: ObjectID?, changes: [String: FileChange], message: String,
                              author: Signature, committer: Signature?) throws -> ObjectID {
        let writes = changes.values.reduce(0) { n, c in if case .write = c { return n + 1 } else { return n } }
        let commitID: ObjectID
        if writes >= Repository.packThreshold {
            commitID = try withInMemoryObjects { target, mempack in
                // Blobs go straight into the memory store: git_odb_write would first look for each one on disk
                // (a stat, a utime and a rescan of objects/pack per blob). A blob that already exists on disk
                // is simply stored again in the new pack, which git allows.
                try buildCommit(in: target, parent: parent, changes: changes, message: message, author: author,
                                committer: committer) { bytes in
                    var id = git_oid()
                    try check(git_odb_hash(&id, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB), "git_odb_hash")
                    try check(mempack.pointee.write(mempack, &id, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB),
                              "git_mempack write")
                    return id
                }
            }
        } else {
            var odb: OpaquePointer?
            try check(git_repository_odb(&odb, handle), "git_repository_odb")
            defer { git_odb_free(odb) }
            commitID = try buildCommit(in: handle, parent: parent, changes: changes, message: message, author: author,
                                       committer: committer) { bytes in
                // Not git_blob_create_from_buffer: it streams every blob into a temporary file first and deletes
                // that file when the blob already exists (an empty log, an unchanged file). On ext4 without a
                // journal each deleted inode slows every later file creation for a while; git_odb_write looks
                // for the blob first and writes nothing when it is there.
                var id = git_oid()
                try check(git_odb_write(&id, odb, bytes.baseAddress, bytes.count, GIT_OBJECT_BLOB), "git_odb_write")
                return id
            }
        }
        if let updateRef {
            // The race guard: the ref moves only if its tip is still `parent` (absent for a root commit).
            let subject = message.prefix { $0 != "\n" }
            let log = (parent == nil ? "commit (initial): " : "commit: ") + subject
            var target = commitID.oid
            var out: OpaquePointer?
            // (A branch that does not exist yet is created, whatever the parent; it must still not exist then.)
            var current = git_oid()
            let rc = git_reference_name_to_id(&current, handle, updateRef)
            if rc == GIT_ENOTFOUND.rawValue {
                try check(git_reference_create(&out, handle, updateRef, &target, 0, log), "git_reference_create")
            } else {
                try check(rc, "git_reference_name_to_id")
                guard var old = parent?.oid, git_oid_equal(&current, &old) != 0 else {
                    throw GitError(code: GIT_EMODIFIED.rawValue, errorClass: Int32(GIT_ERROR_OBJECT.rawValue),
                                   message: "failed to create commit: current tip is not the first parent",
                                   function: "git_commit_create")
                }
                try check(git_reference_create_matching(&out, handle, updateRef, &target, 1, &old, log),
                          "git_reference_create_matching")
            }
            git_reference_free(out)
        }
        return commitID
    }

    /// Runs `body` against a second handle on this repository whose new objects stay in memory (libgit2's
    /// mempack backend, in front of the on-disk ones for reading), then writes them all as one packfile
    /// (with its index) into this repository's object store. Nothing is referenced before the pack is complete.
    private func withInMemoryObjects<T>(_ body: (OpaquePointer, UnsafeMutablePointer<git_odb_backend>) throws -> T) throws -> T {
        var odb: OpaquePointer?
        try check(git_odb_open(&odb, gitDir + "/objects"), "git_odb_open")
        defer { git_odb_free(odb) }
        var mempack: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&mempack), "git_mempack_new")
        // Highest priority: writes go to the first backend that can write. The odb owns it from here on.
        try check(git_odb_add_backend(odb, mempack, 1000), "git_odb_add_backend")
        var scratch: OpaquePointer?
        try check(git_repository_wrap_odb(&scratch, odb), "git_repository_wrap_odb")
        defer { git_repository_free(scratch) }

        let result = try body(scratch!, mempack!)

        var pack = git_buf()
        defer { git_buf_dispose(&pack) }
        try check(git_mempack_dump(&pack, scratch, mempack), "git_mempack_dump")
        var mainODB: OpaquePointer?
        try check(git_repository_odb(&mainODB, handle), "git_repository_odb")
        defer { git_odb_free(mainODB) }
        var writer: UnsafeMutablePointer<git_odb_writepack>?
        try check(git_odb_write_pack(&writer, mainODB, nil, nil), "git_odb_write_pack")
        defer { writer?.pointee.free(writer) }
        var progress = git_indexer_progress()
        try check(writer!.pointee.append(writer, pack.ptr, pack.size, &progress), "git_odb_writepack.append")
        try check(writer!.pointee.commit(writer, &progress), "git_odb_writepack.commit")
        // Let this handle see the new pack right away (lookups would also refresh on a miss).
        try check(git_odb_refresh(mainODB), "git_odb_refresh")
        return result
    }

    /// Writes the blobs, trees and commit object into `repo` (this repository, or its in-memory twin); moves no ref.
    private func buildCommit(in repo: OpaquePointer, parent: ObjectID?, changes: [String: FileChange], message: String,
                             author: Signature, committer: Signature?,
                             writeBlob: (UnsafeRawBufferPointer) throws -> git_oid) throws -> ObjectID {
        var index: OpaquePointer?
        try check(git_index_new(&index), "git_index_new")
        defer { git_index_free(index) }

        var parentCommit: OpaquePointer?
        defer { git_commit_free(parentCommit) }
        if let parent {
            var oid = parent.oid
            try check(git_commit_lookup(&parentCommit, repo, &oid), "git_commit_lookup")
            var parentTree: OpaquePointer?
            try check(git_commit_tree(&parentTree, parentCommit), "git_commit_tree")
            defer { git_tree_free(parentTree) }
            try check(git_index_read_tree(index, parentTree), "git_index_read_tree")
        }

        let sorted = changes.sorted(by: { $0.key < $1.key })
        // Deletions first, so a path can turn from a folder into a file (or back) in one commit.
        for (rawPath, change) in sorted where change == .delete {
            let path = normalizedPath(rawPath)
            let rc = git_index_remove(index, path, 0)
            if rc == GIT_ENOTFOUND.rawValue {
                try check(git_index_remove_directory(index, path, 0), "git_index_remove_directory")
            } else {
                try check(rc, "git_index_remove")
            }
        }
        for (rawPath, change) in sorted {
            guard case let .write(data, executable) = change else { continue }
            let path = normalizedPath(rawPath)
            let blobID = try data.withUnsafeBytes(writeBlob)
            var entry = git_index_entry()
            entry.mode = executable ? GIT_FILEMODE_BLOB_EXECUTABLE.rawValue : GIT_FILEMODE_BLOB.rawValue
            entry.id = blobID
            entry.file_size = UInt32(truncatingIfNeeded: data.count)
            try path.withCString { cPath in
                entry.path = cPath
                try check(git_index_add(index, &entry), "git_index_add")
            }
        }

        var treeID = git_oid()
        try check(git_index_write_tree_to(&treeID, index, repo), "git_index_write_tree_to")
        var tree: OpaquePointer?
        try check(git_tree_lookup(&tree, repo, &treeID), "git_tree_lookup")
        defer { git_tree_free(tree) }

        let authorSig = try makeSignature(author)
        defer { git_signature_free(authorSig) }
        let committerSig = try makeSignature(committer ?? author)
        defer { git_signature_free(committerSig) }

        let text = message.hasSuffix("\n") ? message : message + "\n"
        var commitID = git_oid()
        var parents: [OpaquePointer?] = parentCommit.map { [$0] } ?? []
        try parents.withUnsafeMutableBufferPointer { buf in
            try check(git_commit_create(&commitID, repo, nil, authorSig, committerSig,
                                        nil, text, tree, buf.count, buf.baseAddress),
                      "git_commit_create")
        }
        return ObjectID(commitID)
    }

    func makeSignature(_ s: Signature) throws -> UnsafeMutablePointer<git_signature> {
        var sig: UnsafeMutablePointer<git_signature>?
        let seconds = s.time.timeIntervalSince1970.rounded(.down)
        let offset = TimeZone.current.secondsFromGMT(for: s.time) / 60
        try check(git_signature_new(&sig, s.name, s.email, git_time_t(seconds), Int32(offset)), "git_signature_new")
        return sig!
    }

    /// Makes the index match the work tree at `paths` (files, or folders: everything under them), so that
    /// after a commit of those same contents `git status` is clean: files that exist are added (with their
    /// stat data), missing ones removed; then the index is written. Reads and hashes every file: after a
    /// commit whose content the caller just wrote to the work tree, `syncIndex(with:paths:)` is much faster.
    public func stage(paths: [String]) throws {
        let workdir = try requireWorkdir("stage")
        let index = try openIndex()
        defer { git_index_free(index) }
        for raw in paths {
            let path = normalizedPath(raw)
            guard !path.isEmpty else { continue }
            try stageFromWorkTree(path, index: index, workdir: workdir)
        }
        try check(git_index_write(index), "git_index_write")
    }

    /// Makes the index match `commit` at `paths`, for a caller that has just written exactly the commit's
    /// content there (a reconciler mirroring its own commit into the work tree): each entry takes the blob
    /// id and mode from the commit's tree and the stat data from `lstat`, so no file is read or hashed and
    /// `git status` is clean afterwards. Paths absent from the commit and from the work tree leave the index.
    /// The content is trusted, not checked (reading a packed blob's size can mean inflating a delta chain);
    /// what is checked is cheap: a path that is not a regular file with the committed executable bit — missing,
    /// a symlink, a folder, or absent from the commit but present on disk — is staged from the work tree as
    /// `stage(paths:)` does.
    public func syncIndex(with commit: ObjectID, paths: [String]) throws {
        let workdir = try requireWorkdir("syncIndex")
        let tree = try lookupTree(ofCommit: commit)
        defer { git_tree_free(tree) }
        let index = try openIndex()
        defer { git_index_free(index) }
        // Each folder's tree is looked up once: libgit2 does not cache trees over 4 KB, so a lookup by full
        // path per file would re-read a 10,000-entry folder 10,000 times.
        var folders: [Substring: OpaquePointer?] = [:]
        defer { for case let t? in folders.values { git_tree_free(t) } }
        func folderTree(_ folder: Substring) throws -> OpaquePointer? {
            if let cached = folders[folder] { return cached }
            var found: OpaquePointer? = nil
            if folder.isEmpty {
                try check(git_tree_dup(&found, tree), "git_tree_dup")
            } else {
                var entry: OpaquePointer?
                let rc = git_tree_entry_bypath(&entry, tree, String(folder))
                if rc != GIT_ENOTFOUND.rawValue {
                    try check(rc, "git_tree_entry_bypath")
                    defer { git_tree_entry_free(entry) }
                    if git_tree_entry_type(entry) == GIT_OBJECT_TREE {
                        try check(git_tree_lookup(&found, handle, git_tree_entry_id(entry)), "git_tree_lookup")
                    }
                }
            }
            folders[folder] = found
            return found
        }
        for raw in paths {
            let path = normalizedPath(raw)
            guard !path.isEmpty else { continue }
            let slash = path.lastIndex(of: "/")
            let folder = slash.map { path[..<$0] } ?? ""
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            guard let parent = try folderTree(folder), let entry = git_tree_entry_byname(parent, name) else {
                try stageFromWorkTree(path, index: index, workdir: workdir)   // deleted: removes it (or adds a stray file)
                continue
            }
            let mode = git_tree_entry_filemode(entry)
            let blob = git_tree_entry_id(entry).pointee
            var st = stat()
            guard mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE,
                  lstat(workdir + "/" + path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
                  (st.st_mode & 0o100 != 0) == (mode == GIT_FILEMODE_BLOB_EXECUTABLE) else {
                try stageFromWorkTree(path, index: index, workdir: workdir)
                continue
            }
            // The stat fields as libgit2 records them (git_index_entry__init_from_stat).
            var e = git_index_entry()
            e.ctime = git_index_time(seconds: Int32(truncatingIfNeeded: st.st_ctim.tv_sec),
                                     nanoseconds: UInt32(truncatingIfNeeded: st.st_ctim.tv_nsec))
            e.mtime = git_index_time(seconds: Int32(truncatingIfNeeded: st.st_mtim.tv_sec),
                                     nanoseconds: UInt32(truncatingIfNeeded: st.st_mtim.tv_nsec))
            e.dev = UInt32(truncatingIfNeeded: st.st_rdev)
            e.ino = UInt32(truncatingIfNeeded: st.st_ino)
            e.mode = mode.rawValue
            e.uid = st.st_uid
            e.gid = st.st_gid
            e.file_size = UInt32(truncatingIfNeeded: st.st_size)
            e.id = blob
            try path.withCString { cPath in
                e.path = cPath
                try check(git_index_add(index, &e), "git_index_add")
            }
        }
        try check(git_index_write(index), "git_index_write")
    }

    private func requireWorkdir(_ operation: String) throws -> String {
        guard let workdir else {
            throw GitError(code: GIT_EBAREREPO.rawValue, errorClass: Int32(GIT_ERROR_REPOSITORY.rawValue),
                           message: "cannot \(operation) in a bare repository", function: operation)
        }
        return workdir
    }

    /// The repository's index, re-read from disk (another process may have written it).
    private func openIndex() throws -> OpaquePointer {
        var index: OpaquePointer?
        try check(git_repository_index(&index, handle), "git_repository_index")
        let rc = git_index_read(index, 0)
        if rc < 0 { git_index_free(index); try check(rc, "git_index_read") }
        return index!
    }

    /// One path of `stage(paths:)`: a folder is added and updated as a whole, a file re-hashed, a missing
    /// path removed (file or folder).
    private func stageFromWorkTree(_ path: String, index: OpaquePointer, workdir: String) throws {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: workdir + "/" + path, isDirectory: &isDir)
        if exists && isDir.boolValue {
            try withStrarray([path]) { spec in
                try check(git_index_add_all(index, spec, 0, nil, nil), "git_index_add_all")
                try check(git_index_update_all(index, spec, nil, nil), "git_index_update_all")
            }
        } else if exists {
            try check(git_index_add_bypath(index, path), "git_index_add_bypath")
        } else {
            let rc = git_index_remove_bypath(index, path)
            if rc != GIT_ENOTFOUND.rawValue { try check(rc, "git_index_remove_bypath") }
            try check(git_index_remove_directory(index, path, 0), "git_index_remove_directory")
        }
    }

    /// Paths whose index or work-tree content differs from HEAD — like `git status --porcelain`: modified,
    /// staged, deleted and untracked files (not ignored ones), both sides of a rename — sorted; only under
    /// `prefixes` when given.
    public func changedPaths(under prefixes: [String] = []) throws -> [String] {
        var opts = git_status_options()
        try check(git_status_options_init(&opts, UInt32(GIT_STATUS_OPTIONS_VERSION)), "git_status_options_init")
        opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR
        opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED.rawValue | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS.rawValue
            | GIT_STATUS_OPT_EXCLUDE_SUBMODULES.rawValue
        let specs = prefixes.map(normalizedPath).filter { !$0.isEmpty }
        var list: OpaquePointer?
        try withStrarray(specs) { array in
            opts.pathspec = array.pointee
            try check(git_status_list_new(&list, handle, &opts), "git_status_list_new")
        }
        defer { git_status_list_free(list) }
        var paths = Set<String>()
        for i in 0..<git_status_list_entrycount(list) {
            guard let entry = git_status_byindex(list, i)?.pointee else { continue }
            if entry.status == GIT_STATUS_CURRENT || entry.status.rawValue & GIT_STATUS_IGNORED.rawValue != 0 { continue }
            for delta in [entry.head_to_index, entry.index_to_workdir] {
                guard let d = delta?.pointee else { continue }
                if let p = d.old_file.path { paths.insert(String(cString: p)) }
                if let p = d.new_file.path { paths.insert(String(cString: p)) }
            }
        }
        return paths.sorted()
    }

    /// The files changed from `from` (nil: the empty tree) to `to`, with rename detection.
    public func diff(from: ObjectID?, to: ObjectID) throws -> [DiffEntry] {
        var oldTree: OpaquePointer?
        if let from { oldTree = try lookupTree(ofCommit: from) }
        defer { git_tree_free(oldTree) }
        let newTree = try lookupTree(ofCommit: to)
        defer { git_tree_free(newTree) }
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, handle, oldTree, newTree, nil), "git_diff_tree_to_tree")
        defer { git_diff_free(diff) }
        var find = git_diff_find_options()
        try check(git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)), "git_diff_find_options_init")
        find.flags = GIT_DIFF_FIND_RENAMES.rawValue
        try check(git_diff_find_similar(diff, &find), "git_diff_find_similar")
        var result: [DiffEntry] = []
        for i in 0..<git_diff_num_deltas(diff) {
            guard let d = git_diff_get_delta(diff, i)?.pointee else { continue }
            let oldPath = d.old_file.path.map { String(cString: $0) }
            let newPath = d.new_file.path.map { String(cString: $0) }
            switch d.status {
            case GIT_DELTA_ADDED, GIT_DELTA_COPIED, GIT_DELTA_UNTRACKED:
                result.append(DiffEntry(status: .added, oldPath: nil, newPath: newPath))
            case GIT_DELTA_DELETED:
                result.append(DiffEntry(status: .deleted, oldPath: oldPath, newPath: nil))
            case GIT_DELTA_RENAMED:
                result.append(DiffEntry(status: .renamed, oldPath: oldPath, newPath: newPath))
            case GIT_DELTA_MODIFIED, GIT_DELTA_TYPECHANGE:
                result.append(DiffEntry(status: .modified, oldPath: oldPath, newPath: newPath))
            default:
                continue
            }
        }
        return result
    }

    /// Commits reachable from `from`, newest first, that changed `path` (a file or a folder; "" = anything)
    /// compared with their first parent (a root commit counts when it has the path) — like `git log -- path`
    /// on a linear history. In a shallow clone the walk stops where the history was cut: a commit whose
    /// parents were not fetched counts as a root (as `git log` shows it).
    public func history(of path: String, from: ObjectID, limit: Int? = nil) throws -> [CommitInfo] {
        let path = normalizedPath(path)
        if let limit, limit <= 0 { return [] }
        var result: [CommitInfo] = []
        try walkCommits(from: from) { commit in
            let here = try objectID(at: path, inCommit: commit)
            var before: PathState? = nil
            if let parent = try firstParent(of: commit) {
                defer { git_commit_free(parent) }
                before = try objectID(at: path, inCommit: parent)
            }
            if !sameOID(here, before) {
                result.append(commitInfo(commit))
                if let limit, result.count >= limit { return false }
            }
            return true
        }
        return result
    }

    /// Whether this is a shallow clone (`git clone --depth`): the history stops at grafted commits.
    public var isShallow: Bool { git_repository_is_shallow(handle) == 1 }

    /// The commit's first parent (to be freed by the caller); nil for a root commit, or for a commit at the
    /// edge of a shallow clone, whose parents are not in the object database.
    private func firstParent(of commit: OpaquePointer) throws -> OpaquePointer? {
        guard git_commit_parentcount(commit) > 0 else { return nil }
        var parent: OpaquePointer?
        let rc = git_commit_parent(&parent, commit, 0)
        if rc == GIT_ENOTFOUND.rawValue && isShallow { return nil }
        try check(rc, "git_commit_parent")
        return parent
    }

    /// Visits the commits reachable from `from`, newest first (topological, then by time), until `visit`
    /// returns false. A shallow clone is walked by hand: libgit2's revwalk fails on the missing parents.
    private func walkCommits(from: ObjectID, _ visit: (OpaquePointer) throws -> Bool) throws {
        if isShallow { return try walkShallow(from: from, visit) }
        var walker: OpaquePointer?
        try check(git_revwalk_new(&walker, handle), "git_revwalk_new")
        defer { git_revwalk_free(walker) }
        try check(git_revwalk_sorting(walker, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue), "git_revwalk_sorting")
        var start = from.oid
        try check(git_revwalk_push(walker, &start), "git_revwalk_push")
        var oid = git_oid()
        while true {
            let rc = git_revwalk_next(&oid, walker)
            if rc == GIT_ITEROVER.rawValue { break }
            try check(rc, "git_revwalk_next")
            var commit: OpaquePointer?
            try check(git_commit_lookup(&commit, handle, &oid), "git_commit_lookup")
            defer { git_commit_free(commit) }
            if try !visit(commit!) { break }
        }
    }

    /// The shallow walk: newest commit time first among the commits whose children were all visited
    /// (a topological order), skipping parents that are not there.
    private func walkShallow(from: ObjectID, _ visit: (OpaquePointer) throws -> Bool) throws {
        var commits: [ObjectID: OpaquePointer] = [:]
        defer { for c in commits.values { git_commit_free(c) } }
        var children: [ObjectID: Int] = [:]
        var stack = [from]
        // First the reachable commits and how many children each has, then a Kahn walk by time.
        while let id = stack.popLast() {
            var oid = id.oid
            var commit: OpaquePointer?
            let rc = git_commit_lookup(&commit, handle, &oid)
            if rc == GIT_ENOTFOUND.rawValue { continue }
            try check(rc, "git_commit_lookup")
            commits[id] = commit
            for i in 0..<git_commit_parentcount(commit) {
                let parent = ObjectID(git_commit_parent_id(commit, i).pointee)
                children[parent, default: 0] += 1
                if children[parent] == 1 { stack.append(parent) }
            }
        }
        var ready = [from]
        while !ready.isEmpty {
            ready.sort { git_commit_time(commits[$0]!) < git_commit_time(commits[$1]!) }
            let id = ready.removeLast()
            let commit = commits[id]!
            if try !visit(commit) { return }
            for i in 0..<git_commit_parentcount(commit) {
                let parent = ObjectID(git_commit_parent_id(commit, i).pointee)
                children[parent]! -= 1
                if children[parent] == 0, commits[parent] != nil { ready.append(parent) }
            }
        }
    }

    /// The newest commit reachable from `from` that changed `path`.
    public func lastCommit(touching path: String, from: ObjectID) throws -> CommitInfo? {
        try history(of: path, from: from, limit: 1).first
    }

    /// The id and mode of the tree or blob at `path` in the commit (the root tree for ""), nil when absent.
    private func objectID(at path: String, inCommit commit: OpaquePointer?) throws -> PathState? {
        if path.isEmpty { return PathState(id: git_commit_tree_id(commit).pointee, mode: 0) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commit), "git_commit_tree")
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        let rc = git_tree_entry_bypath(&entry, tree, path)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "git_tree_entry_bypath")
        defer { git_tree_entry_free(entry) }
        // The mode is part of the state: an executable-bit flip is a change too.
        return PathState(id: git_tree_entry_id(entry).pointee, mode: git_tree_entry_filemode(entry).rawValue)
    }
}

private struct PathState {
    var id: git_oid
    var mode: UInt32
}

private func sameOID(_ a: PathState?, _ b: PathState?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case var (a?, b?): return a.mode == b.mode && git_oid_equal(&a.id, &b.id) != 0
    default: return false
    }
}
