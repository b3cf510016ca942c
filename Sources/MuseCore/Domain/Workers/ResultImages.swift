import Foundation
import MuseJSON
import MuseWorkerProtocol

/// The images of a worker's `succeeded` result, decoded and checked against the job they answer.
/// A worker is a peer, not trusted: what it sends is bounded and verified before it is kept.
public struct ResultImages: Sendable {
    /// The most bytes one decoded image may have (a 4096² RGBA PNG without compression is 64 MiB).
    public static let maxImageBytes = 64 << 20

    public struct Image: Sendable {
        public var png: [UInt8]
        public var seed: Int64
        public var width: Int
        public var height: Int
    }

    public let images: [Image]

    /// Decodes each image and checks it is a PNG whose header states the size the worker
    /// declared. CPU-heavy for large results: call it off the event loops.
    public init(_ result: WorkerResult) throws(InvalidInput) {
        var images: [Image] = []
        for (i, image) in (result.images ?? []).enumerated() {
            let field = "images[\(i)].png_base64"
            // Base64 is 4 bytes per 3: refuse an oversized image before decoding it.
            guard image.pngBase64.utf8.count / 4 * 3 <= Self.maxImageBytes + 2 else {
                throw InvalidInput(field, "an image may have at most \(Self.maxImageBytes) bytes")
            }
            guard let data = Data(base64Encoded: image.pngBase64) else { throw InvalidInput(field, "not base64") }
            let png = [UInt8](data)
            guard let size = PNGHeader.size(of: png) else { throw InvalidInput(field, "not a PNG (signature and IHDR expected)") }
            guard size == (image.width, image.height) else {
                throw InvalidInput(field, "the PNG is \(size.width)×\(size.height), not the declared \(image.width)×\(image.height)")
            }
            images.append(Image(png: png, seed: image.seed, width: image.width, height: image.height))
        }
        self.images = images
    }

    /// The job's rule: exactly `num_images` images of the asked width and height.
    public func check(against params: GenerationParams) throws(InvalidInput) {
        guard images.count == params.numImages else {
            throw InvalidInput("images", "the job asked for \(params.numImages) images, the result has \(images.count)")
        }
        for (i, image) in images.enumerated() where (image.width, image.height) != (params.width, params.height) {
            throw InvalidInput("images[\(i)]", "the job asked for \(params.width)×\(params.height), the image is \(image.width)×\(image.height)")
        }
    }
}

/// The size a PNG's header states: the 8-byte signature, then the IHDR chunk first.
public enum PNGHeader {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func size(of png: [UInt8]) -> (width: Int, height: Int)? {
        guard png.count >= 24, png[0..<8].elementsEqual(signature), png[8..<12].elementsEqual([0, 0, 0, 13]),
            png[12..<16].elementsEqual(Array("IHDR".utf8))
        else { return nil }
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
        let height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        return (width, height)
    }
}
