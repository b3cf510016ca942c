import Foundation
import MuseCore
import MuseCurl
import MuseJSON
import MuseWorkerProtocol

/// `TrainClient` over registered Muse workers: the same routes as generation jobs
/// (`POST /v1/jobs`, `GET /v1/jobs/{id}`, `POST /v1/jobs/{id}/cancel`), through libcurl on the
/// blocking pool.
public struct WorkerPoolTrainClient: TrainClient {
    let http = CurlHTTPClient()
    let pool: BlockingPool
    let token: String

    public init(pool: BlockingPool, token: String) {
        self.pool = pool
        self.token = token
    }

    public func submit(_ job: WorkerDatasetJob, workerURL: String) async throws -> SubmitOutcome {
        let bytes = try JSON.encode(job)
        let response: CurlResponse
        do {
            response = try await pool.run { [http, token] in
                try http.send(workerURL + "/v1/jobs", json: bytes, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000)
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

    struct Status: Decodable {
        let status: AttemptStatus
    }

    public func status(attemptID: String, workerURL: String) async throws -> AttemptStatus? {
        let response = try await pool.run { [http, token] in
            try http.send(
                workerURL + "/v1/jobs/\(attemptID)", method: "GET", json: nil, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000,
                maxResponseBytes: 1 << 20)
        }
        switch response.status {
        // Lenient on purpose: only the status is read.
        case 200: return try JSONDecoder().decode(Status.self, from: Data(response.body)).status
        case 404: return nil
        default: throw CurlError(message: "worker answered \(response.status) to a status query")
        }
    }

    public func cancel(attemptID: String, workerURL: String) async throws {
        _ = try await pool.run { [http, token] in
            try http.send(workerURL + "/v1/jobs/\(attemptID)/cancel", json: [], headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000)
        }
    }
}
