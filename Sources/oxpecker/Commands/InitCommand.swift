import ArgumentParser
import OxpeckerStore

/// `oxpecker init`: creates a new, empty store and prints its replica id.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a new store file and print its replica id.",
        discussion: "Refuses to overwrite an existing file.")

    @OptionGroup var location: StoreLocation

    func run() throws {
        let store = try CustomerStore.create(at: location.path)
        defer { try? store.close() }
        Console.out(store.replica.rawValue)
    }
}
