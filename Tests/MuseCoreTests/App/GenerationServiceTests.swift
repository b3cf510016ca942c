import Foundation
import MuseInfra
import MuseJSON
import Testing

@testable import MuseCore

/// The generation use cases against real SQLite stores in a temporary directory.
@Suite struct GenerationServiceTests {
    let stores: EmbeddedStores
    let service: GenerationService

    init() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-core-\(UUID().uuidString)").path
        stores = try await EmbeddedStores.open(dataDir: dir, pool: BlockingPool(threads: 2))
        // The repository's catalogue.
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/models.yaml").path
        _ = try await CatalogService(store: stores.models).importModels(CatalogFile.read(file))
        let settings = LiveSettings(
            DynamicSettings(limits: GenerationLimits(), offPeak: OffPeakWindow(startHour: 1, endHour: 6), modelAffinity: true, maxAffinityWait: 30))
        service = GenerationService(
            tasks: stores.tasks, models: stores.models, presets: stores.presets, idempotencyKeys: stores.idempotency, settings: settings)
    }

    func submission(_ json: String) throws -> Submission {
        .params(try JSON.decode(GenerationRequest.self, from: Array(json.utf8)))
    }

    @Test func aSubmitResolvesDefaultsCommitsAndAnswersItsQueuePosition() async throws {
        let first = try await service.submit(try submission(#"{"model":"sd15-base","prompt":"a fox"}"#), caller: Caller(tenant: "acme"))
        #expect(first.view.task.status == .queued && first.view.queuePosition == 0 && !first.replayed)
        #expect(first.view.task.params.width == 512 && first.view.task.params.steps > 0, "the model's defaults")
        let second = try await service.submit(try submission(#"{"model":"sd15-base","prompt":"another"}"#), caller: Caller(tenant: "acme"))
        #expect(second.view.queuePosition == 1)
        #expect(try await stores.tasks.task(id: first.view.task.id, tenant: "acme")?.params == first.view.task.params, "durable once it returns")
    }

    @Test func aBadSubmitNamesTheFieldAndStoresNothing() async throws {
        await #expect(throws: InvalidInput.self) {
            try await service.submit(try submission(#"{"model":"no-such-model","prompt":"x"}"#), caller: Caller(tenant: "acme"))
        }
        #expect(try await stores.tasks.list(tenant: "acme", status: nil, limit: 10, before: nil).isEmpty)
    }

    @Test func anIdempotencyKeyReplaysTheFirstTaskAndRefusesAnotherBody() async throws {
        let key = IdempotencyKey(key: "k1", bodyHash: "h1")
        let first = try await service.submit(try submission(#"{"model":"sd15-base","prompt":"once"}"#), caller: Caller(tenant: "acme"), idempotency: key)
        let again = try await service.submit(try submission(#"{"model":"sd15-base","prompt":"once"}"#), caller: Caller(tenant: "acme"), idempotency: key)
        #expect(again.replayed && again.view.task.id == first.view.task.id)
        await #expect(throws: ServiceError.self) {
            try await service.submit(
                try submission(#"{"model":"sd15-base","prompt":"other"}"#), caller: Caller(tenant: "acme"),
                idempotency: IdempotencyKey(key: "k1", bodyHash: "h2"))
        }
        #expect(try await stores.tasks.list(tenant: "acme", status: nil, limit: 10, before: nil).count == 1)
    }

    @Test func aCancelIsOnceThenAConflictAndAnotherTenantSeesNothing() async throws {
        let submitted = try await service.submit(try submission(#"{"model":"sd15-base","prompt":"stop me"}"#), caller: Caller(tenant: "acme"))
        let id = submitted.view.task.id
        await #expect(throws: ServiceError.notFound("no generation \"\(id)\"")) { try await service.cancel(id: id, tenant: "globex") }
        #expect(try await service.cancel(id: id, tenant: "acme").task.status == .canceled)
        await #expect(throws: ServiceError.conflict("generation \(id) is already canceled")) { try await service.cancel(id: id, tenant: "acme") }
    }
}
