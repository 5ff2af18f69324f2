import Foundation
import Testing
@testable import OxpeckerProtocol

@Suite("The wire codec: limits, unknown values from newer peers, versions")
struct CodecTests {
    let codec = WireCodec()

    @Test("a push of 500 changes is accepted and one of 501 is refused with too_many_changes")
    func pushLimit() throws {
        let full = PushRequest(replica: Build.replica, changes: (1...500).map { Build.change($0) })
        let decoded = try codec.decode(PushRequest.self, from: codec.encode(full))
        #expect(decoded == full)
        let over = PushRequest(replica: Build.replica, changes: (1...501).map { Build.change($0) })
        #expect(Build.decodeError(PushRequest.self, codec.encodeText(over))?.code == .tooManyChanges)
    }

    @Test("a body over the byte limit is refused before it is parsed")
    func bodyLimit() {
        let body = [UInt8](repeating: UInt8(ascii: "["), count: WireLimits.standard.maximumBodyBytes + 1)
        #expect(throws: WireError.self) { try codec.decode(PushRequest.self, from: body) }
        #expect(Build.decodeError(PushRequest.self, String(decoding: body, as: UTF8.self))?.code == .bodyTooLarge)
    }

    @Test("note text of 20000 characters passes and one more is refused")
    func noteLimit() {
        let ok = PushRequest(replica: Build.replica, changes: [Build.change(1, text: String(repeating: "ž", count: 20_000))])
        #expect(Build.decodeError(PushRequest.self, codec.encodeText(ok)) == nil)
        let long = PushRequest(replica: Build.replica, changes: [Build.change(1, text: String(repeating: "ž", count: 20_001))])
        let error = Build.decodeError(PushRequest.self, codec.encodeText(long))
        #expect(error?.code == .stringTooLong)
        #expect(error?.pointer == "/changes/0/value")
    }

    @Test(
        "an error names its spot as a JSON Pointer: array element, member, nested key with / and ~ escaped",
        arguments: [
            ("hlc", JSONValue.string("not a stamp"), "/changes/1/hlc", ErrorCode.invalidTimestamp),
            ("bogus", JSONValue.integer(1), "/changes/1/bogus", ErrorCode.unknownField),
            ("field", JSONValue.string("Not Snake"), "/changes/1/field", ErrorCode.invalidValue),
            ("value", JSONValue.object(["a/b~c": .string(String(repeating: "x", count: WireLimits.standard.maximumStringCharacters + 1))]),
             "/changes/1/value/a~1b~0c", ErrorCode.stringTooLong),
            ("value", JSONValue.array([.null, .string(String(repeating: "x", count: WireLimits.standard.maximumStringCharacters + 1))]),
             "/changes/1/value/1", ErrorCode.stringTooLong),
        ])
    func errorPointers(member: String, value: JSONValue, pointer: String, code: ErrorCode) {
        var broken = Build.change(2).wireJSON.objectValue!
        broken[member] = value
        let body = JSONValue.object([
            "changes": [Build.change(1).wireJSON, .object(broken)], "purges": [], "next_cursor": "log.8", "has_more": false,
        ])
        let error = Build.decodeError(PullResponse.self, body.canonicalText)
        #expect(error?.code == code)
        #expect(error?.pointer == pointer)
    }

    @Test("a missing member is named where it should be")
    func missingMemberPointer() {
        var broken = Build.change(1).wireJSON.objectValue!
        broken["customer"] = nil
        let body = JSONValue.object(["replica": .string(Build.replica.rawValue), "changes": [.object(broken)]])
        let error = Build.decodeError(PushRequest.self, body.canonicalText)
        #expect(error?.code == .missingField)
        #expect(error?.pointer == "/changes/0/customer")
    }

    @Test("an unknown merge kind in a push is kept for a per-change rejection, not a failed message")
    func unknownKindInPush() throws {
        var newer = Build.change(2).wireJSON.objectValue!
        newer["kind"] = "multi_value_register"
        let body = JSONValue.object(["replica": .string(Build.replica.rawValue), "changes": [Build.change(1).wireJSON, .object(newer)]])
        let push = try codec.decode(PushRequest.self, from: body.canonicalText)
        #expect(push.changes == [Build.change(1)])
        #expect(push.items.unsupported.map(\.number) == [2])
        #expect(push.items.unsupported.first?.kind == "multi_value_register")
        #expect(codec.encodeText(push) == body.canonicalText)
    }

    @Test("an unknown entity in a pull is kept verbatim and the page still decodes")
    func unknownEntityInPull() throws {
        var newer = Build.change(7).wireJSON.objectValue!
        newer["entity"] = "wallet_pass"
        let body = JSONValue.object([
            "changes": [.object(newer), Build.change(8).wireJSON], "purges": [], "next_cursor": "log.8", "has_more": false,
        ])
        let page = try codec.decode(PullResponse.self, from: body.canonicalText)
        #expect(page.items.count == 2 && page.changes == [Build.change(8)])
        #expect(page.items.unsupported.first?.json == .object(newer))
        #expect(codec.encodeText(page) == body.canonicalText)
    }

    @Test("unknown outcomes, purge reasons and error codes decode and are marked unknown")
    func openEnumerations() throws {
        let response = try codec.decode(PushResponse.self, from: #"{"acknowledged_through":0,"results":[{"number":1,"outcome":"deferred"}]}"#)
        #expect(response.results[0].outcome.isKnown == false && response.results[0].outcome.isAcknowledged == false)
        let notice = try codec.decode(PurgeNotice.self, from: #"{"at":"2026-01-01T00:00:00.000Z","customer":"c-1","reason":"branch_closed"}"#)
        #expect(notice.reason.isKnown == false)
        let envelope = try codec.decode(ErrorEnvelope.self, from: #"{"code":"quota_exceeded","message":"m","request_id":"q-1"}"#)
        #expect(envelope.code.isKnown == false && envelope.httpStatus == 400)
    }

    @Test("a malformed enum value is refused even though unknown ones are not")
    func malformedEnumValue() {
        #expect(Build.decodeError(PushResponse.self, #"{"acknowledged_through":0,"results":[{"number":1,"outcome":"Accepted"}]}"#)?.code == .invalidValue)
    }

    @Test("every message decoded from arbitrary bytes fails with a wire error, never a crash", arguments: [UInt64(21), 22, 23])
    func fuzz(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let seeds = try VectorTests.validVectors.map { Array(try Repository.bytes("vectors/valid/" + $0).dropLast()) }
        for _ in 0..<3_000 {
            var body = seeds.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...4, using: &random) where !body.isEmpty {
                let index = Int.random(in: 0..<body.count, using: &random)
                switch Int.random(in: 0...2, using: &random) {
                case 0: body[index] = UInt8.random(in: 0...255, using: &random)
                case 1: body.remove(at: index)
                default: body.insert(Array(#"{}[]",:0-9.e"\"#.utf8).randomElement(using: &random)!, at: index)
                }
            }
            let type = WireCatalog.messageTypes.randomElement(using: &random)!
            do {
                let encoded = try WireCatalog.canonicalize(body, as: type.wireName)
                // Whatever is accepted must be canonical once re-encoded.
                #expect(try WireCatalog.canonicalize(encoded, as: type.wireName) == encoded)
            } catch {
                #expect(error.code.isKnown)
            }
        }
    }

    @Test("encoding is deterministic: equal messages give equal bytes")
    func deterministic() throws {
        let page = PullResponse(changes: (1...50).map { Build.change($0) }, nextCursor: SyncCursor("c.50")!, hasMore: true)
        let first = codec.encode(page)
        for _ in 0..<5 { #expect(codec.encode(try codec.decode(PullResponse.self, from: first)) == first) }
    }

    @Test("the wire form of a change equals its Codable form, so the store and the wire agree")
    func wireMatchesCodable() throws {
        let change = Change(
            replica: "r-1", number: 3, hlc: Build.stamp(5, 1, "r-1"), customer: "c-9", entity: .consent, field: "marketing",
            record: "ce-1", kind: .consent, value: ["status": "granted"], observed: [Build.stamp(4, 0, "r-2")])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let viaCodable = try JSONValue(parsing: Array(encoder.encode(change)))
        #expect(viaCodable == change.wireJSON)
        #expect(try WireCodec().decode(Change.self, from: change.wireJSON.canonicalText) == change)
    }

    @Test("a server answers its own and the previous version and refuses the others with the right code")
    func versions() {
        let supported = VersionRange(minimum: 1, maximum: 2)
        #expect(ProtocolVersion.check(2, supported: supported) == nil)
        #expect(ProtocolVersion.check(1, supported: supported) == nil)
        #expect(ProtocolVersion.check(0, supported: supported)?.code == .upgradeRequired)
        #expect(ProtocolVersion.check(nil, supported: supported)?.code == .upgradeRequired)
        #expect(ProtocolVersion.check(3, supported: supported)?.code == .versionUnsupported)
        let envelope = ProtocolVersion.check(3, supported: supported)!.envelope(requestID: "q-1", clientVersion: 3)
        #expect(envelope.supportedVersions == supported && envelope.httpStatus == 400)
        #expect(ProtocolVersion.check(ProtocolVersion.current) == nil)
    }

    @Test("a wire error becomes an envelope that round trips")
    func envelopeFromError() throws {
        let error = try #require(Build.decodeError(PullRequest.self, #"{"limit":0}"#))
        #expect(error.code == .invalidValue && error.pointer == "/limit")
        let envelope = error.envelope(requestID: "req-1")
        #expect(try codec.decode(ErrorEnvelope.self, from: codec.encode(envelope)) == envelope)
    }

    @Test("every catalogued code is a well-formed token, listed once")
    func catalog() {
        let codes = ErrorCode.catalog.map(\.code.rawValue)
        #expect(Set(codes).count == codes.count)
        #expect(codes.allSatisfy(WireTokenRule.accepts))
    }
}
