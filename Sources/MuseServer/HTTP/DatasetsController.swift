import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra

/// `/v1/datasets` and `/v1/training/dataset-categories`: HTTP work only. Image uploads are raw
/// `image/png` or `image/jpeg` bodies, limited by the route from their head (413 before a byte
/// of a larger body is read), and streamed to the blob store as they arrive.
public struct DatasetsController: Sendable {
    let service: DatasetService
    let maxImageBytes: Int

    public init(service: DatasetService, maxImageBytes: Int) {
        self.service = service
        self.maxImageBytes = maxImageBytes
    }

    struct CreateBody: Decodable {
        let name: String
        let category: String
    }

    struct CaptionBody: Decodable {
        let caption: String
    }

    public func register(on routes: RouteGroup) {
        routes.get("/v1/training/dataset-categories") { _, context in
            _ = try context.caller()
            return try .json(ListResource(data: service.listCategories(), nextCursor: nil))
        }
        routes.post("/v1/datasets") { request, context in
            let body = try JSONBody.decode(CreateBody.self, from: request)
            let dataset = try await service.create(name: body.name, category: body.category, caller: try context.caller())
            var response = try Response.json(DatasetResource(DatasetView(dataset: dataset, images: [])), status: .created)
            response.headerFields[.location] = "/v1/datasets/\(dataset.id)"
            return response
        }
        routes.get("/v1/datasets") { request, context in
            let limit = try Cursor.limit(request.query["limit"])
            let before = try Cursor.decode(request.query["cursor"], prefix: "ds")
            let page = try await service.list(caller: try context.caller(), limit: limit, before: before)
            return try .json(ListResource(data: page.datasets.map(DatasetSummary.init), nextCursor: Cursor.encode(page.next)))
        }
        routes.get("/v1/datasets/{id}") { request, context in
            try .json(DatasetResource(try await service.dataset(id: try request.parameters.require("id"), caller: try context.caller())))
        }
        routes.delete("/v1/datasets/{id}") { request, context in
            try await service.delete(id: try request.parameters.require("id"), caller: try context.caller())
            return Response(status: .noContent)
        }
        routes.post("/v1/datasets/{id}/images", maxBodyBytes: maxImageBytes, streaming: true) { request, context in
            let caller = try context.caller()
            let datasetID = try request.parameters.require("id")
            let declared = try Self.imageType(request.head.headerFields[.contentType])
            let image = try await service.upload(request.bodyChunks, declaredType: declared, datasetID: datasetID, caller: caller)
            var response = try Response.json(DatasetImageResource(image), status: .created)
            response.headerFields[.location] = DatasetImageResource.url(image)
            return response
        }
        routes.get("/v1/datasets/{id}/images/{image_id}") { request, context in
            let (image, bytes) = try await service.imageBytes(
                imageID: try request.parameters.require("image_id"), datasetID: try request.parameters.require("id"), caller: try context.caller())
            // No long cache: a crop job replaces an image's bytes with its next version.
            return ImagesController.image(bytes, contentType: image.format.contentType, cacheControl: "private, no-cache")
        }
        routes.put("/v1/datasets/{id}/images/{image_id}/caption") { request, context in
            let body = try JSONBody.decode(CaptionBody.self, from: request)
            let image = try await service.setCaption(
                body.caption, imageID: try request.parameters.require("image_id"), datasetID: try request.parameters.require("id"),
                caller: try context.caller())
            return try .json(DatasetImageResource(image))
        }
        routes.delete("/v1/datasets/{id}/images/{image_id}") { request, context in
            try await service.removeImage(
                imageID: try request.parameters.require("image_id"), datasetID: try request.parameters.require("id"), caller: try context.caller())
            return Response(status: .noContent)
        }
    }

    /// The declared type of an upload: `image/png` or `image/jpeg` (parameters ignored), else 415.
    static func imageType(_ contentType: String?) throws(HTTPError) -> ImageProbe.Format {
        let mediaType = (contentType?.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        switch mediaType {
        case "image/png": return .png
        case "image/jpeg": return .jpeg
        default: throw HTTPError(.unsupportedMediaType, detail: "Content-Type must be image/png or image/jpeg")
        }
    }
}

/// A dataset in a list: without its images.
struct DatasetSummary: Encodable {
    let id: String
    let name: String
    let category: String
    let imageCount: Int
    let createdAt: String?
    let updatedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, category
        case imageCount = "image_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ dataset: Dataset) {
        id = dataset.id
        name = dataset.name
        category = dataset.category
        imageCount = dataset.imageCount
        createdAt = APITime.format(dataset.createdAt)
        updatedAt = APITime.format(dataset.updatedAt)
    }
}

/// The dataset object of docs/API.md: its fields and its images with their captions.
struct DatasetResource: Encodable {
    let id: String
    let name: String
    let category: String
    let imageCount: Int
    let images: [DatasetImageResource]
    let createdAt: String?
    let updatedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, name, category, images
        case imageCount = "image_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    init(_ view: DatasetView) {
        let summary = DatasetSummary(view.dataset)
        id = summary.id
        name = summary.name
        category = summary.category
        imageCount = summary.imageCount
        images = view.images.map(DatasetImageResource.init)
        createdAt = summary.createdAt
        updatedAt = summary.updatedAt
    }
}

/// One image of a dataset.
struct DatasetImageResource: Encodable {
    let id: String
    let url: String
    let contentType: String
    let width: Int
    let height: Int
    let bytes: Int
    let sha256: String
    let caption: String
    let version: Int
    let createdAt: String?

    enum CodingKeys: String, CodingKey {
        case id, url, width, height, bytes, sha256, caption, version
        case contentType = "content_type"
        case createdAt = "created_at"
    }

    static func url(_ image: DatasetImage) -> String { "/v1/datasets/\(image.datasetID)/images/\(image.id)" }

    init(_ image: DatasetImage) {
        id = image.id
        url = Self.url(image)
        contentType = image.format.contentType
        width = image.width
        height = image.height
        bytes = image.bytes
        sha256 = image.sha256
        caption = image.caption
        version = image.version
        createdAt = APITime.format(image.createdAt)
    }
}
