import Foundation
import MuseCore
import MuseJSON
import Testing

/// `PresetStore`: versions, owners, sharing with a team, deletion.
@Suite struct PresetStoreContract {
    func preset(_ tenant: String = "acme", name: String = "p") -> Preset {
        Preset(
            id: IDGenerator.make("pre"), tenant: tenant, name: name, description: "", version: 1,
            params: .object([("model", .string("sd15-base")), ("prompt", .string("fox"))]), overridable: ["prompt"], createdAt: Date(), updatedAt: Date())
    }

    @Test(arguments: StoreKind.allCases) func anUpdateMakesANewVersionAndKeepsTheOld(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        var p = preset()
        try await stores.presets.create(p)
        p.name = "renamed"
        let v2 = try await stores.presets.update(p)
        #expect(v2?.version == 2)
        #expect(try await stores.presets.preset(id: p.id, version: nil)?.name == "renamed")
        #expect(try await stores.presets.preset(id: p.id, version: 1)?.name == "p")
        #expect(try await stores.presets.preset(id: p.id, version: 3) == nil)
        var foreign = p
        foreign.tenant = "globex"
        #expect(try await stores.presets.update(foreign) == nil, "another tenant cannot update it")
        #expect(try await stores.presets.delete(id: p.id, tenant: "globex") == false)
        #expect(try await stores.presets.delete(id: p.id, tenant: "acme"))
        #expect(try await stores.presets.preset(id: p.id, version: 1) == nil, "a deleted preset is gone for reads")
        #expect(try await stores.presets.delete(id: p.id, tenant: "acme") == false)
    }

    @Test(arguments: StoreKind.allCases) func listsAreNewestFirstPerTenant(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        var ids: [String] = []
        for i in 0..<5 {
            let p = preset(name: "p\(i)")
            ids.append(p.id)
            try await stores.presets.create(p)
            try await Task.sleep(for: .milliseconds(1))
        }
        try await stores.presets.create(preset("globex"))
        let first = try await stores.presets.list(visibleTo: Caller(tenant: "acme"), limit: 3, before: nil)
        let rest = try await stores.presets.list(visibleTo: Caller(tenant: "acme"), limit: 3, before: first.last?.id)
        #expect((first + rest).map(\.id) == ids.reversed())
    }

    @Test(arguments: StoreKind.allCases) func aSharedPresetIsListedForTheTeamsMembersUntilItsOwnerUnsharesIt(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        var shared = preset("ann", name: "shared")
        shared.sharedWithTeam = "design"
        try await stores.presets.create(shared)
        let own = preset("bob", name: "own")
        try await stores.presets.create(own)
        var elsewhere = preset("cy", name: "elsewhere")
        elsewhere.sharedWithTeam = "sales"
        try await stores.presets.create(elsewhere)

        let bob = Caller(tenant: "bob", teams: ["design", "brand"])
        #expect(try await stores.presets.list(visibleTo: bob, limit: 10, before: nil).map(\.id) == [own.id, shared.id])
        #expect(try await stores.presets.list(visibleTo: Caller(tenant: "dee"), limit: 10, before: nil).isEmpty)
        #expect(try await stores.presets.preset(id: shared.id, version: nil)?.sharedWithTeam == "design")

        var unshared = shared
        unshared.sharedWithTeam = nil
        #expect(try await stores.presets.update(unshared)?.sharedWithTeam == nil)
        #expect(try await stores.presets.list(visibleTo: bob, limit: 10, before: nil).map(\.id) == [own.id])
        #expect(try await stores.presets.preset(id: shared.id, version: 1)?.sharedWithTeam == nil, "sharing belongs to the preset, not a version")
    }

    @Test(arguments: StoreKind.allCases) func aShareRemembersTheFirstVersionTheTeamWasGiven(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        var p = preset("ann")
        try await stores.presets.create(p)  // v1, private
        #expect(try await stores.presets.preset(id: p.id, version: nil)?.sharedWithTeam == nil)
        p.sharedWithTeam = "design"
        #expect(try await stores.presets.update(p)?.sharedSince == 2, "shared from v2")
        #expect(try await stores.presets.update(p)?.sharedSince == 2, "the same team keeps it at v3")
        p.sharedWithTeam = "brand"
        #expect(try await stores.presets.update(p)?.sharedSince == 4, "another team starts at v4")
        p.sharedWithTeam = nil
        #expect(try await stores.presets.update(p)?.sharedWithTeam == nil)
        p.sharedWithTeam = "brand"
        #expect(try await stores.presets.update(p)?.sharedSince == 6, "shared again: from v6")
        #expect(try await stores.presets.preset(id: p.id, version: 1)?.sharedSince == 6)
    }
}
