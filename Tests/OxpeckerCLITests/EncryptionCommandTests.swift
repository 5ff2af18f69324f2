import Foundation
import Testing

/// `oxpecker init --encrypted` and the key on every later command, as a person types them.
@Suite("CLI encrypted stores")
struct EncryptionCommandTests {
    @Test("init --encrypted --key-file writes a 0600 key and an encrypted store; every command works with the key and none without")
    func encryptedStore() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        let key = folder.path("store.key")
        let made = try await cli.ok(["init", "--encrypted", "--key-file", key])
        #expect(made.stderr.contains("wrote a new store key") && made.lines.count == 1)
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        try await cli.ok(["customer", "add", "c-1", "--legal-name", "Jana Nováková", "--stage", "prospect", "--key-file", key])
        try await cli.ok(["note", "add", "c-1", "--text", "Hypotéka na chalupu", "--author", "a-1", "--channel", "branch", "--key-file", key])
        #expect(try await cli.ok(["show", "c-1", "--key-file", key]).stdout.contains("Jana Nováková"))
        #expect(try await cli.run(["search", "chalup"], environment: ["OXPECKER_STORE_KEY_FILE": key]).stdout.contains("[chalupu]"))

        let missing = try await cli.run(["show", "c-1"])
        #expect(missing.status == 9 && missing.stderr.contains("encrypted store: give its key"))
        let wrong = try await cli.run(["show", "c-1"], environment: ["OXPECKER_STORE_KEY": String(repeating: "ab", count: 32)])
        #expect(wrong.status == 9 && wrong.stderr.contains("not the key of"))
        let two = try await cli.run(["show", "c-1", "--key-file", key], environment: ["OXPECKER_STORE_PASSPHRASE": "a long enough passphrase"])
        #expect(two.status == 2 && two.stderr.contains("give one store key"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        let open = try await cli.run(["show", "c-1", "--key-file", key])
        #expect(open.status == 9 && open.stderr.contains("chmod 600"))

        for suffix in ["", "-wal", "-shm"] {
            let bytes = FileManager.default.contents(atPath: folder.path("test.oxpecker") + suffix) ?? Data()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("Nováková") && !text.contains("chalupu"), "clear text in test.oxpecker\(suffix)")
        }
    }

    @Test("init --encrypted with no key, or a key for a plain store, is a usage error and makes no file")
    func initMistakes() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        let noKey = try await cli.run(["init", "--encrypted"])
        #expect(noKey.status == 2 && noKey.stderr.contains("an encrypted store needs a key"))
        let plainWithKey = try await cli.run(["init"], environment: ["OXPECKER_STORE_KEY": String(repeating: "ab", count: 32)])
        #expect(plainWithKey.status == 2 && plainWithKey.stderr.contains("add --encrypted"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("test.oxpecker")))
    }

    @Test("encrypt a plain store in place, then rekey it: each key opens it while it is the store's, and the data stays")
    func encryptAndRekey() async throws {
        let folder = try TemporaryFolder()
        let cli = folder.oxpecker()
        try await cli.ok(["init"])
        try await cli.ok(["customer", "add", "c-1", "--legal-name", "Jana Nováková"])
        let first = folder.path("first.key")
        try await cli.ok(["encrypt", "--key-file", first])
        #expect(try await cli.run(["show", "c-1"]).status == 9)
        #expect(try await cli.ok(["show", "c-1", "--key-file", first]).stdout.contains("Jana Nováková"))
        let second = folder.path("second.key")
        try await cli.ok(["rekey", "--key-file", first, "--new-key-file", second])
        #expect(try await cli.run(["show", "c-1", "--key-file", first]).status == 9)
        #expect(try await cli.ok(["show", "c-1", "--key-file", second]).stdout.contains("Jana Nováková"))
        let again = try await cli.run(["encrypt", "--key-file", second])
        #expect(again.status == 9 && again.stderr.contains("encrypted already"))
        let bytes = FileManager.default.contents(atPath: folder.path("test.oxpecker")) ?? Data()
        #expect(!String(decoding: bytes, as: UTF8.self).contains("Nováková"))
    }
}
