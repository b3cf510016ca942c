import Foundation
import MuseCore
import MuseInfra
import MuseJSON
import MuseWorkerProtocol
import Testing

/// The stores one contract test runs against, opened empty for that test.
struct StoresUnderTest {
    let tasks: any TaskStore & DispatchStore & TaskEventStore
    let models: any ModelStore
    let presets: any PresetStore
    let idempotency: any IdempotencyStore
    let webhooks: any WebhookStore
    let datasets: any DatasetStore
    let jobs: any JobStore
}

/// Every store implementation the contract runs against. Each test takes all of them as its
/// arguments, so a new store (PostgreSQL) runs the whole suite by adding its case and `open`.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite

    var testDescription: String { rawValue }

    func open() async throws -> StoresUnderTest {
        switch self {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muse-contract-\(UUID().uuidString)").path
            let stores = try await EmbeddedStores.open(dataDir: dir, pool: BlockingPool(threads: 2))
            return StoresUnderTest(
                tasks: stores.tasks, models: stores.models, presets: stores.presets, idempotency: stores.idempotency, webhooks: stores.webhooks,
                datasets: stores.datasets, jobs: stores.jobs)
        }
    }
}

/// Tasks and claims as the contract tests write them.
enum Given {
    static func task(
        _ tenant: String = "acme", prompt: String = "fox", model: String = "sd15-base", width: Int = 512, priority: Priority = .online,
        schedule: Schedule = .now, initImage: String? = nil, webhookURL: String? = nil, createdAt: Date = Date()
    ) -> GenerationTask {
        let params = GenerationParams(
            model: model, prompt: prompt, negativePrompt: "", width: width, height: 512, steps: 20, guidanceScale: 7,
            sampler: .eulerA, seed: 1, numImages: 1, loras: [], initImage: initImage, strength: 0.75, priority: priority,
            schedule: schedule, webhookURL: webhookURL, metadata: .object([("k", .string("v"))])
        )
        return GenerationTask(id: IDGenerator.make("gen", at: createdAt), tenant: tenant, params: params, createdAt: createdAt)
    }

    static func claim(
        _ stores: StoresUnderTest, worker: String = "w-1", abilities: Set<Ability> = Ability.generation, preferring models: [String] = [],
        loadedAnywhere: Set<String> = [], lease: TimeInterval = 60, limit: Int = 1
    ) async throws -> [Attempt] {
        try await stores.tasks.claimNext(
            workerID: worker, abilities: abilities, preferredModels: models, loadedAnywhere: loadedAnywhere,
            agedBefore: Date().addingTimeInterval(-10), leaseUntil: Date().addingTimeInterval(lease), limit: limit
        )
    }

    static func image(_ id: String = IDGenerator.make("img")) -> TaskImage {
        TaskImage(id: id, width: 512, height: 512, seed: 1)
    }
}
