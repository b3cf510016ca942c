import Foundation
import MuseJSON

/// A dataset with its images, as `GET /v1/datasets/{id}` shows it.
public struct DatasetView: Sendable {
    public let dataset: Dataset
    public let images: [DatasetImage]

    public init(dataset: Dataset, images: [DatasetImage]) {
        self.dataset = dataset
        self.images = images
    }
}

/// Dataset use cases: create, upload images (checked by their bytes, stored as blobs before their
/// record commits), caption, remove, delete. Datasets are their tenant's only: another tenant's id
/// is 404, as one that does not exist.
public struct DatasetService: Sendable {
    let store: any DatasetStore
    /// To refuse deleting a dataset that a job still uses.
    let jobs: any JobStore
    let blobs: any BlobStore
    let digests: any Digests
    let limits: DatasetLimits
    let categories: [DatasetCategory]

    public init(
        store: any DatasetStore, jobs: any JobStore, blobs: any BlobStore, digests: any Digests, limits: DatasetLimits, categories: [DatasetCategory]
    ) {
        self.store = store
        self.jobs = jobs
        self.blobs = blobs
        self.digests = digests
        self.limits = limits
        self.categories = categories
    }

    public static let maxNameScalars = 200
    public static let maxCaptionScalars = 2000

    public func listCategories() -> [DatasetCategory] { categories }

    public func create(name: String, category: String, caller: Caller) async throws -> Dataset {
        guard DisplayText.isValid(name, maxScalars: Self.maxNameScalars) else {
            throw InvalidInput("name", "1 to \(Self.maxNameScalars) characters, not only spaces, no control, invisible or direction characters")
        }
        guard categories.contains(where: { $0.key == category }) else {
            throw InvalidInput("category", "one of \(categories.map(\.key).joined(separator: ", ")) (GET /v1/training/dataset-categories)")
        }
        guard try await store.count(tenant: caller.tenant) < limits.maxDatasetsPerTenant else {
            throw ServiceError.quotaExceeded("you have \(limits.maxDatasetsPerTenant) datasets, the most (datasets.max_per_tenant): delete one first")
        }
        let now = Date()
        let dataset = Dataset(id: IDGenerator.make("ds", at: now), tenant: caller.tenant, name: name, category: category, createdAt: now, updatedAt: now)
        try await store.create(dataset)
        return dataset
    }

    public func dataset(id: String, caller: Caller) async throws -> DatasetView {
        let dataset = try await existing(id, caller)
        return DatasetView(dataset: dataset, images: try await store.images(datasetID: dataset.id))
    }

    public func list(caller: Caller, limit: Int, before: String?) async throws -> (datasets: [Dataset], next: String?) {
        let split = Page.split(try await store.list(tenant: caller.tenant, limit: limit + 1, before: before), limit: limit, id: \.id)
        return (split.items, split.next)
    }

    /// Stores `bytes` as a new image of the dataset. `declaredType` is the request's Content-Type;
    /// the bytes must be what it says. The blob is written (and synced) first, then the record:
    /// a crash between leaves an unnamed file, never a record without its bytes.
    /// Takes the body as it arrives (`chunks`): written to the blob store, never held whole in
    /// memory, checked where it lies, and given a key only once it passes.
    public func upload<Chunks: AsyncSequence>(
        _ chunks: Chunks, declaredType: ImageProbe.Format, datasetID: String, caller: Caller
    ) async throws -> DatasetImage where Chunks.Element == [UInt8] {
        // A full dataset is refused before its body is read (the add below decides under a race).
        guard try await existing(datasetID, caller).imageCount < limits.maxImagesPerDataset else { throw full }
        let upload = try await blobs.begin()
        let image: DatasetImage
        do {
            let received = try await UploadedImage.receive(chunks, into: upload, declaredType: declaredType, digests: digests)
            let info = received.info
            guard info.width <= limits.maxImageSide, info.height <= limits.maxImageSide, info.width * info.height <= limits.maxImagePixels else {
                throw InvalidInput(
                    "body", "the image is \(info.width)×\(info.height); at most \(limits.maxImageSide) a side and \(limits.maxImagePixels) pixels")
            }
            let now = Date()
            image = DatasetImage(
                id: IDGenerator.make("img", at: now), datasetID: datasetID, format: info.format, width: info.width, height: info.height,
                bytes: received.size, sha256: received.sha256, createdAt: now)
            try await upload.commit(as: image.blobKey)
        } catch {
            await upload.discard()
            throw error
        }
        let outcome: DatasetAddOutcome
        do {
            outcome = try await store.add(image, tenant: caller.tenant, maxImages: limits.maxImagesPerDataset)
        } catch {
            try? await blobs.delete(image.blobKey)
            throw error
        }
        switch outcome {
        case .added: return image
        case .noDataset:
            try? await blobs.delete(image.blobKey)
            throw Self.noDataset(datasetID)
        case .full:
            try? await blobs.delete(image.blobKey)
            throw full
        }
    }

    /// The image's record and bytes.
    public func imageBytes(imageID: String, datasetID: String, caller: Caller) async throws -> (DatasetImage, any BlobReader) {
        let image = try await image(imageID, datasetID, caller)
        guard let bytes = try await blobs.open(image.blobKey) else { throw ServiceError.notFound("the bytes of image \"\(imageID)\" are gone") }
        return (image, bytes)
    }

    public func setCaption(_ caption: String, imageID: String, datasetID: String, caller: Caller) async throws -> DatasetImage {
        guard caption.isEmpty || DisplayText.isValid(caption, maxScalars: Self.maxCaptionScalars) else {
            throw InvalidInput("caption", "empty, or up to \(Self.maxCaptionScalars) characters with no control, invisible or direction characters")
        }
        guard let image = try await store.setCaption(caption, imageID: imageID, datasetID: datasetID, tenant: caller.tenant) else {
            throw Self.noImage(imageID, datasetID)
        }
        return image
    }

    public func removeImage(imageID: String, datasetID: String, caller: Caller) async throws {
        guard let image = try await store.removeImage(id: imageID, datasetID: datasetID, tenant: caller.tenant) else {
            throw Self.noImage(imageID, datasetID)
        }
        try? await blobs.delete(image.blobKey)
    }

    public func delete(id: String, caller: Caller) async throws {
        _ = try await existing(id, caller)
        guard try await !jobs.usesDataset(id) else {
            throw ServiceError.conflict("a crop, tag or training job that is not finished uses dataset \"\(id)\": cancel it first")
        }
        guard let images = try await store.delete(id: id, tenant: caller.tenant) else { throw Self.noDataset(id) }
        for image in images { try? await blobs.delete(image.blobKey) }
    }

    private var full: ServiceError { .conflict("the dataset already holds \(limits.maxImagesPerDataset) images, the most one may (datasets.max_images)") }

    private func existing(_ id: String, _ caller: Caller) async throws -> Dataset {
        guard let dataset = try await store.dataset(id: id, tenant: caller.tenant) else { throw Self.noDataset(id) }
        return dataset
    }

    private func image(_ id: String, _ datasetID: String, _ caller: Caller) async throws -> DatasetImage {
        _ = try await existing(datasetID, caller)
        guard let image = try await store.images(datasetID: datasetID).first(where: { $0.id == id }) else { throw Self.noImage(id, datasetID) }
        return image
    }

    static func noDataset(_ id: String) -> ServiceError { .notFound("no dataset \"\(id)\"") }
    static func noImage(_ id: String, _ datasetID: String) -> ServiceError { .notFound("no image \"\(id)\" in dataset \"\(datasetID)\"") }
}
