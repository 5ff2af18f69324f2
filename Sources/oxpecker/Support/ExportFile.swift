import Foundation
import OxpeckerStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file completely or not at all: into a temporary file beside it,
/// flushed to disk, then renamed over the target in one step.
enum ExportFile {
    static func write(to path: String, _ produce: ((String) throws -> Void) throws -> Void) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "" : directory + "/") + ".\(name).\(getpid()).partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw OutputError(description: "cannot write '\(path)' (check that the folder exists and is writable)")
        }
        do {
            defer { try? handle.close() }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 16)
            try produce { text in
                buffer.append(contentsOf: text.utf8)
                if buffer.count >= 1 << 16 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: buffer)
            try handle.synchronize()
            guard rename(temporary, path) == 0 else {
                throw OutputError(description: "cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if error is StoreError || error is OutputError { throw error }
            throw OutputError(description: "cannot write '\(path)': \(error.localizedDescription)")
        }
    }
}
