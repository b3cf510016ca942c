import Foundation
import MuseInfra
import MuseJSON
import Testing

@testable import MuseCore

/// Team objects: a `team` model is seen and used by its team's members only; a preset shared with
/// a team is read and run by its members, changed and deleted by its owner only.
@Suite struct TeamSharingTests {
    let stores: EmbeddedStores
    let generations: GenerationService
    let presets: PresetService
    let catalog: CatalogService

    static let ann = Caller(tenant: "ann", teams: ["design"])
    static let bob = Caller(tenant: "bob", teams: ["design", "brand"])
    static let cy = Caller(tenant: "cy", teams: ["sales"])
    static let dee = Caller(tenant: "dee", teams: ["design"])
    static let cloudTenant = Caller(tenant: "acme")

    init() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-core-\(UUID().uuidString)").path
        stores = try await EmbeddedStores.open(dataDir: dir, pool: BlockingPool(threads: 2))
        catalog = CatalogService(store: stores.models)
        try await catalog.importModels(
            CatalogFile.parse(
                """
                models:
                  - {key: sd15-base, name: Base, type: checkpoint, base_model: sd15}
                  - {key: design-style, name: House style, type: lora, base_model: sd15, source: team, team: design}
                  - {key: cy-own, name: Cy's, type: lora, base_model: sd15, source: private, owner: cy}
                """, source: "test"))
        let settings = LiveSettings(
            DynamicSettings(limits: GenerationLimits(), offPeak: OffPeakWindow(startHour: 1, endHour: 6), modelAffinity: true, maxAffinityWait: 30))
        generations = GenerationService(
            tasks: stores.tasks, models: stores.models, presets: stores.presets, idempotencyKeys: stores.idempotency, settings: settings)
        presets = PresetService(presets: stores.presets, tasks: stores.tasks, generations: generations)
    }

    func request(_ json: String) throws -> GenerationRequest {
        try JSON.decode(GenerationRequest.self, from: Array(json.utf8))
    }

    func input(_ json: String) throws -> PresetInput {
        try JSON.decode(PresetInput.self, from: Array(json.utf8))
    }

    static let withTeamLoRA = #"{"model":"sd15-base","prompt":"x","loras":[{"key":"design-style","weight":0.8}]}"#

    @Test func aTeamModelIsVisibleAndUsableToItsMembersOnly() async throws {
        for caller in [Self.ann, Self.bob] {
            #expect(try await catalog.models(for: caller, kind: .lora, base: nil, source: nil).map(\.key) == ["design-style"])
            #expect(try await catalog.model(key: "design-style", for: caller).source == .team)
            let submitted = try await generations.submit(.params(try request(Self.withTeamLoRA)), caller: caller)
            #expect(submitted.view.task.params.loras.map(\.key) == ["design-style"])
        }
        for caller in [Self.cy, Self.cloudTenant] {
            #expect(try await catalog.models(for: caller, kind: nil, base: nil, source: .team).isEmpty)
            await #expect(throws: ServiceError.notFound("no model \"design-style\"")) { try await catalog.model(key: "design-style", for: caller) }
            await #expect(throws: InvalidInput.self) { try await generations.submit(.params(try request(Self.withTeamLoRA)), caller: caller) }
        }
        #expect(try await catalog.models(for: Self.cy, kind: .lora, base: nil, source: nil).map(\.key) == ["cy-own"])
    }

    @Test func aSharedPresetIsRunByMembersAndChangedByItsOwnerOnly() async throws {
        let shared = try await presets.create(
            try input(#"{"name":"house","params":\#(Self.withTeamLoRA),"overridable":["prompt"],"shared_with_team":"design"}"#), caller: Self.ann)
        #expect(shared.sharedWithTeam == "design")

        // bob, a member: reads, lists and runs it; the task is his.
        #expect(try await presets.preset(id: shared.id, version: nil, caller: Self.bob).id == shared.id)
        #expect(try await presets.list(caller: Self.bob, limit: 10, before: nil).presets.map(\.id) == [shared.id])
        let run = try JSON.decode(PresetRun.self, from: Array(#"{"preset":"\#(shared.id)","overrides":{"prompt":"mine"}}"#.utf8))
        let task = try await generations.submit(.preset(run), caller: Self.bob).view.task
        #expect(task.tenant == "bob")
        #expect(task.preset == PresetRef(id: shared.id, version: 1))

        // ...but may not change or delete it.
        let change = try input(#"{"name":"hijacked","params":{"model":"sd15-base","prompt":"y"}}"#)
        await #expect(throws: ServiceError.self) { try await presets.update(id: shared.id, change, caller: Self.bob) }
        do {
            try await presets.delete(id: shared.id, caller: Self.bob)
            Issue.record("a member deleted the owner's preset")
        } catch let error as ServiceError {
            guard case .forbidden = error else { throw error }
        }
        #expect(try await presets.preset(id: shared.id, version: nil, caller: Self.ann).name == "house")

        // cy, not a member, and a cloud tenant: as if it did not exist.
        for outsider in [Self.cy, Self.cloudTenant] {
            await #expect(throws: ServiceError.notFound("no preset \"\(shared.id)\"")) {
                try await presets.preset(id: shared.id, version: nil, caller: outsider)
            }
            await #expect(throws: ServiceError.notFound("no preset \"\(shared.id)\"")) { try await presets.delete(id: shared.id, caller: outsider) }
            await #expect(throws: ServiceError.notFound("no preset \"\(shared.id)\"")) { try await generations.submit(.preset(run), caller: outsider) }
            #expect(try await presets.list(caller: outsider, limit: 10, before: nil).presets.isEmpty)
        }

        // The owner unshares it: bob loses it at once.
        _ = try await presets.update(id: shared.id, try input(#"{"name":"house","params":\#(Self.withTeamLoRA)}"#), caller: Self.ann)
        await #expect(throws: ServiceError.notFound("no preset \"\(shared.id)\"")) { try await generations.submit(.preset(run), caller: Self.bob) }
    }

    @Test func sharingShowsTheTeamNoVersionWrittenBeforeItWasShared() async throws {
        let privateFirst = try await presets.create(
            try input(#"{"name":"draft","params":{"model":"sd15-base","prompt":"private draft"}}"#), caller: Self.ann)
        _ = try await presets.update(
            id: privateFirst.id, try input(#"{"name":"v2","params":{"model":"sd15-base","prompt":"for design"},"shared_with_team":"design"}"#),
            caller: Self.ann)
        #expect(try await presets.preset(id: privateFirst.id, version: 2, caller: Self.dee).name == "v2")
        await #expect(throws: ServiceError.self) { try await presets.preset(id: privateFirst.id, version: 1, caller: Self.dee) }
        let pinned = try JSON.decode(PresetRun.self, from: Array(#"{"preset":"\#(privateFirst.id)","preset_version":1}"#.utf8))
        await #expect(throws: ServiceError.self) { try await generations.submit(.preset(pinned), caller: Self.dee) }
        #expect(try await presets.preset(id: privateFirst.id, version: 1, caller: Self.ann).name == "draft", "its owner sees every version")

        // Moved to another team of ann's: brand sees from v3 only, not what design was given.
        let both = Caller(tenant: "ann", teams: ["design", "brand"])
        _ = try await presets.update(
            id: privateFirst.id, try input(#"{"name":"v3","params":{"model":"sd15-base","prompt":"for brand"},"shared_with_team":"brand"}"#),
            caller: both)
        let brand = Caller(tenant: "eve", teams: ["brand"])
        #expect(try await presets.preset(id: privateFirst.id, version: nil, caller: brand).version == 3)
        await #expect(throws: ServiceError.self) { try await presets.preset(id: privateFirst.id, version: 2, caller: brand) }
        await #expect(throws: ServiceError.self) { try await presets.preset(id: privateFirst.id, version: 3, caller: Self.dee) }
    }

    @Test func aPresetIsSharedOnlyWithATeamOfItsOwner() async throws {
        for (caller, team) in [(Self.ann, "sales"), (Self.cloudTenant, "design"), (Self.cy, "")] {
            let attempt = try input(#"{"name":"p","params":{"model":"sd15-base","prompt":"x"},"shared_with_team":"\#(team)"}"#)
            await #expect(throws: InvalidInput("shared_with_team", "must be one of your teams")) { try await presets.create(attempt, caller: caller) }
        }
    }
}
