import Foundation
import MuseCore
import MuseCurl
import MuseJSON
import MuseWorkerProtocol

/// `PredictClient` over registered Muse workers (docs/WORKER-PROTOCOL.md): jobs are POSTed to the
/// worker through libcurl on the blocking pool, so no event loop waits on a worker.
public struct WorkerPoolPredictClient: PredictClient {
    let http = CurlHTTPClient()
    let pool: BlockingPool
    let token: String

    public init(pool: BlockingPool, token: String) {
        self.pool = pool
        self.token = token
    }

    public func submit(_ jobs: [PredictJob], workerURL: String) async throws -> SubmitOutcome {
        let wire = jobs.map { job in
            WorkerJob(
                attemptID: job.attemptID, kind: job.params.ability.rawValue, params: job.params,
                callbackURL: job.callbackURL, deadline: APITime.format(job.deadline)
            )
        }
        let bytes = try wire.count == 1 ? JSON.encode(wire[0]) : JSON.encode(WorkerBatch(jobs: wire))
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

    public func status(attemptID: String, workerURL: String) async throws -> WorkerJobStatus? {
        let response = try await pool.run { [http, token] in
            // A finished job's status carries its result, images and all: as much as a result callback may be.
            try http.send(
                workerURL + "/v1/jobs/\(attemptID)", method: "GET", json: nil, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000,
                maxResponseBytes: 128 << 20
            )
        }
        switch response.status {
        // Lenient on purpose: a worker may add fields this server does not know yet.
        case 200: return try JSONDecoder().decode(WorkerJobStatus.self, from: Data(response.body))
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
