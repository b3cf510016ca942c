import Foundation
import MuseJSON

/// Where presets and their versions live. Every call is scoped to one tenant; a deleted preset
/// is gone for reads and runs, while tasks made from it keep their `PresetRef`.
public protocol PresetStore: Sendable {
    /// Saves version 1 of a new preset.
    func create(_ preset: Preset) async throws
    /// Saves version N+1 of a live preset from `preset`'s content; nil if there is no such preset.
    func update(_ preset: Preset) async throws -> Preset?
    /// The latest version, or `version`, of a live preset.
    func preset(id: String, tenant: String, version: Int?) async throws -> Preset?
    /// Live presets at their latest version, newest first; `before` is the last id of the previous page.
    func list(tenant: String, limit: Int, before: String?) async throws -> [Preset]
    /// Deletes a live preset; false if there was none.
    func delete(id: String, tenant: String) async throws -> Bool
}
