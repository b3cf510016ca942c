import Foundation
import MuseHTTP

/// `PredictClient` over registered Muse workers (WORKER-PROTOCOL.md): jobs are POSTed to the
/// worker through libcurl on the blocking pool, so no event loop waits on a worker.
public struct WorkerPoolPredictClient: PredictClient {
    let http = CurlHTTPClient()
    let pool: BlockingPool
    let token: String

    public init(pool: BlockingPool, token: String) {
        self.pool = pool
        self.token = token
    }

    public func submit(_ job: PredictJob, workerURL: String) async throws {
        let body = WorkerJob(
            attemptID: job.attemptID, kind: job.params.initImage == nil ? "txt2img" : "img2img", params: job.params,
            callbackURL: job.callbackURL, deadline: APITime.format(job.deadline)
        )
        let bytes = Array(buffer: try JSONBody.encode(body))
        let response = try await pool.run { [http, token] in
            try http.send(workerURL + "/v1/jobs", json: bytes, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000)
        }
        guard response.status == 202 else { throw CurlError(message: "worker answered \(response.status)") }
    }

    public func cancel(attemptID: String, workerURL: String) async throws {
        _ = try await pool.run { [http, token] in
            try http.send(workerURL + "/v1/jobs/\(attemptID)/cancel", json: [], headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 5000)
        }
    }
}
