/// JSON text written straight into bytes: the one writer behind `JSONValue`'s canonical and pretty forms
/// and the typed documents (the plan). Keys are written in the order given (callers give them sorted);
/// strings are escaped like `TerminalText` (control and bidi characters as `\u` escapes), so the text is
/// safe to print raw. ASCII strings, nearly all of them, are copied a run of bytes at a time.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    public let pretty: Bool
    /// Per open object or array: how many members were written, and whether it is an array.
    private var levels: [(count: Int, array: Bool)] = []

    public init(pretty: Bool, capacity: Int = 256) {
        self.pretty = pretty
        bytes.reserveCapacity(capacity)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: structure

    public mutating func beginObject() { member(); bytes.append(UInt8(ascii: "{")); levels.append((0, false)) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { member(); bytes.append(UInt8(ascii: "[")); levels.append((0, true)) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// The next member's key (inside an object).
    public mutating func key(_ k: String) {
        separate()
        quoted(k)
        bytes.append(UInt8(ascii: ":"))
        if pretty { bytes.append(UInt8(ascii: " ")) }
    }

    // MARK: values

    public mutating func string(_ s: String) { member(); quoted(s) }
    public mutating func int(_ i: Int) { member(); ascii(String(i)) }
    public mutating func bool(_ b: Bool) { member(); ascii(b ? "true" : "false") }
    public mutating func null() { member(); ascii("null") }

    /// Integral values with one decimal (`3.0`), others in Swift's shortest round-trip form; NaN and
    /// infinities (not JSON) as null.
    public mutating func double(_ d: Double) {
        member()
        if d.isNaN || d.isInfinite { ascii("null") }
        else if d == d.rounded() && abs(d) < 1e15 { ascii((d == 0 && d.sign == .minus ? "-" : "") + String(Int(d)) + ".0") }
        else { ascii(d.description) }
    }

    // MARK: internals

    private mutating func ascii(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// Before a value: inside an array it is the next element (separated); after a key nothing.
    private mutating func member() {
        if let last = levels.last, last.array { separate() }
    }

    private mutating func separate() {
        let i = levels.count - 1
        if levels[i].count > 0 { bytes.append(UInt8(ascii: ",")) }
        levels[i].count += 1
        if pretty { newline(depth: levels.count) }
    }

    private mutating func close(_ c: UInt8) {
        let level = levels.removeLast()
        if level.count > 0 && pretty { newline(depth: levels.count) }
        bytes.append(c)
    }

    private mutating func newline(depth: Int) {
        bytes.append(UInt8(ascii: "\n"))
        for _ in 0..<(2 * depth) { bytes.append(UInt8(ascii: " ")) }
    }

    private mutating func quoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        let opened = bytes.count
        var s = s
        let ascii = s.withUTF8 { buffer -> Bool in
            var start = 0
            for i in 0..<buffer.count {
                let b = buffer[i]
                if b >= 0x80 { return false }
                guard b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<i]))
                escape(Unicode.Scalar(b))
                start = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start...]))
            return true
        }
        if !ascii {
            // Rare: non-ASCII text, scalar by scalar (C1 controls and bidi marks are escaped too).
            bytes.removeSubrange(opened...)
            for u in s.unicodeScalars {
                if u == "\"" || u == "\\" || TerminalText.needsEscape(u) { escape(u) } else { bytes.append(contentsOf: String(u).utf8) }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ u: Unicode.Scalar) {
        switch u {
        case "\"": ascii("\\\"")
        case "\\": ascii("\\\\")
        case "\n": ascii("\\n")
        case "\r": ascii("\\r")
        case "\t": ascii("\\t")
        default:
            let hex = String(u.value, radix: 16)
            ascii("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex)
        }
    }
}
