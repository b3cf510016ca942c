import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Buffers log lines and writes them to a file descriptor from a background thread every
/// `flushInterval`, so a request pays for formatting, not for a write system call.
/// Warnings and worse are written at once; `flush()` at exit writes the rest.
public final class LogWriter: Sendable {
    private let fd: Int32
    private let pending = Mutex<[UInt8]>([])
    // Serializes writes so lines reach the descriptor in the order they were appended.
    private let writing = Mutex<Void>(())
    private static let flushThreshold = 64 * 1024

    public init(fd: Int32 = STDOUT_FILENO, flushInterval: Duration = .milliseconds(100)) {
        self.fd = fd
        let interval = UInt32(flushInterval.components.seconds * 1_000_000 + flushInterval.components.attoseconds / 1_000_000_000_000)
        Thread.detachNewThread { [weak self] in
            while let writer = self {
                writer.flush()
                usleep(interval)
            }
        }
    }

    func append(_ line: [UInt8], urgent: Bool) {
        let size = pending.withLock { buffer in
            buffer.append(contentsOf: line)
            return buffer.count
        }
        if urgent || size >= Self.flushThreshold { flush() }
    }

    /// Writes everything appended so far.
    public func flush() {
        writing.withLock { _ in
            let bytes = pending.withLock { buffer in
                defer { buffer.removeAll(keepingCapacity: true) }
                return buffer
            }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
