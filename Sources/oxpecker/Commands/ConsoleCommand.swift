import ArgumentParser
import Foundation
import Logging
import OxpeckerConsole
import OxpeckerStore
import OxpeckerSync
import Synchronization

/// `oxpecker console [--port PORT]`: the advisor's web page over this store, on 127.0.0.1 only.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the advisor's console, a web page over this store, on 127.0.0.1; prints the address to open.",
        discussion: """
            Open the printed address (http://127.0.0.1:PORT/?key=SECRET) in a browser on this machine: \
            the key, new at every start, signs that browser in with a cookie, and the address bar drops it. \
            Every other request is refused: no cookie, a Host other than 127.0.0.1:PORT or localhost:PORT, \
            a form without its security token. The console works offline; its writes go to the outbox \
            like the CLI's, and sync with `oxpecker sync` or with its Sync page (which needs --token, or \
            $\(SyncCommand.tokenVariable), and --server, or $\(SyncCommand.serverVariable), for a store that never synced).

            It runs until interrupted (Ctrl-C). Example: oxpecker console --port 8740 --advisor a-417
            """)

    @OptionGroup var location: StoreLocation
    @OptionGroup var rulesOption: RulesOption
    @Option(help: ArgumentHelp("The port on 127.0.0.1 (0: any free port).", valueName: "port")) var port = 0
    @Option(help: ArgumentHelp("Who uses the console: filled in as a note's author.", valueName: "id")) var advisor: String?
    @Option(help: ArgumentHelp("The sync server's URL, for the Sync page (default: $\(SyncCommand.serverVariable)).", valueName: "url"))
    var server: String?
    @Option(help: ArgumentHelp("The device token, for the Sync page (default: $\(SyncCommand.tokenVariable)).", valueName: "token"))
    var token: String?
    @Option(
        help: ArgumentHelp(
            "Trust only the certificate authorities in this PEM file for an https server (default: $\(SyncCommand.certificateAuthorityVariable)).",
            valueName: "pem"))
    var caFile: String?

    func run() throws {
        guard (0...65535).contains(port) else { throw InputError.invalid("--port: must be 0 to 65535, not \(port)") }
        let environment = ProcessInfo.processInfo.environment
        let firstSet = { (values: [String?]) in values.compactMap { $0 }.first { !$0.isEmpty } }
        let token = firstSet([token, environment[SyncCommand.tokenVariable]])
        let sync = token.map { token in
            ConsoleSyncSettings(
                server: firstSet([server, environment[SyncCommand.serverVariable]]), token: token,
                certificateAuthorityFile: firstSet([caFile, environment[SyncCommand.certificateAuthorityVariable]]),
                client: "oxpecker-console/\(Oxpecker.configuration.version)")
        }
        let configuration = ConsoleConfiguration(
            port: port, rules: try rulesOption.loadRules(), sync: sync, advisor: advisor.flatMap { $0.isEmpty ? nil : $0 })
        let store = try location.open()
        defer { try? store.close() }
        let logger = {
            var logger = Logger(label: "oxpecker.console")
            logger.logLevel = .warning
            return logger
        }()
        let running = RunningFlag()
        let requestedPort = port
        do {
            try SyncCommand.waitFor {
                let app = try buildConsole(store: store, configuration: configuration, logger: logger) { port in
                    running.set()
                    let lines = "oxpecker console: open \(configuration.startURL(port: port))\n(Ctrl-C stops it)\n"
                    FileHandle.standardOutput.write(Data(lines.utf8))
                }
                try await app.runService()
            }
        } catch {
            guard !running.isSet else { throw error }
            throw InputError.invalid("--port: cannot listen on 127.0.0.1:\(requestedPort): \(error)")
        }
    }
}

/// Whether the server got to run, told from the server's task to the waiting command.
private final class RunningFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
