import Foundation
import MuseCore

/// The data directory holds secrets (the worker token, key hashes) and tenants' images: it is
/// made 0700, and its secret files 0600, also when they were made by an older version.
public enum PrivateFiles {
    public static func directory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }

    /// Makes an existing file 0600 (nothing when it does not exist).
    public static func restrict(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}
