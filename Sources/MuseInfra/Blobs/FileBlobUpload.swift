import Foundation
import MuseCore
import Synchronization

/// A blob written as it arrives, into a hidden file (`.upload-…`, a name no key can take) in
/// the store's directory; committed by fsync and rename, as `FileBlobStore.put` does. Every
/// call runs on the blocking pool. Left behind by a crash, the file is removed at the next start.
final class FileBlobUpload: BlobUpload {
    static let prefix = ".upload-"

    private struct State {
        var fd: Int32
        var size = 0
        var done = false
    }

    private let store: FileBlobStore
    private let path: String
    private let state: Mutex<State>

    init(store: FileBlobStore) async throws {
        let path = (store.directory as NSString).appendingPathComponent(Self.prefix + UUID().uuidString)
        let fd = try await store.pool.run {
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FileBlobStore.failure("create", errno) }
            return fd
        }
        self.store = store
        self.path = path
        self.state = Mutex(State(fd: fd))
    }

    deinit {
        // Dropped without a commit or discard (a task canceled between awaits): nothing stays.
        state.withLock { state in
            guard !state.done else { return }
            close(state.fd)
            unlink(path)
        }
    }

    var size: Int { state.withLock { $0.size } }

    private func writableFD() throws -> Int32 {
        try state.withLock { state in
            guard !state.done else { throw FileBlobStore.failure("write after commit", EBADF) }
            return state.fd
        }
    }

    func append(_ bytes: [UInt8]) async throws {
        let fd = try writableFD()
        try await store.pool.run {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileBlobStore.failure("write", errno)
                }
                offset += n
            }
        }
        state.withLock { $0.size += bytes.count }
    }

    func withBytes<T: Sendable>(_ body: @escaping @Sendable (UnsafeRawBufferPointer) throws -> T) async throws -> T {
        let fd = try writableFD()
        let size = self.size
        return try await store.pool.run { try Self.mapped(fd, size: size, body) }
    }

    /// Runs `body` over the file's first `size` bytes (all of them when nil), mapped read-only.
    static func mapped<T>(_ fd: Int32, size: Int? = nil, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        var length = size ?? 0
        if size == nil {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw FileBlobStore.failure("stat", errno) }
            length = Int(info.st_size)
        }
        guard length > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw FileBlobStore.failure("map", errno)
        }
        defer { munmap(mapped, length) }
        return try body(UnsafeRawBufferPointer(start: mapped, count: length))
    }

    func commit(as key: String) async throws {
        let target = try store.path(key)
        let fd = try state.withLock { state in
            guard !state.done else { throw FileBlobStore.failure("commit twice", EBADF) }
            state.done = true
            return state.fd
        }
        let (path, directory) = (self.path, store.directory)
        try await store.pool.run {
            defer { close(fd) }
            guard fsync(fd) == 0 else {
                let code = errno
                unlink(path)
                throw FileBlobStore.failure("fsync", code)
            }
            guard rename(path, target) == 0 else {
                let code = errno
                unlink(path)
                throw FileBlobStore.failure("rename", code)
            }
            try FileBlobStore.syncDirectory(directory)
        }
    }

    func discard() async {
        let fd: Int32? = state.withLock { state in
            guard !state.done else { return nil }
            state.done = true
            return state.fd
        }
        guard let fd else { return }
        let path = self.path
        try? await store.pool.run {
            close(fd)
            unlink(path)
        }
    }
}
