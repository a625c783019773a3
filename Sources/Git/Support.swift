import Foundation
internal import CGit2

/// Calls `body` with a `git_strarray` over `strings`; the C strings live only for the call.
func withStrarray<T>(_ strings: [String], _ body: (UnsafeMutablePointer<git_strarray>) throws -> T) rethrows -> T {
    let cStrings: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for p in cStrings { free(p) } }
    var copy = cStrings
    return try copy.withUnsafeMutableBufferPointer { buf in
        var array = git_strarray(strings: buf.baseAddress, count: buf.count)
        return try body(&array)
    }
}

/// A path as libgit2 wants it: relative, `/`-separated, no leading `./` or `/`, no trailing `/`.
func normalizedPath(_ path: String) -> String {
    var p = Substring(path)
    while p.hasPrefix("./") { p = p.dropFirst(2) }
    while p.hasPrefix("/") { p = p.dropFirst() }
    while p.hasSuffix("/") { p = p.dropLast() }
    return p == "." ? "" : String(p)
}

func trimmingTrailingSlash(_ s: String) -> String {
    var s = s
    while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
    return s
}
