import Foundation
import MuseJSON

/// A saved, versioned set of generation parameters (docs/API.md, Presets). Each update makes a new
/// version; earlier versions stay usable.
public struct Preset: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var name: String
    public var description: String
    public var version: Int
    /// The parameters as the client gave them (a generation request body); validated when saved,
    /// resolved (defaults, seed) on each run.
    public var params: JSONValue
    /// Fields a run may override; empty means any.
    public var overridable: [String]
    /// A team whose members may read and run the preset (not change or delete it); nil: only its owner.
    public var sharedWithTeam: String?
    /// The first version shared with `sharedWithTeam` (kept while the team stays the same): the
    /// team sees that version and later ones, never what the owner wrote before sharing with it.
    public var sharedSince: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, tenant: String, name: String, description: String, version: Int, params: JSONValue, overridable: [String],
        sharedWithTeam: String? = nil, sharedSince: Int = 1, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.description = description
        self.version = version
        self.params = params
        self.overridable = overridable
        self.sharedWithTeam = sharedWithTeam
        self.sharedSince = sharedSince
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Its owner may read and run every version; the members of the team it is shared with, the
    /// versions written since it was shared with that team.
    public func isReadable(by caller: Caller) -> Bool {
        guard tenant != caller.tenant else { return true }
        guard let team = sharedWithTeam, caller.teams.contains(team) else { return false }
        return version >= sharedSince
    }

    /// Only its owner may change or delete it.
    public func isEditable(by caller: Caller) -> Bool {
        tenant == caller.tenant
    }
}

/// Which preset version a task was made from.
public struct PresetRef: Sendable, Equatable, Codable {
    public var id: String
    public var version: Int

    public init(id: String, version: Int) {
        self.id = id
        self.version = version
    }
}
