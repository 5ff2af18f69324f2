import OxpeckerProtocol
import OxpeckerSync

/// Reads the server's whole change log through `POST /v1/pull` (the devices'
/// own endpoint, with the run's token) and counts each device's changes in it:
/// the evidence that nothing was lost and nothing duplicated.
struct LogAudit {
    /// How many times each (replica, number) appears in the log.
    private(set) var occurrences: [ReplicaID: [Int64: Int]] = [:]
    private(set) var total = 0

    static func read(server: String, token: String, transport: any SyncTransport) async throws -> LogAudit {
        var audit = LogAudit()
        var limits = WireLimits.standard
        limits.maximumBodyBytes = 256 << 20
        let codec = WireCodec(limits: limits)
        var cursor: SyncCursor?
        while true {
            let body = WireCodec().encode(PullRequest(after: cursor, limit: WireLimits.standard.maximumChangesPerPull))
            let headers = [(ProtocolVersion.header, String(ProtocolVersion.current)), ("Authorization", "Bearer \(token)")]
            let response = try await transport.post(path: "/v1/pull", body: body, headers: headers.map { (name: $0.0, value: $0.1) })
            guard response.status == 200 else {
                throw LoadError.server("reading the log: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self).prefix(300))")
            }
            let page = try codec.decode(PullResponse.self, from: response.body)
            for item in page.items {
                audit.occurrences[item.replica, default: [:]][item.number, default: 0] += 1
                audit.total += 1
            }
            cursor = page.nextCursor
            if !page.hasMore { return audit }
        }
    }

    /// Compares the log with what each replica wrote: numbers 1…written, each once.
    func check(written: [ReplicaID: Int]) -> (lost: Int, duplicated: Int) {
        var lost = 0
        var duplicated = 0
        for (replica, count) in written {
            let seen = occurrences[replica] ?? [:]
            for number in 1...Int64(max(count, 1)) where count > 0 && seen[number] == nil { lost += 1 }
            duplicated += seen.values.reduce(0) { $0 + max(0, $1 - 1) }
            duplicated += seen.keys.filter { $0 < 1 || $0 > Int64(count) }.count
        }
        for (replica, seen) in occurrences where written[replica] == nil {
            duplicated += seen.values.reduce(0, +)
        }
        return (lost, duplicated)
    }
}
