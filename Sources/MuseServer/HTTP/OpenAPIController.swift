import Foundation
import Logging
import MuseCore
import MuseHTTP
import MuseInfra
import NIOCore

/// `GET /v1/openapi.yaml`: the API description (`openapi.yaml`), read once at start-up.
public struct OpenAPIController: Sendable {
    let document: ByteBuffer?

    /// Reads `path`, or with no path serves the document built into the binary, with the
    /// profile's `overlay` merged in; a missing file is logged and the route answers 404 (a
    /// packaging mistake, not a reason to stop serving). A bad overlay stops start-up.
    public init(path: String, overlay: [UInt8]?, logger: Logger) throws {
        let base: [UInt8]
        if path.isEmpty {
            base = BundledFiles.openAPI
        } else if let data = FileManager.default.contents(atPath: path) {
            base = Array(data)
        } else {
            logger.warning("the OpenAPI document is missing; GET /v1/openapi.yaml answers 404", metadata: ["file": "\(path)"])
            document = nil
            return
        }
        document = ByteBuffer(bytes: try overlay.map { try OpenAPIOverlay.merge(base: base, overlay: $0) } ?? base)
    }

    public func register(on routes: RouteGroup) {
        routes.get("/v1/openapi.yaml") { _, _ in
            guard let document else { throw HTTPError.notFound("this deployment ships no OpenAPI document") }
            return .bytes(document, contentType: "application/yaml")
        }
    }
}
