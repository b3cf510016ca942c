import Yams

/// A profile's additions to `openapi.yaml`: mappings merge key by key (its paths, schemas,
/// security scheme), anything else in the overlay replaces the base's value (its title).
public enum OpenAPIOverlay {
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static func merge(base: [UInt8], overlay: [UInt8]) throws -> [UInt8] {
        guard let baseNode = try Yams.compose(yaml: String(decoding: base, as: UTF8.self)),
            let overlayNode = try Yams.compose(yaml: String(decoding: overlay, as: UTF8.self))
        else { throw Invalid(description: "an OpenAPI document or its overlay is empty") }
        return Array(try Yams.serialize(node: merged(baseNode, overlayNode), width: -1).utf8)
    }

    private static func merged(_ base: Node, _ overlay: Node) -> Node {
        guard case .mapping(var into) = base, case .mapping(let from) = overlay else { return overlay }
        for (key, value) in from {
            into[key] = into[key].map { merged($0, value) } ?? value
        }
        return .mapping(into)
    }
}
