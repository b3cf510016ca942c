import Foundation
import MuseCore
import Testing

/// `DatasetStore`: owners, the image cap under concurrent uploads, captions, removal.
@Suite struct DatasetStoreContract {
    func dataset(_ tenant: String = "acme") -> Dataset {
        Dataset(id: IDGenerator.make("ds"), tenant: tenant, name: "faces", category: "person", createdAt: Date(), updatedAt: Date())
    }

    func image(in dataset: Dataset) -> DatasetImage {
        DatasetImage(
            id: IDGenerator.make("img"), datasetID: dataset.id, format: .png, width: 64, height: 48, bytes: 100, sha256: String(repeating: "0", count: 64),
            createdAt: Date())
    }

    @Test(arguments: StoreKind.allCases) func aDatasetIsItsOwnersOnly(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let ds = dataset()
        try await stores.datasets.create(ds)
        try await stores.datasets.create(dataset("globex"))
        #expect(try await stores.datasets.dataset(id: ds.id, tenant: "acme")?.name == "faces")
        #expect(try await stores.datasets.dataset(id: ds.id, tenant: "globex") == nil)
        #expect(try await stores.datasets.list(tenant: "acme", limit: 10, before: nil).map(\.id) == [ds.id])
        #expect(try await stores.datasets.add(image(in: ds), tenant: "globex", maxImages: 10) == .noDataset)
        #expect(try await stores.datasets.delete(id: ds.id, tenant: "globex") == nil)
        #expect(try await stores.datasets.dataset(id: ds.id, tenant: "acme") != nil)
    }

    @Test(arguments: StoreKind.allCases) func concurrentUploadsNeverPassTheCap(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let ds = dataset()
        try await stores.datasets.create(ds)
        let outcomes = try await withThrowingTaskGroup(of: DatasetAddOutcome.self) { group in
            for _ in 0..<20 { group.addTask { try await stores.datasets.add(image(in: ds), tenant: "acme", maxImages: 5) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .full }.count == 15)
        #expect(try await stores.datasets.dataset(id: ds.id, tenant: "acme")?.imageCount == 5)
        #expect(try await stores.datasets.images(datasetID: ds.id).count == 5)
    }

    @Test(arguments: StoreKind.allCases) func aNewVersionIsSavedOnlyWhileItsCropAttemptIsCurrent(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let ds = dataset()
        try await stores.datasets.create(ds)
        let original = image(in: ds)
        _ = try await stores.datasets.add(original, tenant: "acme", maxImages: 10)
        let crop = TrainingJob(
            id: IDGenerator.make("job"), tenant: "acme", owners: ["acme"], kind: .crop, datasetID: ds.id, params: .object([]), createdAt: Date())
        try await stores.jobs.create(crop)
        let attempt = IDGenerator.make("att")
        _ = try await stores.jobs.claim(kinds: [.crop], workerID: "w", reservedFor: [], attemptID: attempt, at: Date())
        let next = DatasetImage(
            id: original.id, datasetID: ds.id, format: .png, width: 32, height: 32, bytes: 50, sha256: String(repeating: "1", count: 64), caption: "",
            version: original.version + 1, createdAt: original.createdAt)
        #expect(try await stores.datasets.saveVersion(next, whileAttempt: IDGenerator.make("att")) == nil, "not the job's attempt")
        #expect(try await stores.datasets.saveVersion(next, whileAttempt: attempt)?.width == 32)
        #expect(try await stores.datasets.saveVersion(next, whileAttempt: attempt) == nil, "that version is taken")
        // Canceled: the attempt is no longer current, and a later version is not saved.
        _ = try await stores.jobs.cancel(id: crop.id, tenant: "acme", at: Date())
        var third = next
        third.version += 1
        #expect(try await stores.datasets.saveVersion(third, whileAttempt: attempt) == nil)
        #expect(try await stores.datasets.images(datasetID: ds.id).first?.version == next.version)
    }

    @Test(arguments: StoreKind.allCases) func captionsAndRemovalKeepTheCountTrue(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let ds = dataset()
        try await stores.datasets.create(ds)
        let first = image(in: ds)
        let second = image(in: ds)
        _ = try await stores.datasets.add(first, tenant: "acme", maxImages: 10)
        _ = try await stores.datasets.add(second, tenant: "acme", maxImages: 10)
        #expect(try await stores.datasets.setCaption("a fox", imageID: first.id, datasetID: ds.id, tenant: "acme")?.caption == "a fox")
        #expect(try await stores.datasets.setCaption("mine now", imageID: first.id, datasetID: ds.id, tenant: "globex") == nil)
        #expect(try await stores.datasets.removeImage(id: first.id, datasetID: ds.id, tenant: "globex") == nil)
        #expect(try await stores.datasets.removeImage(id: first.id, datasetID: ds.id, tenant: "acme")?.id == first.id)
        #expect(try await stores.datasets.removeImage(id: first.id, datasetID: ds.id, tenant: "acme") == nil)
        #expect(try await stores.datasets.dataset(id: ds.id, tenant: "acme")?.imageCount == 1)
        #expect(try await stores.datasets.images(datasetID: ds.id).map(\.caption) == [""])
        #expect(try await stores.datasets.delete(id: ds.id, tenant: "acme")?.map(\.id) == [second.id])
        #expect(try await stores.datasets.dataset(id: ds.id, tenant: "acme") == nil)
        #expect(try await stores.datasets.images(datasetID: ds.id).isEmpty)
    }
}
