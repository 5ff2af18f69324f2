import Crypto
import Foundation
import NIOConcurrencyHelpers
import OxpeckerProtocol

/// Seals the cursors and page tokens the server hands out, so that only the
/// server makes them and only the token they were made for can use them.
///
/// A cursor names a subscription and may name a customer being sent (see
/// ``FeedCursor``); unsealed, a device could write one of its own and ask about
/// a customer it never saw (whether it was erased, say). Sealed, the text goes
/// out as `<cursor>.<seal>`, the seal being an HMAC-SHA-256 (128 bits, base64url)
/// of the cursor and the token id under the storage's cursor key
/// (``ServerStorage/cursorKey()``, the same for every instance). A cursor with
/// a wrong or missing seal, another token's, or an edited one, is refused with
/// `cursor_expired` before the storage reads anything: the device bootstraps
/// again, as it would for any cursor the server does not know.
///
/// Backends never see a seal: the HTTP layer seals what they answer and opens
/// what devices send.
///
/// ```swift
/// let seal = CursorSeal(storage: storage)
/// let out = try await seal.seal(page.nextCursor, for: device)      // sent to the device
/// let back = try await seal.open(out, for: device)                 // == page.nextCursor
/// ```
final class CursorSeal: Sendable {
    private let storage: any ServerStorage
    /// The storage's key, read at the first cursor (a storage that does not answer yet fails that request only).
    private let key = NIOLockedValueBox<SymmetricKey?>(nil)
    /// Characters of the seal: 16 bytes in base64url without padding.
    static let sealCharacters = 22

    init(storage: any ServerStorage) {
        self.storage = storage
    }

    /// `cursor` as the device receives it: sealed for `device`.
    func seal(_ cursor: SyncCursor, for device: DeviceIdentity) async throws -> SyncCursor {
        let text = cursor.rawValue + "." + Self.mac(of: cursor.rawValue, for: device, key: try await loadKey())
        guard let sealed = SyncCursor(text) else {
            // Every cursor a backend makes is far below the protocol's 512 characters.
            throw ServerError(.internalError, "a cursor of \(text.utf8.count) characters is too long to send")
        }
        return sealed
    }

    /// The cursor `sealed` stands for, if this server sealed it for `device`; `cursor_expired` otherwise.
    func open(_ sealed: SyncCursor, for device: DeviceIdentity) async throws -> SyncCursor {
        let text = sealed.rawValue
        // One answer for every bad cursor, whatever it names: it must not tell them apart.
        let expired = ServerError(.cursorExpired, "this server did not make this cursor for this device's token; bootstrap again")
        guard let dot = text.lastIndex(of: "."), let cursor = SyncCursor(String(text[..<dot])) else { throw expired }
        let expected = Self.mac(of: cursor.rawValue, for: device, key: try await loadKey())
        guard Self.constantTimeEqual(Array(text[text.index(after: dot)...].utf8), Array(expected.utf8)) else { throw expired }
        return cursor
    }

    private func loadKey() async throws -> SymmetricKey {
        if let loaded = key.withLockedValue({ $0 }) { return loaded }
        let loaded = SymmetricKey(data: try await storage.cursorKey())
        key.withLockedValue { $0 = loaded }
        return loaded
    }

    /// A new key, as the backends store it: 32 random bytes in lowercase hex.
    static func newKeyHex() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }

    /// The key a backend stored (``newKeyHex()``), or an error if it has none or a damaged one.
    static func key(hex: String?) throws -> [UInt8] {
        let digits = Array((hex ?? "").utf8)
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count - 1, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { break }
            bytes.append(byte)
        }
        guard digits.count == 64, bytes.count == 32 else {
            throw ServerError(.internalError, "the storage has no readable cursor key; it was not made by this server's migrations")
        }
        return bytes
    }

    static func mac(of cursor: String, for device: DeviceIdentity, key: SymmetricKey) -> String {
        // A cursor holds no newline: the message splits into token id and cursor one way only.
        let code = HMAC<SHA256>.authenticationCode(for: Data((device.tokenID + "\n" + cursor).utf8), using: key)
        return Data(Array(code).prefix(16)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
