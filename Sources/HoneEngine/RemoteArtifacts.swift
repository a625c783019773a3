import Foundation
import HoneModel

/// A remote store (`store: s3://…`, specs/versions.md "Remote stores"): the local store is its cache, with
/// the same layout. What a collected attempt references is uploaded before its status is committed; an
/// input the cache lacks is downloaded, and verified by digest, before a job reads it.
extension ArtifactStore {
    /// The store with its remote side connected when `store:` names a remote one. `environment` is where
    /// rclone finds credentials; `redactor` knows the secrets its error output must not show.
    public func connected(environment: [String: String], redactor: SecretRedactor) -> ArtifactStore {
        guard case .remote(let url)? = location else { return self }
        var copy = self
        copy.remote = RcloneTransport(store: url, environment: environment, redactor: redactor)
        return copy
    }

    /// `sha256/<digest>/model.bin` for `store://sha256/<digest>/model.bin`; nil for other URIs.
    static func storeRelative(_ uri: String) -> String? {
        guard uri.hasPrefix("store://") else { return nil }
        let rel = String(uri.dropFirst(8))
        guard !rel.isEmpty, !rel.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else { return nil }
        return rel
    }

    /// Uploads what `status` references in the store: its model and the full log and outputs kept for its
    /// job (`logs/<id>/`, `outputs/<id>/`). Nothing to do for a local store. Throws when the store cannot
    /// be written (after retries for an unreachable server): the files stay in the local store.
    public func upload(referencedBy status: ObjectStatus) throws {
        guard let remote else { return }
        var items: [String] = []
        if let uri = status.run?.model?.uri, let rel = Self.storeRelative(uri) { items.append(rel) }
        for folder in ["logs", "outputs"] { items.append("\(folder)/\(status.id)") }
        for rel in items {
            let local = root.appendingPathComponent(rel)
            guard FileManager.default.fileExists(atPath: local.path) else { continue }
            try remote.upload(local, to: rel)
        }
    }

    /// Makes the object of a `store://sha256/…` URI present in the local store, downloading it from the
    /// remote store when it is missing there. The download goes to a temporary name and is checked
    /// against `sha256` before it takes its place: the cache holds only verified objects.
    public func fetch(_ uri: String, sha256: String) throws {
        guard let remote, let rel = Self.storeRelative(uri), rel.hasPrefix("sha256/") else { return }
        let fm = FileManager.default
        let dest = root.appendingPathComponent(rel)
        if fm.fileExists(atPath: dest.path) { return }
        // store://sha256/<digest> is a folder; store://sha256/<digest>/<name> a file.
        let folder = rel.split(separator: "/").count == 2
        let tmpRoot = root.appendingPathComponent("tmp")
        try fm.createDirectory(at: tmpRoot, withIntermediateDirectories: true)
        let tmp = tmpRoot.appendingPathComponent("download-\(UUID().uuidString.prefix(12))-\(getpid())")
        defer { try? fm.removeItem(at: tmp) }
        let target = folder ? tmp : tmp.appendingPathComponent(dest.lastPathComponent)
        if !folder { try fm.createDirectory(at: tmp, withIntermediateDirectories: true) }
        try remote.download(rel, folder: folder, to: target)
        let actual = try digest(ofInput: target)
        guard actual == sha256 else {
            throw RemoteStoreError.failed(store: remote.store.written, operation: "download of \(rel)",
                                          detail: "what was downloaded has sha256 \(actual), but \(uri) must have \(sha256): left out of the local store")
        }
        try fm.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
        try ArtifactStore.move(target, to: dest)
    }
}
