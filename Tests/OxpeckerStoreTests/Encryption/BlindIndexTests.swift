import Crypto
import Foundation
import Testing

@testable import OxpeckerStore

/// The blind index's tokens are part of an encrypted store's file: a store written
/// earlier must still be searchable, so a token stays what it was defined to be.
@Suite("Blind index tokens")
struct BlindIndexTests {
    /// The definition, written the plain way: `k` + hex of the first 10 bytes of
    /// HMAC-SHA256(search key, UTF-8 of the folded prefix), prefixes of up to 20 characters.
    static func reference(_ text: String, key: SymmetricKey) -> String {
        BlindIndex.words(text).flatMap { word in
            (1...min(word.count, 20)).map { length in
                let mac = HMAC<SHA256>.authenticationCode(for: Data(String(word.prefix(length)).utf8), using: key)
                return "k" + Data(mac).prefix(10).map { String(format: "%02x", $0) }.joined()
            }
        }.joined(separator: " ")
    }

    @Test("a body is the tokens of every prefix of every folded word, as defined; a query word is its own prefix's token")
    func tokensAsDefined() throws {
        let key = SymmetricKey(data: Data((0..<32).map { UInt8($0) }))
        let text = "Jiří Dvořák-Nováková: hypotéka na chalupu v Krkonoších, 2026; Ελληνικά 😀 nejneobhospodařovávatelnějšími"
        #expect(BlindIndex.body(text, key: key) == Self.reference(text, key: key))
        #expect(BlindIndex.body("", key: key) == "")
        let body = BlindIndex.body("Nováková", key: key).split(separator: " ").map(String.init)
        #expect(body.count == 8)
        #expect(BlindIndex.pattern("NOVAK", key: key) == body[4])
        #expect(BlindIndex.pattern("nov dvo", key: key) == "\(body[2]) AND \(Self.reference("dvo", key: key).split(separator: " ")[2])")
        // A token computed apart (Python's hmac), so that a change of the definition itself shows here too.
        #expect(BlindIndex.pattern("a", key: key) == "k5167dd15d18166a9dd6c")
        #expect(Self.reference("a", key: key) == "k5167dd15d18166a9dd6c")
    }
}
