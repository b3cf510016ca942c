import Foundation
import MuseJSON

/// What a client sends to create or update a preset: parameters, or a generation to copy them from.
public struct PresetInput: Sendable, Decodable {
    public var name: String
    public var description: String?
    public var params: JSONValue?
    public var fromGeneration: String?
    public var overridable: [String]?
    /// A team of the caller's whose members may run the preset; nil: not shared.
    public var sharedWithTeam: String?

    enum CodingKeys: String, CodingKey {
        case name, description, params, overridable
        case fromGeneration = "from_generation"
        case sharedWithTeam = "shared_with_team"
    }
}

/// Preset use cases: save (from parameters or from a generation), version, read, list, delete.
/// Parameters are validated exactly like a generation request before they are saved. A preset
/// shared with a team is read and run by its members; only its owner changes or deletes it.
public struct PresetService: Sendable {
    let presets: any PresetStore
    let tasks: any TaskStore
    let generations: GenerationService

    public init(presets: any PresetStore, tasks: any TaskStore, generations: GenerationService) {
        self.presets = presets
        self.tasks = tasks
        self.generations = generations
    }

    public func create(_ input: PresetInput, caller: Caller) async throws -> Preset {
        let now = Date()
        let (params, overridable) = try await checked(input, caller: caller)
        let preset = Preset(
            id: IDGenerator.make("pre", at: now), tenant: caller.tenant, name: input.name, description: input.description ?? "", version: 1,
            params: params, overridable: overridable, sharedWithTeam: input.sharedWithTeam, createdAt: now, updatedAt: now
        )
        try await presets.create(preset)
        return preset
    }

    /// Saves the input as the preset's next version.
    public func update(id: String, _ input: PresetInput, caller: Caller) async throws -> Preset {
        let current = try await editable(id: id, caller: caller)
        let (params, overridable) = try await checked(input, caller: caller)
        var next = current
        next.name = input.name
        next.description = input.description ?? ""
        next.params = params
        next.overridable = overridable
        next.sharedWithTeam = input.sharedWithTeam
        next.updatedAt = Date()
        guard let saved = try await presets.update(next) else { throw ServiceError.notFound("no preset \"\(id)\"") }
        return saved
    }

    /// The preset, if the caller may read it; one it may not is as unknown as one that never existed.
    public func preset(id: String, version: Int?, caller: Caller) async throws -> Preset {
        guard let preset = try await presets.preset(id: id, version: version), preset.isReadable(by: caller) else {
            throw ServiceError.notFound(version.map { "no version \($0) of preset \"\(id)\"" } ?? "no preset \"\(id)\"")
        }
        return preset
    }

    /// One page of the caller's presets and those shared with its teams, newest first, and the
    /// cursor of the next page (nil on the last).
    public func list(caller: Caller, limit: Int, before: String?) async throws -> (presets: [Preset], next: String?) {
        let page = try await presets.list(visibleTo: caller, limit: limit + 1, before: before)
        let split = Page.split(page, limit: limit, id: \.id)
        return (split.items, split.next)
    }

    public func delete(id: String, caller: Caller) async throws {
        let current = try await editable(id: id, caller: caller)
        guard try await presets.delete(id: id, tenant: current.tenant) else { throw ServiceError.notFound("no preset \"\(id)\"") }
    }

    /// The latest version of a preset the caller may change: 404 when it may not even read it,
    /// 403 when it reads it through its team.
    private func editable(id: String, caller: Caller) async throws -> Preset {
        let current = try await preset(id: id, version: nil, caller: caller)
        guard current.isEditable(by: caller) else {
            throw ServiceError.forbidden("preset \"\(id)\" is shared with your team; only its owner may change or delete it")
        }
        return current
    }

    /// The parameters to save (given, or a generation's resolved ones) once they pass validation.
    /// Split into small steps on purpose: in one async function with these throws, Swift 6.3's
    /// release build crashed (LLVM coroutine splitting, signal 11).
    private func checked(_ input: PresetInput, caller: Caller) async throws -> (JSONValue, [String]) {
        let overridable = try Self.checkedNameAndOverridable(input)
        try Self.checkSharing(input, caller: caller)
        let params = try await paramsToSave(input, tenant: caller.tenant)
        let problem = await problem(with: params, caller: caller)
        try Self.raise(problem)
        return (params, overridable)
    }

    private func paramsToSave(_ input: PresetInput, tenant: String) async throws -> JSONValue {
        guard input.params == nil, let id = input.fromGeneration else { return try Self.givenParams(input) }
        let task = try await tasks.task(id: id, tenant: tenant)
        return try Self.params(of: task, id: id)
    }

    private static func params(of task: GenerationTask?, id: String) throws -> JSONValue {
        guard let task else { throw InvalidInput("from_generation", "no generation \"\(id)\"") }
        return try JSON.value(of: task.params)
    }

    private static func raise(_ problem: InvalidInput?) throws {
        if let problem { throw problem.nested(under: "params") }
    }

    /// A preset is shared only with a team its owner belongs to.
    private static func checkSharing(_ input: PresetInput, caller: Caller) throws {
        guard let team = input.sharedWithTeam else { return }
        guard caller.teams.contains(team) else { throw InvalidInput("shared_with_team", "must be one of your teams") }
    }

    private static func checkedNameAndOverridable(_ input: PresetInput) throws -> [String] {
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else { throw InvalidInput("name", "must be 1 to 200 characters") }
        let overridable = input.overridable ?? []
        try PresetMerge.checkOverridable(overridable)
        return overridable
    }

    private static func givenParams(_ input: PresetInput) throws -> JSONValue {
        guard let params = input.params, input.fromGeneration == nil else {
            throw InvalidInput("params", "give either params or from_generation")
        }
        guard case .object = params else { throw InvalidInput("params", "must be an object") }
        return params
    }

    /// What is wrong with `params` as a generation request, if anything.
    private func problem(with params: JSONValue, caller: Caller) async -> InvalidInput? {
        let request: GenerationRequest
        switch Result(catching: { () throws(InvalidInput) -> GenerationRequest in try JSON.decode(GenerationRequest.self, from: params) }) {
        case .success(let decoded): request = decoded
        case .failure(let error): return error
        }
        return await generations.validationProblem(request, caller: caller)
    }
}
