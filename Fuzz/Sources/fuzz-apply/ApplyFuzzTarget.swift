import Foundation
import FuzzerDriver
import OxpeckerProtocol
import OxpeckerStore

/// The program's entry (SwiftPM links `main` to `fuzz_apply_main`): libFuzzer's driver, with the test below.
@_cdecl("fuzz_apply_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, count in fuzzApply(data, count) }
}

/// Change application under any decodable input: the changes of a push (or a
/// single change) applied to a real store, twice, as a device or the server
/// applies remote changes. Applying may reject a change, never trap and never
/// throw: a throw would be a 500 on the server or a failed sync on a device.
/// Each input runs in a transaction rolled back at the end, so every input
/// starts from the same store and a crash reproduces from its input alone.
func fuzzApply(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: count))
    let changes: [Change]
    if let push = try? codec.decode(PushRequest.self, from: bytes) {
        changes = push.items.compactMap(\.change)
    } else if let change = try? codec.decode(Change.self, from: bytes) {
        changes = [change]
    } else {
        return 0
    }
    do {
        try store.writeNow { writer in
            _ = try writer.apply(changes)
            _ = try writer.apply(changes)  // a duplicate delivery
            throw RollBack()
        }
    } catch is RollBack {
    } catch {
        fatalError("apply threw \(error) for \(changes.map { WireCodec().encodeText($0) })")
    }
    return 0
}

private struct RollBack: Error {}

private let codec = WireCodec()

/// One store for the whole run, in a fresh folder of the temporary directory.
private let store: CustomerStore = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oxpecker-fuzz-\(UUID().uuidString)")
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try CustomerStore.create(at: folder.appendingPathComponent("device.oxpecker").path, options: StoreOptions(durability: .normal))
    } catch {
        fatalError("cannot create the store: \(error)")
    }
}()
