import Testing
@testable import OxpeckerProtocol

@Suite("Exact JSON: the strict parser and the canonical writer")
struct JSONValueTests {
    @Test("canonical text parses back to the same value and the same text", arguments: [
        #"{"b":[1,-2,true,false,null],"a":{"z":"x","y":""},"c":"é \"q\" \\ \n\t\u0001 🙂"}"#,
        #"[9223372036854775807,-9223372036854775808,0]"#, #""just a string""#, "null", "[]", "{}",
    ])
    func roundTrip(text: String) throws {
        let value = try JSONValue(parsing: text)
        let canonical = value.canonicalText
        #expect(try JSONValue(parsing: canonical) == value)
        #expect(try JSONValue(parsing: canonical).canonicalText == canonical)
    }

    @Test("canonical text sorts keys by bytes and drops whitespace")
    func canonicalForm() throws {
        let value = try JSONValue(parsing: " { \"b\" : 1 , \"a\" : [ 1 , 2 ] , \"B\" : \"/\" } ")
        #expect(value.canonicalText == #"{"B":"/","a":[1,2],"b":1}"#)
    }

    @Test("random values survive a round trip", arguments: [UInt64(11), 12, 13])
    func randomRoundTrips(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        func make(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0...(depth > 3 ? 3 : 5), using: &random) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &random))
            case 2: return .integer(Int64.random(in: .min ... .max, using: &random))
            case 3:
                let scalars = (0..<Int.random(in: 0...8, using: &random)).compactMap { _ in
                    Unicode.Scalar(UInt32.random(in: 0...0x1F_FFF, using: &random))
                }
                return .string(String(String.UnicodeScalarView(scalars)))
            case 4: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in make(depth + 1) })
            default:
                var members: [String: JSONValue] = [:]
                for index in 0..<Int.random(in: 0...4, using: &random) { members["k\(index)\(Int.random(in: 0...9, using: &random))"] = make(depth + 1) }
                return .object(members)
            }
        }
        for _ in 0..<300 {
            let value = make(0)
            #expect(try JSONValue(parsing: value.canonicalText) == value, "seed \(seed)")
        }
    }

    @Test("numbers with a fraction or exponent are refused", arguments: ["1.5", "1.0", "1e3", "-2E-2", "[0.1]", #"{"a":3.14}"#])
    func fractions(text: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            if case ProtocolError.fractionalNumber = error { return true }
            return false
        }
    }

    @Test("integers are bounded to 64 bits", arguments: ["9223372036854775808", "-9223372036854775809", "99999999999999999999"])
    func outOfRange(text: String) {
        #expect(throws: ProtocolError.integerOutOfRange(text)) { try JSONValue(parsing: text) }
    }

    @Test("malformed text is refused", arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1} x"#, #""\x""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "\"a\u{01}b\"",
        "\"tab\there\"", "01", "-", "[1,]", "{\"a\" 1}", "tru", "\"open", "", "[1 2]", "{1:2}", #"{"a":}"#,
    ])
    func malformed(text: String) {
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            if case ProtocolError.malformedJSON = error { return true }
            return false
        }
    }

    @Test("invalid UTF-8 is refused, not repaired")
    func invalidUTF8() {
        #expect(throws: ProtocolError.self) { try JSONValue(parsing: [UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")]) }
    }

    @Test("nesting deeper than the limit is refused")
    func depth() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try JSONValue(parsing: ok)
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: ProtocolError.nestingTooDeep(maximum: 32)) { try JSONValue(parsing: deep) }
        #expect(throws: ProtocolError.nestingTooDeep(maximum: 4)) { try JSONValue(parsing: "[[[[[1]]]]]", maximumDepth: 4) }
    }

    @Test("escapes decode to the characters they name, surrogate pairs included")
    func escapes() throws {
        #expect(try JSONValue(parsing: #""\u00e9\ud83d\ude42\/\b\f\n\r\t""#) == .string("é🙂/\u{08}\u{0C}\n\r\t"))
    }
}
