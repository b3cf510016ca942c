import Foundation
import MuseCore

/// Blobs as files under one directory, written to a temporary name and renamed, so a crash
/// never leaves half an image under a real key. File I/O runs on the blocking pool.
public struct FileBlobStore: BlobStore {
    let directory: String
    let pool: BlockingPool

    public init(directory: String, pool: BlockingPool) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.pool = pool
        Self.removeLeftovers(in: directory)
    }

    /// Uploads and writes a crash cut short never got a key: their files go at start. Only
    /// those an hour old, in case another process shares the directory and is writing one now.
    static func removeLeftovers(in directory: String) {
        let cutoff = Date().addingTimeInterval(-3600)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(FileBlobUpload.prefix) || name.contains(".tmp-") {
            let path = (directory as NSString).appendingPathComponent(name)
            if let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff {
                unlink(path)
            }
        }
    }

    public func begin() async throws -> any BlobUpload {
        try await FileBlobUpload(store: self)
    }

    func path(_ key: String) throws -> String {
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }), !key.hasPrefix(".") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return (directory as NSString).appendingPathComponent(key)
    }

    /// Returns once the file and its name are on disk (fsync of the file, then of the directory):
    /// the transaction that names it commits after, so a durable task never names a lost file.
    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        let target = try path(key)
        let directory = directory
        try await pool.run {
            let temporary = target + ".tmp-\(UUID().uuidString)"
            let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw Self.failure("create", errno) }
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    unlink(temporary)
                    throw Self.failure("write", code)
                }
                offset += n
            }
            guard fsync(fd) == 0 else {
                let code = errno
                unlink(temporary)
                throw Self.failure("fsync", code)
            }
            guard rename(temporary, target) == 0 else { throw Self.failure("rename", errno) }
            try Self.syncDirectory(directory)
        }
    }

    /// Makes a rename in `directory` durable.
    static func syncDirectory(_ directory: String) throws {
        let dir = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            defer { close(dir) }
            guard fsync(dir) == 0 else { throw Self.failure("fsync the directory", errno) }
        }
    }

    /// A write that failed: a full disk or an I/O error is the storage's fault (503), not the request's.
    static func failure(_ step: String, _ code: Int32) -> BlobStoreError {
        BlobStoreError(step: step, errno: code)
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        guard let target = try? path(key) else { return nil }
        return try await pool.run { FileManager.default.contents(atPath: target).map { [UInt8]($0) } }
    }

    public func open(_ key: String) async throws -> (any BlobReader)? {
        guard let target = try? path(key) else { return nil }
        return try await FileBlobReader.open(target, pool: pool)
    }

    public func withBytes<T: Sendable>(of key: String, _ body: @escaping @Sendable (UnsafeRawBufferPointer) throws -> T) async throws -> T? {
        guard let target = try? path(key) else { return nil }
        return try await pool.run {
            let fd = Glibc.open(target, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                if errno == ENOENT { return nil }
                throw Self.failure("open", errno)
            }
            defer { close(fd) }
            return try FileBlobUpload.mapped(fd, body)
        }
    }

    public func delete(_ key: String) async throws {
        let target = try path(key)
        try await pool.run {
            if unlink(target) != 0, errno != ENOENT { throw CocoaError(.fileWriteUnknown) }
        }
    }
}

/// A blob write that failed; a full disk or an I/O error answers 503 with Retry-After.
public struct BlobStoreError: Error, CustomStringConvertible {
    public let step: String
    public let errno: Int32

    public var description: String { "blob store: \(step) failed: \(String(cString: strerror(errno)))" }

    /// A fault of the storage (full, failing, read-only), not of the request.
    public var isStorageFault: Bool {
        [ENOSPC, EDQUOT, EIO, EROFS].contains(errno)
    }
}
