import Foundation

/// Where datasets and their images' records live (the bytes are in a `BlobStore`). Every read and
/// write is scoped to the owning tenant: another tenant's id is the same as no id.
public protocol DatasetStore: Sendable {
    func create(_ dataset: Dataset) async throws
    func dataset(id: String, tenant: String) async throws -> Dataset?
    func count(tenant: String) async throws -> Int
    /// The tenant's datasets, newest first; `before` is the last id of the previous page.
    func list(tenant: String, limit: Int, before: String?) async throws -> [Dataset]
    /// The dataset's images, oldest first.
    func images(datasetID: String) async throws -> [DatasetImage]
    /// Adds the image unless the dataset holds `maxImages` already (then `.full`).
    func add(_ image: DatasetImage, tenant: String, maxImages: Int) async throws -> DatasetAddOutcome
    /// Sets an image's caption; nil if the tenant has no such image in that dataset.
    func setCaption(_ caption: String, imageID: String, datasetID: String, tenant: String) async throws -> DatasetImage?
    /// Saves `image` as the next version of the record with its id, if that record is still at
    /// `image.version - 1` in the dataset and the crop job's attempt `attemptID` is still current
    /// (dispatched or running), in one transaction; nil otherwise (a canceled crop changes nothing).
    func saveVersion(_ image: DatasetImage, whileAttempt attemptID: String) async throws -> DatasetImage?
    /// Removes the image's record and returns it (its blob is the caller's to delete); nil if none.
    func removeImage(id: String, datasetID: String, tenant: String) async throws -> DatasetImage?
    /// Removes the dataset and its images' records and returns the images; nil if none.
    func delete(id: String, tenant: String) async throws -> [DatasetImage]?
}

/// What adding an image to a dataset came to.
public enum DatasetAddOutcome: Sendable, Equatable {
    case added(Dataset)
    case noDataset
    case full
}
