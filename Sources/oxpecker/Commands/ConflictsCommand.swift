import ArgumentParser
import OxpeckerProtocol
import OxpeckerStore

/// `oxpecker conflicts [CUSTOMER] [--json]`: guarded fields (legal name, birth
/// date, tax residence …) that were set concurrently on two devices, with every
/// concurrent value, until a person resolves them by setting the field.
struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "List guarded fields with concurrent values, for a person to resolve.",
        discussion: """
            A guarded field edited on two devices before they synced keeps both values; the newest is \
            shown meanwhile. Resolve one with `oxpecker customer set ID FIELD VALUE` (one of the \
            candidates or another value): the resolution syncs like any change.
            """)

    @OptionGroup var location: StoreLocation
    @Argument(help: "Only this customer's conflicts.") var customer: String?
    @Flag(help: "One canonical JSON object per conflict, one per line.") var json = false

    func run() throws {
        let id = try customer.map(InputParsing.customer)
        let conflicts = try location.withStore { store in
            try store.readNow { reader in
                if let id, try !reader.exists(id) { throw StoreError.unknownCustomer(id) }
                return try reader.conflicts(of: id)
            }
        }
        if json {
            for conflict in conflicts { Console.out(Self.jsonForm(of: conflict).canonicalText) }
            return
        }
        guard !conflicts.isEmpty else {
            Console.out("no conflicts")
            return
        }
        for conflict in conflicts {
            let candidates = conflict.candidates.map { candidate in
                let at = HumanText.minute(Instant(millisecondsSince1970: candidate.hlc.wallMillis))
                return "\(HumanText.value(candidate.value, of: conflict.field)) (\(at), \(candidate.hlc.replica))"
            }
            Console.out("\(conflict.customer)  \(conflict.field)  " + candidates.joined(separator: " | "))
        }
    }

    /// `{"candidates":[{"hlc":…,"value":…}],"customer":…,"field":…}`, candidates oldest first.
    static func jsonForm(of conflict: FieldConflict) -> JSONValue {
        [
            "customer": .string(conflict.customer.rawValue), "field": .string(conflict.field),
            "candidates": .array(
                conflict.candidates.map { candidate -> JSONValue in
                    ["value": candidate.value, "hlc": .string(candidate.hlc.description)]
                }),
        ]
    }
}
