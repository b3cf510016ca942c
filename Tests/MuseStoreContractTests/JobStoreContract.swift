import Foundation
import MuseCore
import MuseJSON
import MuseWorkerProtocol
import Testing

/// `JobStore`: claims by kind and reservation, compare-and-set on the current attempt, requeue
/// with the checkpoint kept, cancel, and the event log.
@Suite struct JobStoreContract {
    func job(_ kind: JobKind = .train, tenant: String = "acme", resources: JobResources = .shared, owners: Set<String> = ["acme"]) -> TrainingJob {
        TrainingJob(
            id: IDGenerator.make(kind.idPrefix), tenant: tenant, owners: owners, kind: kind, datasetID: IDGenerator.make("ds"),
            params: .object([("k", .string("v"))]), resources: resources, createdAt: Date())
    }

    @Test(arguments: StoreKind.allCases) func aClaimTakesTheOldestJobOfTheWorkersKindsAndReservation(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let crop = job(.crop)
        let privateTraining = job(.train, resources: .private, owners: ["acme", "design"])
        let shared = job(.train)
        for j in [crop, privateTraining, shared] {
            try await stores.jobs.create(j)
            try await Task.sleep(for: .milliseconds(2))
        }
        // A shared worker that only trains: the shared training, not the crop, not the private one.
        let first = try await stores.jobs.claim(kinds: [.train], workerID: "w", reservedFor: [], attemptID: IDGenerator.make("att"), at: Date())
        #expect(first?.id == shared.id && first?.status == .dispatched && first?.attempts == 1)
        #expect(try await stores.jobs.claim(kinds: [.train], workerID: "w", reservedFor: [], attemptID: IDGenerator.make("att"), at: Date()) == nil)
        // A worker reserved for another team gets nothing; one reserved for design gets the private one.
        #expect(try await stores.jobs.claim(kinds: [.train], workerID: "r", reservedFor: ["sales"], attemptID: IDGenerator.make("att"), at: Date()) == nil)
        let reserved = try await stores.jobs.claim(kinds: [.train], workerID: "r", reservedFor: ["design"], attemptID: IDGenerator.make("att"), at: Date())
        #expect(reserved?.id == privateTraining.id && reserved?.owners == ["acme", "design"])
        #expect(
            try await stores.jobs.claim(kinds: [.crop, .tag], workerID: "w", reservedFor: [], attemptID: IDGenerator.make("att"), at: Date())?.id == crop.id)
        #expect(try await stores.jobs.active().count == 3)
    }

    @Test(arguments: StoreKind.allCases) func onlyTheCurrentAttemptChangesAJob(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let training = job()
        try await stores.jobs.create(training)
        let first = IDGenerator.make("att")
        _ = try await stores.jobs.claim(kinds: [.train], workerID: "w1", reservedFor: [], attemptID: first, at: Date())
        #expect(try await stores.jobs.progress(attemptID: first, progress: 0.5, step: 50, totalSteps: 100, loss: 0.3, at: Date())?.status == .running)
        #expect(try await stores.jobs.saveCheckpoint(attemptID: first, JobCheckpoint(step: 40, blobKey: "c40")).saved)
        // The worker is lost: queued again with its checkpoint; the old attempt's news is ignored.
        let requeued = try await stores.jobs.requeue(attemptID: first, maxAttempts: 3, error: TaskError(code: "worker_lost", message: "gone"), at: Date())
        #expect(requeued?.status == .queued && requeued?.checkpoint == JobCheckpoint(step: 40, blobKey: "c40") && requeued?.attemptID == nil)
        #expect(try await stores.jobs.progress(attemptID: first, progress: 0.9, step: 90, totalSteps: 100, loss: 0.1, at: Date()) == nil)
        #expect(try await stores.jobs.saveCheckpoint(attemptID: first, JobCheckpoint(step: 80, blobKey: "c80")).saved == false)
        #expect(try await stores.jobs.finish(attemptID: first, status: .succeeded, outputModelKey: "x", error: nil, at: Date()) == nil)
        let second = IDGenerator.make("att")
        #expect(try await stores.jobs.claim(kinds: [.train], workerID: "w2", reservedFor: [], attemptID: second, at: Date())?.attempts == 2)
        let done = try await stores.jobs.finish(attemptID: second, status: .succeeded, outputModelKey: "my-lora", error: nil, at: Date())
        #expect(done?.status == .succeeded && done?.outputModelKey == "my-lora" && done?.progress == 1 && done?.finishedAt != nil)
        #expect(try await stores.jobs.finish(attemptID: second, status: .failed, outputModelKey: nil, error: nil, at: Date()) == nil, "a repeat is a no-op")
        let events = try await stores.jobs.events(jobID: training.id, after: 0, limit: 100)
        #expect(events.map(\.status) == [.queued, .dispatched, .running, .queued, .dispatched, .succeeded])
        #expect(events.first { $0.type == "progress" || $0.status == .running }?.loss == 0.3)
        #expect(try await stores.jobs.events(jobID: training.id, after: events[2].seq, limit: 100).count == 3)
    }

    @Test(arguments: StoreKind.allCases) func triesRunOutAndCancelStopsTheAttemptOnce(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let training = job()
        try await stores.jobs.create(training)
        for _ in 0..<2 {
            let attempt = IDGenerator.make("att")
            _ = try await stores.jobs.claim(kinds: [.train], workerID: "w", reservedFor: [], attemptID: attempt, at: Date())
            _ = try await stores.jobs.requeue(attemptID: attempt, maxAttempts: 2, error: TaskError(code: "worker_lost", message: "gone"), at: Date())
        }
        let failed = try await stores.jobs.job(id: training.id, tenant: "acme")
        #expect(failed?.status == .failed && failed?.error?.code == "worker_lost")

        let running = job()
        try await stores.jobs.create(running)
        let attempt = IDGenerator.make("att")
        _ = try await stores.jobs.claim(kinds: [.train], workerID: "w", reservedFor: [], attemptID: attempt, at: Date())
        #expect(try await stores.jobs.cancel(id: running.id, tenant: "globex", at: Date()) == nil, "another tenant's id")
        let canceled = try await stores.jobs.cancel(id: running.id, tenant: "acme", at: Date())
        #expect(canceled?.job.status == .canceled && canceled?.stopped?.attemptID == attempt && canceled?.stopped?.workerID == "w")
        let again = try await stores.jobs.cancel(id: running.id, tenant: "acme", at: Date())
        #expect(again?.job.status == .canceled && again?.stopped == nil, "a final job is returned as it is")
        #expect(try await stores.jobs.progress(attemptID: attempt, progress: 0.5, step: 1, totalSteps: 2, loss: nil, at: Date()) == nil)
        #expect(try await stores.jobs.list(tenant: "acme", kinds: [.train], limit: 10, before: nil).map(\.id) == [running.id, training.id])
        #expect(try await stores.jobs.list(tenant: "acme", kinds: [.crop], limit: 10, before: nil).isEmpty)
    }
}
