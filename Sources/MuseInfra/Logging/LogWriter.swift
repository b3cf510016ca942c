import Foundation
import MuseCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Buffers log lines and writes them to a file descriptor from its own thread, every
/// `flushInterval` or at once when woken (a warning, a full buffer), so a request pays for
/// formatting, never for a write system call: an event loop never blocks on a slow log pipe.
/// Past `maxPending` bytes waiting, lines are dropped and counted rather than held.
public final class LogWriter: Sendable {
    private let fd: Int32
    private let pending = Mutex<(bytes: [UInt8], dropped: Int)>(([], 0))
    // Serializes writes so lines reach the descriptor in the order they were appended.
    private let writing = Mutex<Void>(())
    private let wake = DispatchSemaphore(value: 0)
    private static let flushThreshold = 64 * 1024
    private static let maxPending = 16 << 20

    public init(fd: Int32 = STDOUT_FILENO, flushInterval: Duration = .milliseconds(100)) {
        self.fd = fd
        let interval = DispatchTimeInterval.milliseconds(
            Int(flushInterval.components.seconds * 1000 + flushInterval.components.attoseconds / 1_000_000_000_000_000))
        let wake = wake
        Thread.detachNewThread { [weak self] in
            while self != nil {
                _ = wake.wait(timeout: .now() + interval)
                self?.flush()
            }
        }
    }

    func append(_ line: [UInt8], urgent: Bool) {
        let size = pending.withLock { pending in
            guard pending.bytes.count + line.count <= Self.maxPending else {
                pending.dropped += 1
                return pending.bytes.count
            }
            pending.bytes.append(contentsOf: line)
            return pending.bytes.count
        }
        if urgent || size >= Self.flushThreshold { wake.signal() }
    }

    /// Writes everything appended so far.
    public func flush() {
        writing.withLock { _ in
            let bytes = pending.withLock { pending in
                defer {
                    pending.bytes.removeAll(keepingCapacity: true)
                    pending.dropped = 0
                }
                return pending.dropped == 0 ? pending.bytes : pending.bytes + Array("log: \(pending.dropped) lines dropped (output too slow)\n".utf8)
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
