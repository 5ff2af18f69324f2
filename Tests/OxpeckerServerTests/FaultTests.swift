import Foundation
import OxpeckerProtocol
import Testing

/// Faults on purpose, with the real executables: the server or the client
/// killed at random points, a proxy that delays, duplicates, reorders and
/// damages traffic, a device whose disk fills up. After each: a full sync
/// converges and nothing is lost or duplicated. Random points come from a
/// printed seed (`OXPECKER_FAULT_SEED` replays one).
@Suite("Faults on purpose", .serialized)
struct FaultTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["OXPECKER_FAULT_SEED"].flatMap { UInt64($0) }
        ?? UInt64.random(in: 1...1_000_000)

    /// Two devices with customers, notes and edits of their own, and a server.
    struct World {
        let server: SyncServerProcess
        let folder: ScratchFolder
        let a: DeviceCLI
        let b: DeviceCLI
        let tokenA: String
        let tokenB: String

        static func make(customersOnA: Int, customersOnB: Int) async throws -> World {
            let server = try await SyncServerProcess.start()
            let folder = try ScratchFolder()
            let (a, _) = try await DeviceCLI.create(in: folder, named: "a.oxpecker")
            let (b, _) = try await DeviceCLI.create(in: folder, named: "b.oxpecker")
            let world = World(
                server: server, folder: folder, a: a, b: b, tokenA: try await server.createToken(name: "laptop-a"),
                tokenB: try await server.createToken(name: "laptop-b"))
            try await world.importCustomers(on: a, named: "a", count: customersOnA)
            try await world.importCustomers(on: b, named: "b", count: customersOnB)
            return world
        }

        /// `count` customers of 5 changes each, in one import.
        func importCustomers(on device: DeviceCLI, named prefix: String, count: Int, from start: Int = 0) async throws {
            try await Self.importCustomers(on: device, in: folder, named: prefix, count: count, from: start)
        }

        static func importCustomers(on device: DeviceCLI, in folder: ScratchFolder, named prefix: String, count: Int, from start: Int = 0)
            async throws
        {
            let lines = (start..<start + count).map { index in
                JSONValue.object([
                    "id": .string("c-\(prefix)-\(index)"),
                    "fields": ["legal_name": .string("Customer \(prefix) \(index)"), "stage": "active"],
                    "sets": ["interests": ["sailing"], "scopes": ["branch:HN01"]],
                    "notes": [["text": .string("Note \(index) from \(prefix)"), "author": "a-417", "channel": "branch"]],
                ]).canonicalText
            }
            let file = "\(prefix)-\(start).ndjson"
            try (lines.joined(separator: "\n") + "\n").write(toFile: folder.path(file), atomically: true, encoding: .utf8)
            try await device.ok(["import", file, "--durability", "normal"])
        }

        /// Syncs A, B, A directly with the server; then both devices and the server hold the same state, and
        /// the server's log holds each device change exactly once.
        func expectConverged(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            try await a.sync(server, token: tokenA, sourceLocation: sourceLocation)
            try await b.sync(server, token: tokenB, sourceLocation: sourceLocation)
            try await a.sync(server, token: tokenA, sourceLocation: sourceLocation)
            #expect(try await a.outboxCount() == 0, sourceLocation: sourceLocation)
            #expect(try await b.outboxCount() == 0, sourceLocation: sourceLocation)
            let exportA = try await a.exportBytes()
            #expect(exportA == (try await b.exportBytes()), "A and B differ", sourceLocation: sourceLocation)
            #expect(exportA == (try await server.exportState()), "the devices differ from the server", sourceLocation: sourceLocation)
            let logged = try await server.loggedChanges(token: tokenA)
            let keys = logged.map { "\($0.replica.rawValue)#\($0.number)" }
            #expect(Set(keys).count == keys.count, "the log holds a change twice", sourceLocation: sourceLocation)
        }
    }

    @Test("through a proxy that delays, duplicates, replays stale pushes and damages answers: converged, each change logged once",
          .timeLimit(.minutes(5)))
    func faultyProxy() async throws {
        let seed = Self.seed
        print("faulty proxy: seed \(seed) (OXPECKER_FAULT_SEED=\(seed) replays it)")
        let world = try await World.make(customersOnA: 300, customersOnB: 200)
        defer { world.server.killNow() }
        let proxy = try FaultyProxy(upstream: world.server.url, seed: seed)
        try await proxy.run { url in
            // Rounds of offline edits and syncs through the proxy; a damaged answer fails a sync, which is run again.
            for round in 0..<3 {
                try await world.importCustomers(on: world.a, named: "a", count: 40, from: 1000 + round * 40)
                if round > 0 {  // both hold each other's customers after the first round
                    try await world.a.ok(["note", "add", "c-b-\(round)", "--text", "A's note \(round)", "--author", "a-1", "--channel", "phone"])
                    try await world.b.ok(["customer", "set", "c-a-\(round)", "stage", "dormant"])
                }
                for (device, token) in [(world.a, world.tokenA), (world.b, world.tokenB), (world.a, world.tokenA)] {
                    var attempts = 0
                    while true {
                        attempts += 1
                        let result = try await device.run(["sync", "--server", url, "--token", token, "--retry-for", "5", "--json"])
                        if result.succeeded { break }
                        // A damaged answer is a clear error, never a crash; the next sync picks up where this one stopped.
                        #expect(!result.signaled, "sync crashed: \(result.stderr)")
                        #expect(result.stderr.contains("error:"), "no clear error: \(result.stderr)")
                        try #require(attempts < 12, "sync through the proxy never succeeded: \(result.stderr)")
                    }
                }
            }
        }
        print("faulty proxy: \(proxy.tally)")
        #expect(proxy.tally.duplicated > 0 && proxy.tally.replayed > 0)
        try await world.expectConverged()
        try await world.server.stop()
    }

    @Test("SIGKILL of the server at random points of bootstrap and pull: after a restart, converged", .timeLimit(.minutes(5)))
    func serverKilledDuringBootstrapAndPull() async throws {
        var random = SplitMix(seed: Self.seed &+ 1)
        print("server kills: seed \(Self.seed)")
        let world = try await World.make(customersOnA: 3000, customersOnB: 0)
        defer { world.server.killNow() }
        try await world.a.sync(world.server, token: world.tokenA)

        // B bootstraps 3000 customers (several pages); A then edits, and B pulls. Each is cut by a kill.
        for phase in ["bootstrap", "pull"] {
            if phase == "pull" {
                try await world.importCustomers(on: world.a, named: "a", count: 3000, from: 3000)
                try await world.a.sync(world.server, token: world.tokenA)
            }
            let sync = try world.b.start(["sync", "--server", world.server.url, "--token", world.tokenB, "--retry-for", "1", "--max-attempts", "2"])
            let started = try await sync.waitForOutput(timeout: .seconds(60)) { _, stderr in stderr.contains("sync: ") }
            try #require(started, "no sync progress: \(sync.stderrSoFar)")
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...150, using: &random)))
            world.server.killNow()
            let cut = try await sync.wait()
            print("\(phase): killed the server; the sync \(cut.succeeded ? "had finished" : "failed with \(cut.status)")")
            if !cut.succeeded { #expect(cut.stderr.contains("error: cannot sync with"), "\(cut.stderr)") }
            try await world.server.restart()
        }
        try await world.expectConverged()
        try await world.server.stop()
    }

    @Test("SIGKILL of oxpecker sync while it applies pages: syncing again converges, nothing lost or applied twice",
          .timeLimit(.minutes(5)))
    func clientKilledDuringApply() async throws {
        var random = SplitMix(seed: Self.seed &+ 2)
        print("client kills: seed \(Self.seed)")
        let world = try await World.make(customersOnA: 3000, customersOnB: 50)
        defer { world.server.killNow() }
        try await world.a.sync(world.server, token: world.tokenA)
        for round in 0..<3 {
            if round == 2 {
                // The last cut lands in a pull rather than a bootstrap.
                try await world.importCustomers(on: world.a, named: "a", count: 2000, from: 3000)
                try await world.a.sync(world.server, token: world.tokenA)
            }
            let sync = try world.b.start(["sync", "--server", world.server.url, "--token", world.tokenB])
            let applying = try await sync.waitForOutput(timeout: .seconds(60)) { _, stderr in
                stderr.contains("sync: bootstrap,") || stderr.contains("sync: pulled")
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...100, using: &random)))
            sync.kill(SIGKILL)
            print("round \(round): killed oxpecker sync \(applying ? "while applying" : "before it applied anything")")
        }
        try await world.expectConverged()
        try await world.server.stop()
    }

    @Test("a full disk on the device: the write fails with a clear error and the store keeps everything committed before")
    func diskFull() async throws {
        let folder = try ScratchFolder()
        let (device, _) = try await DeviceCLI.create(in: folder, named: "d.oxpecker")
        try await World.importCustomers(on: device, in: folder, named: "d", count: 200)
        let before = try await device.exportBytes()
        let outbox = try await device.outboxCount()

        // The disk "fills up" at 40 KiB a file: every file the CLI writes is limited (RLIMIT_FSIZE; reads are not),
        // and a write past it fails with EFBIG (SIGXFSZ ignored), as on a full disk. A long note's transaction
        // needs more than that in the write-ahead log; the shared-memory index (32 KiB) still fits.
        let note = ["note", "add", "c-d-7", "--text", String(repeating: "€€€€€€€€€ ", count: 1900), "--author", "a-1", "--channel", "branch"]
        let full = try await ChildProcess(
            URL(fileURLWithPath: "/bin/bash"),
            ["-c", #"trap '' XFSZ; exec prlimit --fsize=$1 -- "$0" "${@:2}""#, BuiltProducts.oxpecker.path, String(40 << 10)]
                + note + ["--store", "d.oxpecker"],
            in: folder.url
        ).wait()
        #expect(!full.succeeded && !full.signaled, "the write should fail cleanly: \(full.status) \(full.stderr)")
        #expect(full.stderr.contains("error:") && full.stderr.lowercased().contains("full"), "no clear error: \(full.stderr)")

        // Nothing committed is lost, nothing half-written is there; the store works again once there is room.
        #expect(try await device.exportBytes() == before)
        #expect(try await device.outboxCount() == outbox)
        try await device.ok(note)
        #expect(try await device.outboxCount() == outbox + 1)
    }

    @Test("a truncated or corrupted body to the server: 400 with a code for what arrived, nothing applied; a cut connection applies nothing")
    func damagedRequestBodies() async throws {
        let server = try await SyncServerProcess.start()
        defer { server.killNow() }
        let token = try await server.createToken(name: "laptop")
        let body = Array(pushBody(try (1...20).map { try scopeChange($0, customer: CustomerID(unchecked: "c-\($0)")) }).utf8)
        let head = { (length: Int) in
            "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nOxpecker-Protocol: 1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(length)\r\nConnection: close\r\n\r\n"
        }
        var random = SplitMix(seed: Self.seed &+ 3)
        for _ in 0..<20 {
            // Truncated where it was cut (the length says so), or bytes flipped.
            var damaged = Array(body.prefix(Int.random(in: 0..<body.count, using: &random)))
            if Bool.random(using: &random) {
                damaged = body
                for _ in 0..<3 { damaged[Int.random(in: 0..<damaged.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random) }
            }
            let answer = try RawHTTP.exchange(port: server.port, Array(head(damaged.count).utf8) + damaged)
            let status = RawHTTP.status(of: answer)
            if status == 200 { continue }  // flipped bytes inside a string can still be a valid push of other values
            #expect(status == 400, "\(String(decoding: answer, as: UTF8.self))")
            #expect(String(decoding: answer, as: UTF8.self).contains(#""code":""#))
        }
        let accepted = try await server.loggedChanges(token: token).count
        // The connection cut in the middle of the body: the server never sees a whole request, so applies nothing.
        _ = try? RawHTTP.exchange(port: server.port, Array(head(body.count).utf8) + body.prefix(body.count / 2))
        #expect(try await server.loggedChanges(token: token).count == accepted)
        let whole = try RawHTTP.exchange(port: server.port, Array(head(body.count).utf8) + body)
        #expect(RawHTTP.status(of: whole) == 200)
        try await server.stop()
    }
}

/// HTTP/1.1 by hand over a POSIX socket, to send what no HTTP client would.
enum RawHTTP {
    /// Sends `bytes` to 127.0.0.1:`port`, closes the sending side, and returns everything the server answers.
    static func exchange(port: Int, _ bytes: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EBADF) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            sent += n
        }
        shutdown(fd, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            answer += buffer[0..<n]
        }
        return answer
    }

    /// The status code of `HTTP/1.1 NNN …`, or 0.
    static func status(of answer: [UInt8]) -> Int {
        let line = String(decoding: answer.prefix(12), as: UTF8.self)
        return line.hasPrefix("HTTP/1.1 ") ? Int(line.dropFirst(9).prefix(3)) ?? 0 : 0
    }
}
