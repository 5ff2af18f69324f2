import ArgumentParser
import OxpeckerProtocol
import OxpeckerStore

/// `oxpecker import FILE`: bulk-loads customers from NDJSON, one customer per line,
/// each customer (with all its fields, set elements and notes) in its own transaction.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load customers from an NDJSON file, one customer per line.",
        discussion: """
            Each line is one customer, like (on one line):
              {"id":"c-1001","fields":{"legal_name":"Jana","stage":"active"},
               "sets":{"interests":["sailing"]},
               "notes":[{"text":"…","author":"a-417","channel":"branch"}]}

            The whole file is checked first: a bad line, a customer listed twice, or (without \
            --skip-existing) a customer already in the store stops the import before anything is written. \
            Then each customer is written in its own transaction: if the import is interrupted, every \
            customer in the store is complete, and running the same import again with --skip-existing \
            loads the rest. Progress goes to standard error, the summary to standard output.
            """)

    @OptionGroup var location: StoreLocation
    @Argument(help: "The NDJSON file.") var file: String
    @Flag(name: .customLong("skip-existing"), help: "Skip customers already in the store instead of refusing the import.")
    var skipExisting = false
    @Option(name: .customLong("progress-every"), help: "Report progress every this many customers.") var progressEvery = 1000
    @Option(
        help: ArgumentHelp(
            "full: every customer survives power loss; normal: faster, survives a crash or kill, but the last customers may be lost on power loss.",
            valueName: "full|normal"))
    var durability = "full"

    func run() throws {
        let progressEvery = try InputParsing.limit(progressEvery, option: "--progress-every")
        let mode: Durability
        switch durability {
        case "full": mode = .full
        case "normal": mode = .normal
        default: throw InputError.invalid("--durability: '\(durability)' is not one of: full, normal")
        }
        let reader = LineReader(path: file)
        try location.withStore(durability: mode) { store in
            let plan = try check(reader, against: store)
            var imported = 0
            var changes: Int64 = 0
            try reader.forEachLine { bytes, line in
                guard let record = try record(bytes, line: line), !plan.existing.contains(record.customer) else { return }
                do {
                    changes += try store.writeNow { writer in try record.write(with: writer) }
                } catch StoreError.customerExists(_) where skipExisting {
                    return
                } catch {
                    Console.error("\(file) line \(line): stopped after importing \(imported) customers")
                    throw error
                }
                imported += 1
                if imported % progressEvery == 0 {
                    Console.error("imported \(imported)/\(plan.count - plan.existing.count) customers")
                }
            }
            Console.out("imported \(imported) customers (\(changes) changes), skipped \(plan.existing.count) existing, from \(file)")
        }
    }

    /// What the first pass learns: how many customers the file holds, and which of them the store has already.
    private struct Plan {
        var count = 0
        var existing: Set<CustomerID> = []
    }

    /// Reads the whole file once, writing nothing: every line must be a valid customer, listed once.
    private func check(_ reader: LineReader, against store: CustomerStore) throws -> Plan {
        var plan = Plan()
        var seen: [CustomerID: Int] = [:]
        try store.readNow { storeReader in
            try reader.forEachLine { bytes, line in
                guard let record = try record(bytes, line: line) else { return }
                if let first = seen[record.customer] {
                    throw InputError.invalid("\(file) line \(line): customer '\(record.customer)' is listed twice (first on line \(first))")
                }
                seen[record.customer] = line
                plan.count += 1
                if try storeReader.exists(record.customer) {
                    guard skipExisting else {
                        throw StoreError.customerExists(record.customer).withContext("\(file) line \(line)", hint: "use --skip-existing to import only the others")
                    }
                    plan.existing.insert(record.customer)
                }
            }
        }
        return plan
    }

    /// The customer on one line, or nil for a blank line; errors name the file and line.
    private func record(_ bytes: ArraySlice<UInt8>, line: Int) throws -> ImportRecord? {
        guard bytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return nil }
        do {
            return try ImportRecord(json: JSONValue(parsing: bytes))
        } catch let error as InputError {
            throw InputError(status: error.status, description: "\(file) line \(line): \(error.description)")
        } catch {
            throw InputError.invalid("\(file) line \(line): \(CommandFailure(error)?.message.replacingOccurrences(of: "error: ", with: "") ?? "\(error)")")
        }
    }
}

extension StoreError {
    /// The error, with where it happened and what to do, keeping its exit status.
    fileprivate func withContext(_ place: String, hint: String) -> InputError {
        InputError(status: CommandFailure.status(of: self), description: "\(place): \(description); \(hint)")
    }
}
