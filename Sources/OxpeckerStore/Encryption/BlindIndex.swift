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
    static func body(_ text: String, key: SymmetricKey) -> String {
        var tokens: [String] = []
        for word in words(text) {
            let characters = Array(word)
            for length in 1...min(characters.count, longestPrefix) {
                tokens.append(token(String(characters[0..<length]), key: key))
            }
        }
        return tokens.joined(separator: " ")
    }

    /// The FTS5 pattern matching documents that hold a prefix match of every word of `query`; nil if it has none.
    static func pattern(_ query: String, key: SymmetricKey) -> String? {
        let tokens = words(query).map { token(String($0.prefix(longestPrefix)), key: key) }
        return tokens.isEmpty ? nil : tokens.joined(separator: " AND ")
    }

    private static func token(_ prefix: String, key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(prefix.utf8), using: key)
        return "k" + Data(mac).prefix(10).map { String(format: "%02x", $0) }.joined()
    }

    /// A snippet of `text` around its first word matching a word of `query` as a prefix,
    /// matches in brackets, at most `width` words, with `…` where text was left out:
    /// what FTS5's `snippet()` gives for the clear index.
    static func snippet(_ text: String, query: String, width: Int = 12) -> String {
        let wanted = words(query)
        let pieces = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        func matches(_ piece: String) -> Bool {
            words(piece).contains { word in wanted.contains { word.hasPrefix(String($0.prefix(longestPrefix))) } }
        }
        let first = pieces.firstIndex(where: matches) ?? 0
        let start = max(0, min(first - width / 4, pieces.count - width))
        let end = min(pieces.count, start + width)
        var shown = pieces[start..<end].map { matches($0) ? "[\($0)]" : $0 }.joined(separator: " ")
        if start > 0 { shown = "…" + shown }
        if end < pieces.count { shown += "…" }
        return shown
    }
}
