import Foundation
import Logging
import MuseCore
import MuseHTTP
import MuseInfra
import MuseServer

/// The worker's calls to the server: registration, heartbeats, progress and results, through
/// libcurl on the blocking pool. Results are retried (the server treats repeats as no-ops).
struct Callbacks: Sendable {
    let server: String
    let token: String
    let pool: BlockingPool
    let logger: Logger
    private let http = CurlHTTPClient()

    init(server: String, token: String, pool: BlockingPool, logger: Logger) {
        self.server = server
        self.token = token
        self.pool = pool
        self.logger = logger
    }

    func post<T: Encodable>(_ url: String, _ body: T, method: String = "POST") async -> Int? {
        guard let bytes = try? Array(buffer: JSONBody.encode(body)) else { return nil }
        return try? await pool.run { [http, token] in
            try http.send(url, method: method, json: bytes, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 10_000).status
        }
    }

    /// `DELETE /internal/v1/workers/{id}`, without a body.
    func leave(_ workerID: String) async {
        _ = try? await pool.run { [http, token, server] in
            try http.send(server + "/internal/v1/workers/\(workerID)", method: "DELETE", json: nil, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 10_000)
        }
    }

    func register(_ registration: WorkerRegistration) async -> Bool {
        await post(server + "/internal/v1/workers", registration) == 200
    }

    /// The status of the heartbeat call: 404 means the server forgot us.
    func heartbeat(_ workerID: String, _ beat: WorkerHeartbeat) async -> Int? {
        await post(server + "/internal/v1/workers/\(workerID)/heartbeat", beat)
    }

    func progress(_ callbackURL: String, _ body: WorkerProgress) async {
        _ = await post(callbackURL + "/progress", body)
    }

    func result(_ callbackURL: String, _ body: WorkerResult) async {
        for attempt in 1...5 {
            if let status = await post(callbackURL + "/result", body), status < 500 { return }
            logger.warning("result callback failed; retrying", metadata: ["attempt": "\(attempt)"])
            try? await Task.sleep(for: .milliseconds(200 * attempt))
        }
    }
}
