import Foundation
import MuseCore
import MuseCurl
import MuseJSON
import MuseWorkerProtocol

/// `PredictClient` over registered Muse workers (docs/WORKER-PROTOCOL.md): jobs are POSTed to the
/// worker through libcurl on the blocking pool, so no event loop waits on a worker.
public struct WorkerPoolPredictClient: PredictClient {
    let calls: WorkerCalls

    public init(pool: BlockingPool, token: String) {
        calls = WorkerCalls(pool: pool, token: token)
    }

    public func submit(_ jobs: [PredictJob], workerURL: String) async throws -> SubmitOutcome {
        let wire = jobs.map { job in
            WorkerJob(
                attemptID: job.attemptID, kind: job.params.ability.rawValue, params: job.params,
                callbackURL: job.callbackURL, deadline: APITime.format(job.deadline)
            )
        }
        let bytes = try wire.count == 1 ? JSON.encode(wire[0]) : JSON.encode(WorkerBatch(jobs: wire))
        return try await calls.submit(bytes, workerURL: workerURL)
    }

    public func status(attemptID: String, workerURL: String) async throws -> WorkerJobStatus? {
        // A finished job's status carries its result, images and all: as much as a result callback may be.
        let response = try await calls.status(attemptID: attemptID, workerURL: workerURL, maxBytes: 128 << 20)
        switch response.status {
        // Lenient on purpose: a worker may add fields this server does not know yet.
        case 200: return try JSONDecoder().decode(WorkerJobStatus.self, from: Data(response.body))
        case 404: return nil
        default: throw CurlError(message: "worker answered \(response.status) to a status query")
        }
    }

    public func cancel(attemptID: String, workerURL: String) async throws {
        try await calls.cancel(attemptID: attemptID, workerURL: workerURL)
    }
}
