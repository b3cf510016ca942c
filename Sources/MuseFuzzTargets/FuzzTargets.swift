import Foundation
import HTTPTypes
import MuseCore
import MuseHTTP
import MuseInfra
import MuseJSON
import MuseServer
import MuseWorkerProtocol

/// What the fuzzers feed with arbitrary bytes: each entry point must return (or throw a
/// client error) for every input, never crash, hang or grow without bound. The libFuzzer
/// binary (`scripts/fuzz.sh`) calls them; `FuzzRegressionTests` replays the inputs kept in
/// `Tests/Fuzz/regressions/<target>/`.
public enum FuzzTargets {
    public static let names = ["json", "router", "result", "image"]

    public static func run(_ target: String, _ bytes: [UInt8]) {
        switch target {
        case "json": json(bytes)
        case "router": router(bytes)
        case "result": result(bytes)
        case "image": image(bytes)
        default: preconditionFailure("unknown fuzz target \(target); known: \(names)")
        }
    }

    /// An upload's bytes (and a worker's crop): the PNG and JPEG walk. What it accepts has a size
    /// inside the format's bounds and a format its signature says.
    static func image(_ bytes: [UInt8]) {
        guard let info = try? ImageProbe.inspect(bytes) else { return }
        precondition(info.width > 0 && info.height > 0 && info.width <= 0xFFFF_FFFF && info.height <= 0xFFFF_FFFF, "\(info)")
        precondition(ImageProbe.format(of: bytes) == info.format, "\(info)")
    }

    /// The strict JSON parser and decoder, on the largest request body there is, and back out.
    static func json(_ bytes: [UInt8]) {
        let decoder = StrictJSONDecoder()
        _ = try? decoder.decode(GenerationRequest.self, from: bytes)
        if let value = try? JSON.parse(bytes) {
            _ = try? JSON.encode(value)
            _ = try? decoder.decode(WorkerRegistration.self, from: value)
        }
    }

    /// The request-target parser and the router with the real route shapes and groups.
    static func router(_ bytes: [UInt8]) {
        let target = String(decoding: bytes, as: UTF8.self)
        for method in [HTTPRequest.Method.get, .post, .delete, .head] {
            switch routes.resolve(method, target[...]) {
            case .found(let route, let parameters):
                // A matched route's parameters are segments: never empty, never a separator.
                for name in ["id", "worker_id", "attempt_id", "key"] {
                    if let value = parameters[name] { precondition(!value.isEmpty && !value.contains("/"), "\(route.pattern): \(name)=\(value)") }
                }
            case .notFound, .methodNotAllowed, .invalidPath: break
            }
        }
    }

    private static let routes: Router = {
        let router = Router()
        let open = router.group("", name: "public")
        let api = router.group("/v1", name: "api")
        let workers = router.group("/internal/v1", name: "workers")
        let ok: Handler = { _, _ in Response(status: .ok) }
        for path in ["/healthz", "/readyz", "/metrics", "/v1/openapi.yaml"] { open.get(path, ok) }
        for path in ["/v1/generations", "/v1/generations/{id}", "/v1/generations/{id}/events", "/v1/images/{id}", "/v1/models/{key}", "/v1/presets/{id}"] {
            api.get(path, ok)
        }
        api.post("/v1/generations", ok)
        api.post("/v1/generations/{id}/cancel", ok)
        workers.post("/internal/v1/workers", ok)
        workers.post("/internal/v1/workers/{worker_id}/heartbeat", ok)
        workers.delete("/internal/v1/workers/{worker_id}", ok)
        workers.post("/internal/v1/attempts/{attempt_id}/result", ok)
        return router
    }()

    /// A worker's result: decoded, checked, its images decoded and checked against a job.
    static func result(_ bytes: [UInt8]) {
        guard let body = try? StrictJSONDecoder().decode(WorkerResult.self, from: bytes), (try? body.check()) != nil,
            let images = try? ResultImages(body)
        else { return }
        for image in images.images {
            precondition(image.png.count <= ResultImages.maxImageBytes && PNGHeader.size(of: image.png) != nil)
        }
        var params = GenerationParams.fuzzJob
        params.numImages = max(1, images.images.count)
        _ = try? images.check(against: params)
    }
}

extension GenerationParams {
    /// A 64×64 job for results to be checked against.
    static let fuzzJob: GenerationParams = try! StrictJSONDecoder().decode(
        GenerationParams.self,
        from: Array(
            #"{"model":"sd15-base","prompt":"fuzz","negative_prompt":"","width":64,"height":64,"steps":2,"guidance_scale":7,"sampler":"euler_a","seed":1,"num_images":1,"loras":[],"init_image":null,"strength":0.75,"priority":"online","schedule":"now","webhook_url":null,"metadata":{}}"#
                .utf8)
    )
}
