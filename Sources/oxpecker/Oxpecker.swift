import ArgumentParser
import Foundation
import OxpeckerStore

/// The `oxpecker` command: works on one customer store file, from the command line.
///
/// ```
/// oxpecker init
/// oxpecker customer add c-1001 --legal-name "Jana Nováková" --stage prospect
/// ```
@main
struct Oxpecker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oxpecker",
        abstract: "An offline-first customer profile store: customers, their context, consents and notes.",
        discussion: """
            Every command works on one store file: --store PATH, else the OXPECKER_STORE \
            environment variable, else ./customers.oxpecker. Create it with `oxpecker init` \
            (`oxpecker init --encrypted --key-file PATH` for an encrypted one).

            An encrypted store needs its key on every command: --key-file PATH (or \
            $OXPECKER_STORE_KEY_FILE), the key itself in $OXPECKER_STORE_KEY, or a passphrase in \
            $OXPECKER_STORE_PASSPHRASE. Losing the key loses the store's personal data.

            Every write command makes all its writes in one transaction: if it fails, nothing is written.
            `--json` output is canonical JSON (keys sorted, no whitespace); commands that print several \
            items print one JSON object per line.

            Exit codes:
              0  success
              1  unexpected failure, like output that could not be written
              2  usage: unknown command or option, missing or extra argument
              3  not found: no such customer or note
              4  invalid input: a bad value, date, choice, field name or import line
              5  store problem: missing, foreign or newer store file; database error
              6  refused: the customer exists, the note was redacted, or erased
              7  sync failed: the server could not be reached, or refused the sync (token, version)
              8  may-contact: the contact gate says no
              9  key problem: an encrypted store opened without its key or with a wrong one, a key for a \
            plain store, a key file others may read
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self, EncryptCommand.self, RekeyCommand.self, CustomerCommand.self, NoteCommand.self, ConsentCommand.self, LifeEventCommand.self,
            ContactCommand.self, ShowCommand.self, ListCommand.self, SearchCommand.self, ExportCommand.self,
            OutboxCommand.self, FieldsCommand.self, ImportCommand.self,
            SyncCommand.self, ConflictsCommand.self,
            BriefCommand.self, MayContactCommand.self, SignalsCommand.self, RulesCommand.self,
            ConsoleCommand.self,
        ]
    )

    /// Parses the command line, runs the command, and turns every error into a
    /// message on standard error and a documented exit code.
    static func main() {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitForParsing(error)
        }
        do {
            var command = command
            try command.run()
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            if let failure = CommandFailure(error) {
                Console.error(failure.message)
                Foundation.exit(failure.code.rawValue)
            }
            exitForParsing(error)
        }
        Console.flush()
    }

    /// Help and version go to standard output with status 0; usage errors to standard error with status 2.
    private static func exitForParsing(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        if code == .success {
            Console.out(fullMessage(for: error))
            Console.flush()
            Foundation.exit(0)
        }
        if let failure = CommandFailure(error) {
            Console.error(failure.message)
            Foundation.exit(failure.code.rawValue)
        }
        var message = fullMessage(for: error)
        if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
        Console.error(message)
        Foundation.exit(ExitStatus.usage.rawValue)
    }
}
