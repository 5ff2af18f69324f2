#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Writes to standard output (buffered, in order, with write errors noticed)
/// and to standard error (at once).
enum Console {
    // oxpecker runs one command on the main thread and never writes output
    // from another thread, so this buffer is never shared.
    nonisolated(unsafe) private static var buffer: [UInt8] = []
    nonisolated(unsafe) private static var failed = false

    /// Writes `text` and a newline to standard output.
    static func out(_ text: String) {
        write(text)
        write("\n")
    }

    /// Writes `text` as it is to standard output.
    static func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes `text` and a newline to standard error, at once.
    static func error(_ text: String) {
        flush()
        _ = writeAll(Array((text + "\n").utf8), to: 2)
    }

    /// Writes what standard output has buffered.
    static func flush() {
        guard !buffer.isEmpty else { return }
        if !writeAll(buffer, to: 1) { failed = true }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Whether writing to standard output has failed so far (a closed pipe, a full disk).
    static var outputFailed: Bool { failed }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Bool {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            var offset = 0
            while offset < raw.count {
                let written = systemWrite(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}

/// Output that could not be written.
struct OutputError: Error, CustomStringConvertible {
    let description: String
}
