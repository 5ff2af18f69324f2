import Foundation
import OxpeckerProtocol
import OxpeckerStore

/// Figure 4 (issue 3): encoding and decoding changes through the protocol layer,
/// as a push does, against Foundation's `JSONEncoder`/`JSONDecoder` on a plain
/// `Codable` struct with the same fields.
///
/// Both sides turn the same 100k profile field changes into pages of 500 (a
/// `PushRequest` each: ``WireCodec/encode(_:)`` to canonical bytes, then
/// ``WireCodec/decode(_:from:)`` with the standard limits and every rule of the
/// spec), and back. The baseline checks nothing but the JSON types. Runs alternate
/// which side goes first, as the write benchmark does.
struct CodecBenchmark {
    /// The baseline: the same members as a change on the wire, as plain values.
    struct PlainChange: Codable, Equatable {
        var replica: String
        var number: Int64
        var hlc: String
        var customer: String
        var entity: String
        var field: String?
        var record: String?
        var kind: String
        var value: String
        var observed: [String]?
        var schemaVersion: Int

        enum CodingKeys: String, CodingKey {
            case replica, number, hlc, customer, entity, field, record, kind, value, observed
            case schemaVersion = "schema_version"
        }
    }

    /// The baseline's page: a push request's members.
    struct PlainPush: Codable {
        var replica: String
        var changes: [PlainChange]
    }

    struct Result {
        let protocolLayer: Samples
        let foundation: Samples
        let changes: Int
        let pageSize: Int
        let bytes: Int
        let baselineBytes: Int
    }

    let replica: ReplicaID
    let pages: [[Change]]
    let plainPages: [[PlainChange]]
    let pageSize: Int

    init(changeCount: Int, pageSize: Int) throws {
        var rng = SeededGenerator(seed: 11)
        let replica = ReplicaID(unchecked: "r-bench-0001")
        var changes: [Change] = []
        changes.reserveCapacity(changeCount)
        var customer = 0
        let wall: Int64 = 1_764_000_000_000
        while changes.count < changeCount {
            let id = Workload.customerID(customer)
            for (field, value) in Workload.fieldChanges(using: &rng) where changes.count < changeCount {
                let number = Int64(changes.count + 1)
                let stamp = try HybridTimestamp(wallMillis: wall + number / 7, counter: UInt32(number % 7), replica: replica)
                changes.append(
                    Change(
                        replica: replica, number: number, hlc: stamp, customer: id, entity: .profile, field: field.name,
                        record: nil, kind: field.kind, value: value))
            }
            customer += 1
        }
        self.replica = replica
        self.pageSize = pageSize
        pages = stride(from: 0, to: changes.count, by: pageSize).map { Array(changes[$0..<min($0 + pageSize, changes.count)]) }
        plainPages = pages.map { page in
            page.map { change in
                PlainChange(
                    replica: change.replica.rawValue, number: change.number, hlc: change.hlc.description,
                    customer: change.customer.rawValue, entity: change.entity.rawValue, field: change.field,
                    record: change.record?.rawValue, kind: change.kind.rawValue, value: change.value.stringValue ?? "",
                    observed: change.observed.isEmpty ? nil : change.observed.map(\.description),
                    schemaVersion: change.schemaVersion)
            }
        }
    }

    func run(runs: Int, progress: (String) -> Void) throws -> Result {
        // Both sides must round-trip before they are timed.
        let (bytes, decoded) = try protocolRoundTrip()
        guard decoded == pages.flatMap({ $0 }) else { throw BenchmarkError.check("protocol round trip changed the changes") }
        let (baselineBytes, plainDecoded) = try foundationRoundTrip()
        guard plainDecoded == plainPages.flatMap({ $0 }) else { throw BenchmarkError.check("Foundation round trip changed the changes") }
        var protocolLayer = Samples()
        var foundation = Samples()
        for index in 0..<runs {
            func measureProtocol() throws { protocolLayer.startRun(); protocolLayer.add(try timed { try protocolRoundTrip() }.1) }
            func measureFoundation() throws { foundation.startRun(); foundation.add(try timed { try foundationRoundTrip() }.1) }
            if index % 2 == 0 {
                try measureProtocol()
                try measureFoundation()
            } else {
                try measureFoundation()
                try measureProtocol()
            }
            progress(
                "  run \(index + 1)/\(runs): protocol \(formatDuration(protocolLayer.runs.last![0])), "
                    + "Foundation \(formatDuration(foundation.runs.last![0]))")
        }
        return Result(
            protocolLayer: protocolLayer, foundation: foundation, changes: pages.reduce(0) { $0 + $1.count }, pageSize: pageSize,
            bytes: bytes, baselineBytes: baselineBytes)
    }

    /// Encodes every page as a push request and decodes it again; returns the bytes written and the changes read.
    private func protocolRoundTrip() throws -> (Int, [Change]) {
        let codec = WireCodec()
        var bytes = 0
        var decoded: [Change] = []
        decoded.reserveCapacity(pages.count * pageSize)
        for page in pages {
            let body = codec.encode(PushRequest(replica: replica, changes: page))
            bytes += body.count
            decoded += try codec.decode(PushRequest.self, from: body).changes
        }
        return (bytes, decoded)
    }

    /// The same with Foundation's coders on the plain struct.
    private func foundationRoundTrip() throws -> (Int, [PlainChange]) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let decoder = JSONDecoder()
        var bytes = 0
        var decoded: [PlainChange] = []
        decoded.reserveCapacity(plainPages.count * pageSize)
        for page in plainPages {
            let body = try encoder.encode(PlainPush(replica: replica.rawValue, changes: page))
            bytes += body.count
            decoded += try decoder.decode(PlainPush.self, from: body).changes
        }
        return (bytes, decoded)
    }
}

extension Report {
    mutating func addCodec(_ result: CodecBenchmark.Result) {
        let ours = result.protocolLayer.median, baseline = result.foundation.median
        let (low, high) = result.protocolLayer.range
        let ratio = ours / baseline
        let perChange = { (seconds: Double) in format(seconds / Double(result.changes) * 1e6, digits: 2) + " µs/change" }
        rows.append(
            Row(
                figure: "Encode + decode \(result.changes / 1000)k changes (push pages of \(result.pageSize))",
                median: "\(formatDuration(ours)) (\(perChange(ours)))", range: "\(formatDuration(low))–\(formatDuration(high))",
                baseline: "Foundation JSONEncoder/JSONDecoder \(formatDuration(baseline)) (\(perChange(baseline)))",
                ratio: format(ratio, digits: 2) + "×", goal: "≤ 1.25×", met: ratio <= 1.25 ? "yes" : "no"))
        let (baseLow, baseHigh) = result.foundation.range
        details.append(
            "Codec: \(result.protocolLayer.runs.count) runs each, interleaved; protocol layer = `WireCodec.encode(PushRequest)` "
                + "(canonical JSON) then `WireCodec.decode(PushRequest.self, from:)` (strict parse, limits, every field validated), "
                + "\(result.bytes / 1024) KiB per pass; baseline = `JSONEncoder` (sorted keys) and `JSONDecoder` on a plain Codable "
                + "struct with the same members (no validation), \(result.baselineBytes / 1024) KiB per pass, range "
                + "\(formatDuration(baseLow))–\(formatDuration(baseHigh)); values are profile field changes (strings)")
    }
}
