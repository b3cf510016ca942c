import Foundation
import Logging
import MuseCore
import MuseHTTP
import MuseInfra
import NIOCore

/// `GET /v1/openapi.yaml`: the API description (`openapi.yaml`), read once at start-up.
public struct OpenAPIController: Sendable {
    let document: ByteBuffer?

    /// Reads `path`, or with no path serves the document built into the binary; a missing file is
    /// logged and the route answers 404 (a packaging mistake, not a reason to stop serving).
    public init(path: String, logger: Logger) {
        if path.isEmpty {
            document = ByteBuffer(bytes: BundledFiles.openAPI)
        } else if let data = FileManager.default.contents(atPath: path) {
            document = ByteBuffer(bytes: data)
        } else {
            logger.warning("the OpenAPI document is missing; GET /v1/openapi.yaml answers 404", metadata: ["file": "\(path)"])
            document = nil
        }
    }

    public func register(on routes: RouteGroup) {
        routes.get("/v1/openapi.yaml") { _, _ in
            guard let document else { throw HTTPError.notFound("this deployment ships no OpenAPI document") }
            return .bytes(document, contentType: "application/yaml")
        }
    }
}
