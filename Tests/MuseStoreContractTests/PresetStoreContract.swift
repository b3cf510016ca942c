import Foundation
import MuseCore
import MuseJSON
import Testing

/// `PresetStore`: versions, tenants, deletion.
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
        #expect(try await stores.presets.preset(id: p.id, tenant: "acme", version: nil)?.name == "renamed")
        #expect(try await stores.presets.preset(id: p.id, tenant: "acme", version: 1)?.name == "p")
        #expect(try await stores.presets.preset(id: p.id, tenant: "globex", version: nil) == nil)
        var foreign = p
        foreign.tenant = "globex"
        #expect(try await stores.presets.update(foreign) == nil, "another tenant cannot update it")
        #expect(try await stores.presets.delete(id: p.id, tenant: "globex") == false)
        #expect(try await stores.presets.delete(id: p.id, tenant: "acme"))
        #expect(try await stores.presets.preset(id: p.id, tenant: "acme", version: 1) == nil, "a deleted preset is gone for reads")
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
        let first = try await stores.presets.list(tenant: "acme", limit: 3, before: nil)
        let rest = try await stores.presets.list(tenant: "acme", limit: 3, before: first.last?.id)
        #expect((first + rest).map(\.id) == ids.reversed())
    }
}
