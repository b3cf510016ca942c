import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra
import NIOCore

/// `GET /v1/images/{id}`: the PNG bytes, to the tenant whose task made them.
public struct ImagesController: Sendable {
    let store: any TaskStore
    let images: any BlobStore

    public init(store: any TaskStore, images: any BlobStore) {
        self.store = store
        self.images = images
    }

    private static let noSniff = HTTPField.Name("X-Content-Type-Options")!

    public func register(on routes: RouteGroup) {
        routes.get("/v1/images/{id}") { request, context in
            let id = try request.parameters.require("id")
            guard try await store.imageTenant(id) == context.tenant(), let png = try await images.get(id + ".png") else {
                throw HTTPError.notFound("no image \"\(id)\"")
            }
            return Self.png(png, cacheControl: "private, max-age=31536000, immutable")
        }
    }

    /// A generated PNG as a response. The bytes came from a worker: a browser must never read them
    /// as anything but an image.
    public static func png(_ bytes: [UInt8], cacheControl: String) -> Response {
        var response = Response.bytes(ByteBuffer(bytes: bytes), contentType: "image/png")
        response.headerFields[.cacheControl] = cacheControl
        response.headerFields[noSniff] = "nosniff"
        response.headerFields[.contentSecurityPolicy] = "default-src 'none'"
        return response
    }
}
