import FuzzerDriver
import OxpeckerProtocol

/// The program's entry (SwiftPM links `main` to `fuzz_decoder_main`): libFuzzer's driver, with the test below.
@_cdecl("fuzz_decoder_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, count in fuzzDecoder(data, count) }
}

/// The decoder's contract under any bytes: every message type either decodes
/// or throws a ``WireError`` (never traps), and a decoded message encodes to
/// canonical bytes that decode to the same message and encode to the same bytes.
func fuzzDecoder(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: count))
    check(PushRequest.self, bytes)
    check(PushResponse.self, bytes)
    check(PullRequest.self, bytes)
    check(PullResponse.self, bytes)
    check(BootstrapRequest.self, bytes)
    check(BootstrapPage.self, bytes)
    check(HelloRequest.self, bytes)
    check(HelloResponse.self, bytes)
    check(Change.self, bytes)
    check(ErrorEnvelope.self, bytes)
    check(PurgeNotice.self, bytes)
    return 0
}

private let codec = WireCodec()

private func check<Message: WireMessage>(_ type: Message.Type, _ bytes: [UInt8]) {
    guard let message = try? codec.decode(type, from: bytes) else { return }
    let encoded = codec.encode(message)
    let again: Message
    do {
        again = try codec.decode(type, from: encoded)
    } catch {
        fatalError("\(Message.wireName): its own encoding does not decode (\(error)): \(String(decoding: encoded, as: UTF8.self))")
    }
    guard codec.encode(again) == encoded else {
        fatalError("\(Message.wireName): encoding is not stable: \(String(decoding: encoded, as: UTF8.self))")
    }
}
