/// A profile's own tables (muse-cloud's API keys), migrated after the shared schema and
/// versioned apart from it, so that one binary's tables never appear in the other's database.
/// Like the shared list, a step never changes once released.
public struct SQLiteMigrationTrack: Sendable {
    /// Where its version is kept (`schema_tracks.name`).
    public let name: String
    public let steps: [String]

    public init(name: String, steps: [String]) {
        self.name = name
        self.steps = steps
    }
}

/// A database this binary must not migrate as it is (newer than it, or a tampered version).
public struct SQLiteMigrationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
