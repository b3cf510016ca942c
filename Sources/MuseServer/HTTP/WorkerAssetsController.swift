import MuseCore
import MuseHTTP
import MuseInfra

/// `/internal/v1/…` for generation jobs (worker token): what a job names by key or id and the
/// worker does not hold itself, a trained LoRA and an `init_image`.
public struct WorkerAssetsController: Sendable {
    let intake: JobIntake
    let images: any BlobStore

    public init(intake: JobIntake, images: any BlobStore) {
        self.intake = intake
        self.images = images
    }

    /// A catalogue key as the catalogue writes them; anything else is no key of ours.
    static func isModelKey(_ key: String) -> Bool {
        (1...128).contains(key.utf8.count)
            && key.utf8.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
                    || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            }
            && key.first != "."
    }

    public func register(on routes: RouteGroup) {
        routes.get("/internal/v1/loras/{key}") { request, _ in
            let key = try request.parameters.require("key")
            guard Self.isModelKey(key) else { throw HTTPError.invalidField("key", "not a model key") }
            return .blob(try await intake.lora(modelKey: key), contentType: "application/octet-stream")
        }
        routes.get("/internal/v1/images/{id}") { request, _ in
            let id = try request.parameters.require("id")
            guard IDGenerator.isID(id, prefix: "img") else { throw HTTPError.invalidField("id", "not an image id (img_…)") }
            guard let reader = try await images.open(id + ".png") else { throw HTTPError.notFound("no image \"\(id)\"") }
            return ImagesController.image(reader, contentType: "image/png", cacheControl: "private, max-age=31536000, immutable")
        }
    }
}
