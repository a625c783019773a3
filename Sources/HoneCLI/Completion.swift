import ArgumentParser
import Foundation
import HoneEngine
import HoneLoading
import HoneModel

/// Shell completion of object names (swift-argument-parser calls these from the generated scripts):
/// read from the repository the command line names with -C/--repo, else the current directory.
/// A repository that cannot be read completes nothing: completion never prints an error.
enum ObjectCompletion {
    /// The `-C DIR`/`--repo DIR` on the command line being completed.
    static func repository(_ words: [String]) -> String {
        for (i, w) in words.enumerated() where (w == "-C" || w == "--repo") && i + 1 < words.count { return words[i + 1] }
        if let w = words.first(where: { $0.hasPrefix("--repo=") }) { return String(w.dropFirst("--repo=".count)) }
        return "."
    }

    static func load(_ words: [String]) -> LoadResult? {
        try? Workspace(path: repository(words)).load(ref: nil)
    }

    /// Runs and evals: `g/name`, `evaluations/name`.
    static let objects = CompletionKind.custom { words, _, prefix in
        guard let load = load(words) else { return [] }
        return ObjectAddress.names(in: load).filter { $0.hasPrefix(prefix) }
    }

    /// What `describe KIND` takes: objects, groups, or model versions (`name`, `name@v1`).
    static let described = CompletionKind.custom { words, _, prefix in
        guard let load = load(words) else { return [] }
        let kind = words.lazy.compactMap { try? DescribeCommand.Kind.parse($0) }.first
        let names: [String]
        switch kind {
        case .group?: names = load.desired.groups.keys.sorted()
        case .model?:
            let refs = (load.desired.versions[.model] ?? [:]).keys
            names = Set(refs.map(\.name)).sorted() + refs.map(\.description).sorted()
        case .run?, .eval?, .playground?, nil: names = ObjectAddress.names(in: load)
        }
        return names.filter { $0.hasPrefix(prefix) }
    }
}
