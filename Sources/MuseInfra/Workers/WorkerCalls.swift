import MuseCore
import MuseCurl

/// The calls both worker-pool clients make to a worker (`POST /v1/jobs`, the cancel), through
/// libcurl on the blocking pool with the worker token.
struct WorkerCalls: Sendable {
    let http = CurlHTTPClient()
    let pool: BlockingPool
    let token: String

    /// Offers a job body: 202 accepted, 429 full; no answer is `unreachable`; any other answer throws.
    func submit(_ body: [UInt8], workerURL: String) async throws -> SubmitOutcome {
        let response: CurlResponse
        do {
            response = try await pool.run { [http, token] in
                try http.send(workerURL + "/v1/jobs", json: body, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000)
            }
        } catch let error as CurlError {
            return .unreachable(reason: error.message)
        }
        switch response.status {
        case 202: return .accepted
        case 429: return .full(retryAfter: 1)
        default: throw CurlError(message: "worker answered \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
    }

    /// `GET /v1/jobs/{attempt_id}`, keeping up to `maxBytes` of the answer.
    func status(attemptID: String, workerURL: String, maxBytes: Int) async throws -> CurlResponse {
        try await pool.run { [http, token] in
            try http.send(
                workerURL + "/v1/jobs/\(attemptID)", method: "GET", json: nil, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000,
                maxResponseBytes: maxBytes)
        }
    }

    func cancel(attemptID: String, workerURL: String) async throws {
        _ = try await pool.run { [http, token] in
            try http.send(workerURL + "/v1/jobs/\(attemptID)/cancel", json: [], headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000)
        }
    }
}
