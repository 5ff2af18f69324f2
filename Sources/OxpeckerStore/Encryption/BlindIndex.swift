import Crypto
import Foundation

/// The search index of an encrypted store: every word of a name or a note (case
/// and accents folded, as the clear index does) is indexed as keyed tokens of
/// its prefixes, never as text. A query word becomes the token of itself as a
/// prefix, so prefixes still match; the index holds no word, only HMACs of them
/// under the store's search key.
///
/// What the tokens still tell someone with the file and no key: how many words
/// a document has and which documents share a word (the same word gives the
/// same tokens), not the words.
enum BlindIndex {
    /// Prefixes longer than this are indexed and matched by their first this many characters.
    static let longestPrefix = 20

    /// The words of `text` as the index compares them: runs of letters and digits, lowercased, accents removed.
    static func words(_ text: String) -> [String] {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .split { !($0.isLetter || $0.isNumber) }
            .map(String.init)
    }

    /// The document body the index stores for `text`: the tokens of every prefix of every word.
    ///
    /// A token is the HMAC of the prefix's UTF-8 bytes. The prefixes of one word share
    /// their beginning, so one HMAC is fed the word a character at a time and finalized
    /// (on a copy) after each: one pass over the word, the key's pads computed once per text.
    static func body(_ text: String, key: SymmetricKey) -> String {
        let keyed = HMAC<SHA256>(key: key)
        var body = ""
        for word in words(text) {
            var hmac = keyed
            for character in word.prefix(longestPrefix) {
                var bytes = String(character)
                bytes.withUTF8 { hmac.update(data: $0) }
                if !body.isEmpty { body.append(" ") }
                appendToken(hmac.finalize(), to: &body)
            }
        }
        return body
    }

    /// The FTS5 pattern matching documents that hold a prefix match of every word of `query`; nil if it has none.
    static func pattern(_ query: String, key: SymmetricKey) -> String? {
        let tokens = words(query).map { word in
            var token = ""
            appendToken(HMAC<SHA256>.authenticationCode(for: Data(String(word.prefix(longestPrefix)).utf8), using: key), to: &token)
            return token
        }
        return tokens.isEmpty ? nil : tokens.joined(separator: " AND ")
    }

    /// `k` and the first 10 bytes of the MAC in lowercase hex.
    private static func appendToken(_ mac: HMAC<SHA256>.MAC, to text: inout String) {
        let digits = Array("0123456789abcdef".utf8)
        var token: [UInt8] = [UInt8(ascii: "k")]
        token.reserveCapacity(21)
        mac.withUnsafeBytes { bytes in
            for byte in bytes.prefix(10) {
                token.append(digits[Int(byte >> 4)])
                token.append(digits[Int(byte & 0x0F)])
            }
        }
        text.append(String(decoding: token, as: UTF8.self))
    }

    /// A snippet of `text` around its first word matching a word of `query` as a prefix,
    /// matches in brackets, at most `width` words, with `…` where text was left out:
    /// what FTS5's `snippet()` gives for the clear index.
    static func snippet(_ text: String, query: String, width: Int = 12) -> String {
        let wanted = words(query).map { String($0.prefix(longestPrefix)) }
        let pieces = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        // The text is folded once (folding keeps its spaces, so its pieces are the text's); piece by piece only if not.
        let foldedText = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        var folded = foldedText.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if folded.count != pieces.count { folded = pieces.map { $0.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil) } }
        func matches(_ index: Int) -> Bool {
            folded[index].split { !($0.isLetter || $0.isNumber) }.contains { word in wanted.contains { word.hasPrefix($0) } }
        }
        let first = pieces.indices.first(where: matches) ?? 0
        let start = max(0, min(first - width / 4, pieces.count - width))
        let end = min(pieces.count, start + width)
        var shown = (start..<end).map { matches($0) ? "[\(pieces[$0])]" : pieces[$0] }.joined(separator: " ")
        if start > 0 { shown = "…" + shown }
        if end < pieces.count { shown += "…" }
        return shown
    }
}
