import Foundation
import Testing
@testable import OxpeckerProtocol

@Suite("Protocol/ documents and golden vectors")
struct VectorTests {
    static let validVectors = Repository.files(in: "vectors/valid")
    static let invalidVectors = Repository.files(in: "vectors/invalid")

    @Test("every message type has a schema, a valid vector and an invalid vector")
    func everyMessageIsCovered() {
        let schemas = Set(Repository.files(in: "schema", suffix: ".schema.json"))
        for type in WireCatalog.messageTypes {
            let name = type.wireName
            #expect(schemas.contains("\(name).schema.json"), "no schema for \(name)")
            #expect(Self.validVectors.contains { $0.hasPrefix(name + ".") }, "no valid vector for \(name)")
            #expect(Self.invalidVectors.contains { $0.hasPrefix(name + ".") }, "no invalid vector for \(name)")
        }
    }

    @Test("every schema and vector belongs to a message type")
    func noOrphans() {
        let names = Set(WireCatalog.messageTypes.map { $0.wireName })
        for file in Repository.files(in: "schema", suffix: ".schema.json") where file != "common.schema.json" {
            #expect(names.contains(String(file.dropLast(".schema.json".count))), "\(file) has no Swift type")
        }
        for file in Self.validVectors + Self.invalidVectors {
            #expect(names.contains(String(file.prefix { $0 != "." })), "\(file) names no message")
        }
    }

    @Test("every merge kind and every entity appears in a valid vector")
    func everyKindIsCovered() throws {
        var kinds = Set<String>(), entities = Set<String>()
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if let kind = members["kind"]?.stringValue, members["hlc"] != nil { kinds.insert(kind) }
                if let entity = members["entity"]?.stringValue, members["hlc"] != nil { entities.insert(entity) }
                members.values.forEach(collect)
            case .array(let elements):
                elements.forEach(collect)
            default:
                break
            }
        }
        for file in Self.validVectors { collect(try JSONValue(parsing: try Repository.bytes("vectors/valid/" + file))) }
        for kind in MergeKind.allCases { #expect(kinds.contains(kind.rawValue), "no vector uses kind \(kind.rawValue)") }
        let covered = Entity.allCases.filter { entities.contains($0.rawValue) }
        #expect(covered.count >= 5, "vectors cover only \(covered)")
    }

    @Test("a valid vector decodes and encodes back to the same bytes", arguments: validVectors)
    func validVectorRoundTrips(file: String) throws {
        let bytes = try Repository.bytes("vectors/valid/" + file)
        #expect(bytes.last == UInt8(ascii: "\n"), "\(file) must end with one newline")
        let body = Array(bytes.dropLast())
        let name = String(file.prefix { $0 != "." })
        let encoded = try WireCatalog.canonicalize(body, as: name)
        #expect(String(decoding: encoded, as: UTF8.self) == String(decoding: body, as: UTF8.self))
    }

    @Test("an invalid vector is refused with its documented code", arguments: invalidVectors)
    func invalidVectorIsRefused(file: String) throws {
        let wrapper = try JSONValue(parsing: try Repository.bytes("vectors/invalid/" + file), maximumDepth: 64)
        let name = try #require(wrapper["message"]?.stringValue)
        let expected = try #require(wrapper["error"]?.stringValue)
        #expect(ErrorCode(rawValue: expected)?.isKnown == true, "\(expected) is not a documented code")
        let body: [UInt8]
        if let text = wrapper["text"]?.stringValue {
            body = Array(text.utf8)
        } else {
            body = Array(try #require(wrapper["body"]).canonicalText.utf8)
        }
        var limits = WireLimits.standard
        for (key, value) in wrapper["limits"]?.objectValue ?? [:] {
            let path = try #require(WireLimits.wireKeys.first { $0.0 == key }?.1, "unknown limit \(key)")
            limits[keyPath: path] = Int(try #require(value.integerValue))
        }
        do {
            let encoded = try WireCatalog.canonicalize(body, as: name, codec: WireCodec(limits: limits))
            Issue.record("\(file) was accepted: \(String(decoding: encoded, as: UTF8.self))")
        } catch {
            #expect(error.code.rawValue == expected, "\(file): \(error)")
        }
    }

    @Test("the spec's error table lists every code with its status and use")
    func errorTableMatchesCatalog() throws {
        let readme = String(decoding: try Repository.bytes("README.md"), as: UTF8.self)
        for entry in ErrorCode.catalog {
            let row = "| `\(entry.code.rawValue)` | \(entry.httpStatus) | \(entry.use.rawValue) | \(entry.summary)"
            #expect(readme.contains(row), "README.md lacks the row: \(row)")
        }
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| `") && $0.contains(" | message | ") || $0.contains(" | change | ") }
        #expect(rows.count == ErrorCode.catalog.count, "README.md documents \(rows.count) codes, the catalog \(ErrorCode.catalog.count)")
    }

    @Test("the handshake limits in the spec are the standard limits")
    func helloVectorAnnouncesStandardLimits() throws {
        let body = Array(try Repository.bytes("vectors/valid/hello_response.basic.json").dropLast())
        let hello = try WireCodec().decode(HelloResponse.self, from: body)
        #expect(hello.limits == .standard)
    }
}
