import ArgumentParser
import Foundation
import OxpeckerProtocol
import OxpeckerServer
import OxpeckerStore

/// `oxpecker-server customer erase|erase-status ID`: the right to erasure, on the data directory.
struct CustomerAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer", abstract: "Erase a customer (right to erasure) and follow the devices' purges.",
        subcommands: [Erase.self, EraseStatus.self])

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a customer: every trace of its personal data leaves the server; every device purges it at its next sync.",
            discussion: """
                Keeps a tombstone with no personal data, so that no device can bring the
                customer back: later pushes for it are dropped (customer_erased). Erasing
                an erased customer again changes nothing. Works while the server runs.
                """)
        @OptionGroup var data: DataOptions
        @Argument(help: "The customer's id.") var id: String
        @OptionGroup var actor: AuditActor

        func validate() throws {
            guard CustomerID(rawValue: id) != nil else { throw ValidationError("'\(id)' is not a customer id (1 to 64 of A-Z a-z 0-9 . _ : -)") }
        }

        func run() async throws {
            let storage = try await data.openStorage()
            let now = Instant(millisecondsSince1970: WallClock.system.now())
            do {
                let status = try await storage.eraseCustomer(CustomerID(unchecked: id), by: actor.by, at: now)
                print("erased \(status.customer) at \(status.erasedAt) (\(status.removedChanges) changes removed from the log)")
                EraseStatus.printDevices(status)
            } catch let error as ErasureError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(3)
            }
        }
    }

    struct EraseStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase-status",
            abstract: "Which devices have not yet confirmed the purge of an erased customer (exit 0: all have; 4: some have not).")
        @OptionGroup var data: DataOptions
        @OptionGroup var actor: AuditActor
        @Argument(help: "The customer's id.") var id: String

        func run() async throws {
            guard let customer = CustomerID(rawValue: id),
                let status = try await data.openStorage().readErasureStatus(of: customer, by: actor.by, at: AuditActor.now)
            else {
                FileHandle.standardError.write(Data("error: customer '\(id)' was not erased\n".utf8))
                throw ExitCode(3)
            }
            print("\(status.customer) erased at \(status.erasedAt) by \(status.erasedBy)")
            Self.printDevices(status)
            if !status.unconfirmed.isEmpty { throw ExitCode(4) }
        }

        static func printDevices(_ status: ErasureStatus) {
            guard !status.unconfirmed.isEmpty else {
                print("every device has confirmed the purge")
                return
            }
            print("\(status.unconfirmed.count) device\(status.unconfirmed.count == 1 ? "" : "s") still to confirm the purge:")
            for device in status.unconfirmed {
                let seen = device.lastConfirmedAt.map { "last confirmed \($0)" } ?? "never confirmed"
                print("  \(device.tokenID)  \(device.deviceName)  store \(device.subscription)  \(seen)\(device.revoked ? "  (token revoked: it cannot sync)" : "")")
            }
        }
    }
}
