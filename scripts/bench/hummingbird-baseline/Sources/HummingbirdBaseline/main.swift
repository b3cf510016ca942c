import Hummingbird

// Usage: HummingbirdBaseline PORT
let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8081 : 8081
let body = ByteBuffer(string: #"{"status":"ok"}"#)

let router = Router()
router.get("/healthz") { _, _ -> Response in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
