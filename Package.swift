// swift-tools-version:6.0
// hone: a GitOps engine for fine-tuning language models. Dependencies point down the stack:
// C system libraries → YAML/Git bindings → model → loading → planning → executors → engine → CLI;
// the read side (queries) sits beside the engine, on loading and planning.
import PackageDescription

let package = Package(
    name: "hone",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "hone", targets: ["hone"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 at the hardware's speed (BoringSSL's SHA-extension code on Linux): every digest hone computes.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // The system libyaml (Debian libyaml-dev), through a shim header.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // The system libgit2 (Debian libgit2-dev), plus inline C for its variadic options call.
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        // YAML node trees with source marks (libyaml event API) and a deterministic emitter.
        .target(name: "YAML", dependencies: ["CYAML"], exclude: ["README.md"]),
        // Git repositories through libgit2: refs, trees, blobs, commits, CAS, revwalk, diff, push.
        .target(name: "Git", dependencies: ["CGit2"], exclude: ["README.md"]),
        // Plain values for every kind, diagnostics, names and digests; no I/O.
        .target(name: "HoneModel", dependencies: ["YAML", .product(name: "Crypto", package: "swift-crypto")], exclude: ["README.md"]),
        // Files (working tree or commit) → model values and diagnostics.
        .target(name: "HoneLoading", dependencies: ["HoneModel", "YAML", "Git"], exclude: ["README.md"]),
        // Pure planning: spec digests, job ids, desired vs recorded → Plan, and its renderers.
        .target(name: "HonePlanning", dependencies: ["HoneModel", "HoneLoading"], exclude: ["README.md"]),
        // Where jobs run: the Executor protocol, the local process pool and Slurm.
        .target(name: "HoneExecutors", dependencies: ["HoneModel"], exclude: ["README.md"]),
        // Reconcile: load → plan → apply → record → commit; publish, spec edits, the artifact store.
        .target(name: "HoneEngine", dependencies: ["HoneModel", "HoneLoading", "HonePlanning", "HoneExecutors", "YAML", "Git"], exclude: ["README.md"]),
        // The read side: listings, describe, compare, history, reports, gates, eval sync. Reads specs and
        // recorded state through HoneLoading; never reconciles, so it does not depend on HoneEngine.
        .target(name: "HoneQueries", dependencies: ["HoneModel", "HoneLoading", "HonePlanning", "YAML", "Git"], exclude: ["README.md"]),
        // The command-line interface as a library, so tests can call it in-process too.
        .target(name: "HoneCLI", dependencies: [
            "HoneEngine", "HoneQueries", "HonePlanning", "HoneLoading", "HoneModel",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"]),
        // The `hone` executable: a thin entry point over HoneCLI.
        .executableTarget(name: "hone", dependencies: ["HoneCLI"]),
        // bench/commit.sh: times one big commit through the Git target (and the redactor). Not in the `hone` product.
        .executableTarget(name: "hone-bench", dependencies: ["Git", "HoneModel"], path: "Sources/HoneBench"),
        // Fuzzing (make fuzz): the bodies, and one executable per target. Built normally they replay
        // inputs (make test replays the corpus, crash reproducers included); built with
        // `-sanitize=fuzzer -DFUZZING` in .build-fuzz they are libFuzzer targets. Not in the product.
        .target(name: "HoneFuzz", dependencies: ["HoneLoading", "HonePlanning", "HoneModel", "YAML"], exclude: ["README.md"]),
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "hone-fuzz-spec", dependencies: ["HoneFuzz", "CFuzzerDriver"], path: "Sources/FuzzSpec"),
        .executableTarget(name: "hone-fuzz-status", dependencies: ["HoneFuzz", "CFuzzerDriver"], path: "Sources/FuzzStatus"),

        // What several test targets share: the one locator of the built `hone` binary.
        .target(name: "HoneTestSupport", path: "Tests/HoneTestSupport"),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(name: "GitTests", dependencies: ["Git"]),
        .testTarget(name: "HoneLoadingTests", dependencies: ["HoneLoading", "HoneModel", "YAML", "Git"]),
        .testTarget(name: "HonePlanningTests", dependencies: ["HonePlanning", "HoneLoading", "HoneModel"]),
        .testTarget(name: "HoneEngineTests", dependencies: ["HoneEngine", "HoneExecutors", "HonePlanning", "HoneLoading", "HoneModel", "Git", "YAML", "HoneTestSupport"]),
        .testTarget(name: "HoneExecutorsTests", dependencies: ["HoneExecutors"]),
        // Needs a running Slurm cluster (scripts/slurm-cluster.sh start); fails loudly without one in CI.
        .testTarget(name: "HoneSlurmTests", dependencies: ["HoneExecutors", "HoneLoading", "HoneModel", "HoneTestSupport"]),
        .testTarget(name: "HoneCLITests", dependencies: ["HoneCLI", "HoneQueries", "HoneLoading", "HoneTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
