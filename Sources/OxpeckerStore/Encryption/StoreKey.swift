import Crypto
import Foundation

/// The key of an encrypted store: 32 random bytes (from a key file or an
/// environment variable), or a passphrase stretched by scrypt with the store's
/// own salt when the store is opened.
///
/// Losing it loses the store's personal data: nothing can read it back.
public struct StoreKey: Sendable {
    enum Material: Sendable {
        case key(SymmetricKey)
        case passphrase(String)
    }

    let material: Material

    /// The environment variable the command-line tools read a key from (base64 or hex of 32 bytes).
    public static let environmentVariable = "OXPECKER_STORE_KEY"
    /// The environment variable the command-line tools read a passphrase from.
    public static let passphraseVariable = "OXPECKER_STORE_PASSPHRASE"

    /// A new random key.
    public static func generate() -> StoreKey {
        StoreKey(material: .key(SymmetricKey(size: .bits256)))
    }

    /// A key written as text: 64 hexadecimal digits or the base64 of 32 bytes.
    public static func encoded(_ text: String) throws -> StoreKey {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let bytes = Self.hexBytes(text) ?? Data(base64Encoded: text), bytes.count == 32 {
            return StoreKey(material: .key(SymmetricKey(data: bytes)))
        }
        throw StoreError.keyUnusable(reason: "a store key is 32 bytes written as 64 hexadecimal digits or in base64 (\(text.count) characters given)")
    }

    /// A passphrase; the key is derived from it with scrypt and the store's salt.
    public static func passphrase(_ passphrase: String) throws -> StoreKey {
        guard passphrase.count >= 12 else {
            throw StoreError.keyUnusable(reason: "a passphrase must be at least 12 characters long")
        }
        return StoreKey(material: .passphrase(passphrase))
    }

    /// The key in the file at `path`, which only its owner may read or write (mode 0600 or 0400).
    public static func keyFile(_ path: String) throws -> StoreKey {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw StoreError.keyUnusable(reason: "no key file at '\(path)'")
        }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0
        guard mode & 0o077 == 0 else {
            throw StoreError.keyUnusable(
                reason: "the key file '\(path)' may be read by others (mode \(String(mode, radix: 8))): run chmod 600 '\(path)'")
        }
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw StoreError.keyUnusable(reason: "the key file '\(path)' cannot be read")
        }
        return try encoded(text)
    }

    /// Writes this key (hexadecimal) to a new file at `path`, readable by its owner only.
    /// Refuses a passphrase and an existing file.
    public func writeKeyFile(to path: String) throws {
        guard case .key(let key) = material else { throw StoreError.keyUnusable(reason: "a passphrase is not written to a file") }
        let text = key.withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined() + "\n"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw StoreError.keyUnusable(reason: "cannot create the key file '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, text.utf8.count) }
        guard written == text.utf8.count, fsync(descriptor) == 0 else {
            throw StoreError.keyUnusable(reason: "cannot write the key file '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    private static func hexBytes(_ text: String) -> Data? {
        guard text.count == 64 else { return nil }
        var bytes = Data(capacity: 32)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
