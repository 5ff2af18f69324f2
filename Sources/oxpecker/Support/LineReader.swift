import Foundation

/// Reads a file line by line in chunks, so memory does not grow with the file.
/// Lines end with `\n` (a `\r` before it is dropped); the last line may lack it.
struct LineReader {
    let path: String

    /// Calls `body` with each line's bytes and its 1-based number.
    func forEachLine(_ body: (ArraySlice<UInt8>, Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError.invalid("cannot read '\(path)' (no such file, or no permission)")
        }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var number = 0
        func emit(_ line: ArraySlice<UInt8>) throws {
            number += 1
            try body(line.last == 0x0D ? line.dropLast() : line, number)
        }
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw InputError.invalid("cannot read '\(path)': \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            pending.append(contentsOf: chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                try emit(pending[start..<newline])
                start = newline + 1
            }
            pending.removeSubrange(..<start)
        }
        if !pending.isEmpty { try emit(pending[...]) }
    }
}
