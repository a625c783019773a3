import Foundation

/// JSON documents as Codable structs: a struct says the shape once, `JSONValue(encoding:)` turns it into a
/// value, and the value is written the one way every command writes JSON (`prettyJSON`: sorted keys,
/// two-space indent). Optional fields that are nil are left out, as Codable does.
extension JSONValue: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The value an Encodable encodes to.
    public init<T: Encodable>(encoding value: T) throws {
        let slot = EncodingSlot()
        try value.encode(to: ValueEncoder(slot: slot, codingPath: []))
        self = slot.value
    }
}

/// One place a value is being encoded into; containers fill it in as they go.
private final class EncodingSlot {
    enum Content { case value(JSONValue), object([String: EncodingSlot]), array([EncodingSlot]) }
    var content: Content = .value(.null)

    var value: JSONValue {
        switch content {
        case .value(let v): return v
        case .object(let o): return .object(o.mapValues(\.value))
        case .array(let a): return .array(a.map(\.value))
        }
    }

    func child(_ key: String) -> EncodingSlot {
        var o: [String: EncodingSlot] = [:]
        if case .object(let existing) = content { o = existing }
        let s = EncodingSlot(); o[key] = s; content = .object(o)
        return s
    }

    func append() -> EncodingSlot {
        var a: [EncodingSlot] = []
        if case .array(let existing) = content { a = existing }
        let s = EncodingSlot(); a.append(s); content = .array(a)
        return s
    }
}

private struct ValueEncoder: Encoder {
    let slot: EncodingSlot
    var codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = slot.content {} else { slot.content = .object([:]) }
        return KeyedEncodingContainer(KeyedSlotContainer<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .array = slot.content {} else { slot.content = .array([]) }
        return UnkeyedSlotContainer(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleSlotContainer(slot: slot, codingPath: codingPath) }
}

/// Primitives become values directly; anything else is encoded into a fresh slot.
private func encode<T: Encodable>(_ value: T, into slot: EncodingSlot, path: [CodingKey]) throws {
    switch value {
    case let v as String: slot.content = .value(.string(v))
    case let v as Bool: slot.content = .value(.bool(v))
    case let v as Int: slot.content = .value(.int(v))
    case let v as Double: slot.content = .value(v.isFinite ? .double(v) : .null)
    case let v as Float: slot.content = .value(v.isFinite ? .double(Double(v)) : .null)
    case let v as any BinaryInteger: slot.content = .value(.int(Int(v)))
    case let v as JSONValue: slot.content = .value(v)
    default: try value.encode(to: ValueEncoder(slot: slot, codingPath: path))
    }
}

private struct KeyedSlotContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: EncodingSlot
    var codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws { slot.child(key.stringValue).content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try HoneModel.encode(value, into: slot.child(key.stringValue), path: codingPath + [key])
    }
    mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
        ValueEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        ValueEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> Encoder { ValueEncoder(slot: slot.child("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder { ValueEncoder(slot: slot.child(key.stringValue), codingPath: codingPath + [key]) }
}

private struct UnkeyedSlotContainer: UnkeyedEncodingContainer {
    let slot: EncodingSlot
    var codingPath: [CodingKey]
    var count: Int { if case .array(let a) = slot.content { return a.count }; return 0 }

    mutating func encodeNil() throws { slot.append().content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try HoneModel.encode(value, into: slot.append(), path: codingPath) }
    mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type) -> KeyedEncodingContainer<N> {
        ValueEncoder(slot: slot.append(), codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer { ValueEncoder(slot: slot.append(), codingPath: codingPath).unkeyedContainer() }
    mutating func superEncoder() -> Encoder { ValueEncoder(slot: slot.append(), codingPath: codingPath) }
}

private struct SingleSlotContainer: SingleValueEncodingContainer {
    let slot: EncodingSlot
    var codingPath: [CodingKey]
    mutating func encodeNil() throws { slot.content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try HoneModel.encode(value, into: slot, path: codingPath) }
}
