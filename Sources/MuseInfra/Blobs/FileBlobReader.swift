import Foundation
import MuseCore
import Synchronization

/// A blob file opened for reading; `pread` on the blocking pool, a piece at a time. Blobs are
/// written whole under a new name and renamed, so the open file never changes under it.
final class FileBlobReader: BlobReader {
    let size: Int
    private let pool: BlockingPool
    /// The descriptor until the read ends (or the reader is dropped unread).
    private let fd: Mutex<Int32?>

    /// Opens `path`; nil if there is no such file.
    static func open(_ path: String, pool: BlockingPool) async throws -> FileBlobReader? {
        let opened: (Int32, Int)? = try await pool.run {
            let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT { return nil }
                throw FileBlobStore.failure("open", errno)
            }
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let code = errno
                close(fd)
                throw FileBlobStore.failure("stat", code)
            }
            return (fd, Int(info.st_size))
        }
        return opened.map { FileBlobReader(fd: $0.0, size: $0.1, pool: pool) }
    }

    private init(fd: Int32, size: Int, pool: BlockingPool) {
        self.fd = Mutex(fd)
        self.size = size
        self.pool = pool
    }

    deinit {
        if let fd = fd.withLock({ $0 }) { close(fd) }
    }

    func read(chunk: Int, _ body: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        guard
            let fd = fd.withLock({ state -> Int32? in
                defer { state = nil }
                return state
            })
        else { throw FileBlobStore.failure("read twice", EBADF) }
        defer { close(fd) }
        var offset = 0
        while offset < size {
            let want = min(chunk, size - offset)
            let at = offset
            let piece: [UInt8] = try await pool.run {
                var bytes = [UInt8](repeating: 0, count: want)
                var got = 0
                while got < want {
                    let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, want - got, off_t(at + got)) }
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { throw FileBlobStore.failure("read", n < 0 ? errno : EIO) }
                    got += n
                }
                return bytes
            }
            try await body(piece)
            offset += want
        }
    }
}
