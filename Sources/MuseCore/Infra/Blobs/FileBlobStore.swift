import Foundation

/// Blobs as files under one directory, written to a temporary name and renamed, so a crash
/// never leaves half an image under a real key. File I/O runs on the blocking pool.
public struct FileBlobStore: BlobStore {
    let directory: String
    let pool: BlockingPool

    public init(directory: String, pool: BlockingPool) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.pool = pool
    }

    private func path(_ key: String) throws -> String {
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }), !key.hasPrefix(".") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return (directory as NSString).appendingPathComponent(key)
    }

    public func put(_ key: String, _ bytes: [UInt8]) async throws {
        let target = try path(key)
        try await pool.run {
            let temporary = target + ".tmp-\(UUID().uuidString)"
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
            if rename(temporary, target) != 0 { throw CocoaError(.fileWriteUnknown) }
        }
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        guard let target = try? path(key) else { return nil }
        return try await pool.run { FileManager.default.contents(atPath: target).map { [UInt8]($0) } }
    }

    public func delete(_ key: String) async throws {
        let target = try path(key)
        try await pool.run {
            if unlink(target) != 0, errno != ENOENT { throw CocoaError(.fileWriteUnknown) }
        }
    }
}
