import Foundation

/// A tenant's set of training images with their captions (`ds_…`).
public struct Dataset: Sendable, Equatable {
    public let id: String
    public let tenant: String
    public var name: String
    /// One of the configured dataset categories (`GET /v1/training/dataset-categories`).
    public var category: String
    public var imageCount: Int
    public let createdAt: Date
    public var updatedAt: Date

    public init(id: String, tenant: String, name: String, category: String, imageCount: Int = 0, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.category = category
        self.imageCount = imageCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One image of a dataset (`img_…`): its bytes live in the blob store under `blobKey`.
public struct DatasetImage: Sendable, Equatable {
    public let id: String
    public let datasetID: String
    public let format: ImageProbe.Format
    public var width: Int
    public var height: Int
    public var bytes: Int
    /// Hex SHA-256 of the stored bytes.
    public var sha256: String
    public var caption: String
    /// 1 as uploaded; each crop job's output is the next version.
    public var version: Int
    public let createdAt: Date

    public init(
        id: String, datasetID: String, format: ImageProbe.Format, width: Int, height: Int, bytes: Int, sha256: String, caption: String = "",
        version: Int = 1, createdAt: Date
    ) {
        self.id = id
        self.datasetID = datasetID
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
        self.sha256 = sha256
        self.caption = caption
        self.version = version
        self.createdAt = createdAt
    }

    /// Where the bytes of this version are: a new version never overwrites an older one's file.
    public var blobKey: String { "\(id)-v\(version).\(format.fileExtension)" }
}

/// A dataset category from config: what a client offers in its picker.
public struct DatasetCategory: Sendable, Equatable, Codable {
    public let key: String
    public let name: String
    public let description: String

    public init(key: String, name: String, description: String) {
        self.key = key
        self.name = name
        self.description = description
    }
}
