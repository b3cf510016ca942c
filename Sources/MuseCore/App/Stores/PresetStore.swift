import Foundation
import MuseJSON

/// Where presets and their versions live. Writes are scoped to the owner; who may read a preset
/// is the core's rule (`Preset.isReadable`). A deleted preset is gone for reads and runs, while
/// tasks made from it keep their `PresetRef`.
public protocol PresetStore: Sendable {
    /// Saves version 1 of a new preset.
    func create(_ preset: Preset) async throws
    /// Saves version N+1 of `preset.tenant`'s live preset from `preset`'s content, and its sharing:
    /// shared with the same team as before, `sharedSince` stays; with another team, it is N+1.
    /// Nil if there is no such preset.
    func update(_ preset: Preset) async throws -> Preset?
    /// The latest version, or `version`, of a live preset, whoever owns it.
    func preset(id: String, version: Int?) async throws -> Preset?
    /// Live presets at their latest version that `caller` owns or that are shared with one of its
    /// teams, newest first; `before` is the last id of the previous page.
    func list(visibleTo caller: Caller, limit: Int, before: String?) async throws -> [Preset]
    /// Deletes a live preset; false if there was none.
    func delete(id: String, tenant: String) async throws -> Bool
}
