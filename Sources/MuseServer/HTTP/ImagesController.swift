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

    /// A generated PNG as a response.
    public static func png(_ bytes: [UInt8], cacheControl: String) -> Response {
        image(bytes, contentType: "image/png", cacheControl: cacheControl)
    }

    /// Image bytes as a response. They came from a worker or an upload: a browser must never read
    /// them as anything but an image.
    public static func image(_ bytes: [UInt8], contentType: String, cacheControl: String) -> Response {
        guarded(Response.bytes(ByteBuffer(bytes: bytes), contentType: contentType), cacheControl: cacheControl)
    }

    /// A stored image read as it is sent, with the same guards.
    static func image(_ reader: any BlobReader, contentType: String, cacheControl: String) -> Response {
        guarded(Response.blob(reader, contentType: contentType), cacheControl: cacheControl)
    }

    private static func guarded(_ response: Response, cacheControl: String) -> Response {
        var response = response
        response.headerFields[.cacheControl] = cacheControl
        response.headerFields[noSniff] = "nosniff"
        response.headerFields[.contentSecurityPolicy] = "default-src 'none'"
        return response
    }
}
