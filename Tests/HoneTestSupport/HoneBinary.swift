import Foundation

/// The one way tests find the `hone` executable they run as a user would: `$HONE_BIN` when set, else the
/// one `swift build --build-tests` put beside the test bundle (`.build/<triple>/debug/hone`).
public enum HoneBinary {
    public static let url: URL = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["HONE_BIN"], !path.isEmpty { return URL(fileURLWithPath: path) }
        // Linux: Bundle.main is the products folder; macOS: the .xctest bundle sits in it.
        var folders = Bundle.allBundles.filter { $0.bundlePath.hasSuffix(".xctest") }.map { $0.bundleURL.deletingLastPathComponent() }
        folders += [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        let candidates = folders.map { $0.appendingPathComponent("hone") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    /// The folder holding it (put on PATH by tests that run scripts calling `hone`).
    public static var directory: URL { url.deletingLastPathComponent() }

    /// Whether it is built (tests that need it fail with this message otherwise).
    public static var missing: String? {
        FileManager.default.isExecutableFile(atPath: url.path) ? nil
            : "no `hone` binary at \(url.path): run `swift build --build-tests` first (or set HONE_BIN)"
    }
}
