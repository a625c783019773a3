import Foundation

/// The fuzz executables built without `-sanitize=fuzzer`: each argument is a file or a folder of
/// inputs run through the fuzz body once (a corpus replay, or one crash reproducer).
public enum Replay {
    public static func main(_ arguments: ArraySlice<String>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Int32 {
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE-OR-FOLDER...\n".utf8))
            return 2
        }
        var count = 0
        for path in arguments {
            for file in files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("cannot read \(file)\n".utf8))
                    return 1
                }
                data.withUnsafeBytes { body($0.bindMemory(to: UInt8.self)) }
                count += 1
            }
        }
        print("replayed \(count) input\(count == 1 ? "" : "s"): no crash")
        return 0
    }

    static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { path + "/" + $0 }
    }
}
