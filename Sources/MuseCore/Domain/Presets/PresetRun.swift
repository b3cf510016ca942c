import MuseJSON

/// `POST /v1/generations` from a preset: `{"preset": "pre_…", "preset_version": 3, "overrides": {...}}`.
public struct PresetRun: Sendable, Decodable {
    public var preset: String
    /// The latest version when absent.
    public var presetVersion: Int?
    public var overrides: JSONValue?

    enum CodingKeys: String, CodingKey {
        case preset, overrides
        case presetVersion = "preset_version"
    }
}
