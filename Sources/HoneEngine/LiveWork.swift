import Foundation
import Git
import HoneModel
import YAML

/// What `hone gc` must keep, read from every status hone can see: the statuses at the tip of every
/// reference (branches, remote-tracking branches, tags, HEAD) and in the working tree.
struct LiveWork {
    /// Job ids of attempts still Pending or Running somewhere (or whose status does not say a phase hone
    /// knows: kept, to be safe).
    var activeJobs: Set<String> = []
    /// Folders debug evals hold (`debug.workdir`) until reconcile releases them.
    var debugFolders: Set<String> = []
    /// The commits active attempts were created on (`specCommit`): their snapshots are what a job that
    /// has not started yet is copied from.
    var activeCommits: Set<String> = []
    /// Statuses read.
    var statuses = 0

    static func read(repository: Repository?, root: URL, tips: [ObjectID]) throws -> LiveWork {
        var live = LiveWork()
        var seenBlobs: Set<ObjectID> = []
        if let repository {
            for tip in tips {
                for entry in try repository.tree(of: tip, under: "status") where entry.path.hasSuffix(".yaml") {
                    guard seenBlobs.insert(entry.blob).inserted else { continue }
                    live.add(status: try repository.readBlobBytes(entry.blob))
                }
            }
        }
        // Uncommitted statuses (reconcile --no-commit, an interrupted sync) count too.
        let statusRoot = root.appendingPathComponent("status")
        if let files = FileManager.default.enumerator(atPath: statusRoot.path) {
            for case let file as String in files where file.hasSuffix(".yaml") {
                if let data = FileManager.default.contents(atPath: statusRoot.appendingPathComponent(file).path) {
                    live.add(status: [UInt8](data))
                }
            }
        }
        return live
    }

    /// Reads the few fields gc needs without decoding the whole status: one status that does not decode
    /// stops nothing (and keeps the job its id names, when it has one).
    mutating func add(status bytes: [UInt8]) {
        statuses += 1
        guard let root = YAMLParser.parse(bytes).root, let id = root["id"]?.scalar else { return }
        let phase = root["phase"]?.scalar.flatMap(Phase.init(rawValue:))
        if phase?.isActive ?? true {
            activeJobs.insert(id)
            if let c = root["specCommit"]?.scalar { activeCommits.insert(c) }
        }
        if let w = root["debug"]?["workdir"]?.scalar { debugFolders.insert(w) }
    }
}

/// The `store://` URIs the files hone can see name: recorded statuses, published manifests and version
/// files in any commit reachable from any reference, and in the working tree.
enum StoreReferences {
    static let folders = ["status", "models", "datasets", "runtimes"]

    static func read(repository: Repository?, root: URL, tips: [ObjectID]) throws -> Set<String> {
        var uris: Set<String> = []
        if let repository {
            for blob in try repository.reachableBlobs(under: folders, from: tips) {
                scan(try repository.readBlobBytes(blob), into: &uris)
            }
        }
        for folder in folders {
            let base = root.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(atPath: base.path) else { continue }
            for case let file as String in files where file.hasSuffix(".yaml") {
                if let data = FileManager.default.contents(atPath: base.appendingPathComponent(file).path) { scan([UInt8](data), into: &uris) }
            }
        }
        return uris
    }

    /// Every `store://…` in the text, up to a space, quote, comma or bracket: the URIs of `uri:` fields,
    /// of events' messages and of cut-log notes alike, whatever the YAML quoting.
    static func scan(_ bytes: [UInt8], into uris: inout Set<String>) {
        let marker = Array("store://".utf8)
        let stops: Set<UInt8> = Set(" \t\r\n\"',[]{}()<>`".utf8)
        var i = 0
        let n = bytes.count
        while i + marker.count <= n {
            guard bytes[i] == marker[0], bytes[i..<(i + marker.count)].elementsEqual(marker) else { i += 1; continue }
            var j = i + marker.count
            while j < n && !stops.contains(bytes[j]) { j += 1 }
            uris.insert(String(decoding: bytes[i..<j], as: UTF8.self))
            i = j
        }
    }
}
