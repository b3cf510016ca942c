import Foundation
import MuseCore
import MuseCurl
import MuseJSON
import MuseWorkerProtocol

/// `TrainClient` over registered Muse workers: the same routes as generation jobs
/// (`POST /v1/jobs`, `GET /v1/jobs/{id}`, `POST /v1/jobs/{id}/cancel`).
public struct WorkerPoolTrainClient: TrainClient {
    let calls: WorkerCalls

    public init(pool: BlockingPool, token: String) {
        calls = WorkerCalls(pool: pool, token: token)
    }

    public func submit(_ job: WorkerDatasetJob, workerURL: String) async throws -> SubmitOutcome {
        try await calls.submit(try JSON.encode(job), workerURL: workerURL)
    }

    struct Status: Decodable {
        let status: AttemptStatus
    }

    public func status(attemptID: String, workerURL: String) async throws -> AttemptStatus? {
        let response = try await calls.status(attemptID: attemptID, workerURL: workerURL, maxBytes: 1 << 20)
        switch response.status {
        // Lenient on purpose: only the status is read.
        case 200: return try JSONDecoder().decode(Status.self, from: Data(response.body)).status
        case 404: return nil
        default: throw CurlError(message: "worker answered \(response.status) to a status query")
        }
    }

    public func cancel(attemptID: String, workerURL: String) async throws {
        try await calls.cancel(attemptID: attemptID, workerURL: workerURL)
    }
}
