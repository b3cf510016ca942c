import Foundation
import MuseWorkerProtocol
import Testing

@testable import MuseCore

/// The rules of a task's change: what each transition makes of a task and what it produces.
@Suite struct TaskTransitionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static let transitions: [TaskTransition] = [
        .claim(workerID: "w-1", leaseUntil: now.addingTimeInterval(60)), .unclaim, .progress(0.5),
        .succeed(images: [TaskImage(id: "img_1", width: 8, height: 8, seed: 1)], timings: nil),
        .fail(TaskError(code: "internal", message: "x"), timings: nil), .requeue(reason: "lost", maxAttempts: 3), .release, .cancel,
    ]

    func task(_ status: TaskStatus, attempts: Int = 1, webhookURL: String? = nil) -> GenerationTask {
        let params = GenerationParams(
            model: "sd15-base", prompt: "fox", negativePrompt: "", width: 512, height: 512, steps: 20, guidanceScale: 7, sampler: .eulerA,
            seed: 1, numImages: 1, loras: [], initImage: nil, strength: 0.75, priority: .online, schedule: .now, webhookURL: webhookURL, metadata: .object([]))
        var task = GenerationTask(id: "gen_1", tenant: "acme", params: params, createdAt: Self.now)
        task.status = status
        task.attempts = attempts
        if status == .dispatched || status == .running {
            task.attemptID = "att_1"
            task.workerID = "w-1"
            task.leaseExpiresAt = Self.now
        }
        return task
    }

    @Test(arguments: transitions) func aTransitionMakesOnlyMovesTheLifecycleAllows(_ transition: TaskTransition) {
        for status in TaskStatus.allCases {
            let change = transition.apply(to: task(status), now: Self.now)
            #expect((change != nil) == transition.from.contains(status))
            if let change, change.task.status != status { #expect(status.canMove(to: change.task.status), "\(status) → \(change.task.status)") }
        }
    }

    @Test func aClaimIsANewAttemptWithItsLease() throws {
        let lease = Self.now.addingTimeInterval(60)
        let first = try #require(TaskTransition.claim(workerID: "w-2", leaseUntil: lease).apply(to: task(.queued, attempts: 0), now: Self.now))
        let second = try #require(TaskTransition.claim(workerID: "w-2", leaseUntil: lease).apply(to: task(.queued, attempts: 0), now: Self.now))
        #expect(first.task.status == .dispatched && first.task.attempts == 1 && first.task.workerID == "w-2" && first.task.leaseExpiresAt == lease)
        #expect(first.task.startedAt == Self.now && first.event == "status")
        #expect(IDGenerator.isID(try #require(first.task.attemptID), prefix: "att") && first.task.attemptID != second.task.attemptID)
    }

    @Test func anUnclaimGivesTheAttemptBack() throws {
        let change = try #require(TaskTransition.unclaim.apply(to: task(.dispatched), now: Self.now))
        #expect(change.task.status == .queued && change.task.attempts == 0 && change.task.attemptID == nil && change.task.leaseExpiresAt == nil)
    }

    @Test func aLostAttemptIsQueuedAgainUntilMaxAttemptsThenFailed() throws {
        let again = try #require(TaskTransition.requeue(reason: "lost", maxAttempts: 3).apply(to: task(.running, attempts: 2), now: Self.now))
        #expect(again.task.status == .queued && again.task.workerID == nil && again.task.progress == 0 && again.delivery == nil)
        let failed = try #require(
            TaskTransition.requeue(reason: "lost", maxAttempts: 3).apply(to: task(.running, attempts: 3, webhookURL: "https://h.example/x"), now: Self.now))
        #expect(failed.task.status == .failed && failed.task.error?.code == "worker_lost" && failed.task.finishedAt == Self.now)
        #expect(failed.event == "failed" && failed.delivery?.url == "https://h.example/x")
    }

    @Test func progressOnlyGrowsAndIsBounded() throws {
        var running = task(.running)
        running.progress = 0.6
        #expect(TaskTransition.progress(0.3).apply(to: running, now: Self.now)?.task.progress == 0.6)
        #expect(TaskTransition.progress(0.6).apply(to: running, now: Self.now)?.event == nil, "no visible change, no event")
        #expect(TaskTransition.progress(7).apply(to: running, now: Self.now)?.task.progress == 1)
        #expect(TaskTransition.progress(0.1).apply(to: task(.dispatched), now: Self.now)?.event == "status", "the first progress starts it")
    }

    @Test func aFinalStateWithAWebhookMakesItsDelivery() throws {
        let hooked = task(.running, webhookURL: "https://h.example/x")
        let image = TaskImage(id: "img_9", width: 8, height: 8, seed: 1)
        let done = try #require(TaskTransition.succeed(images: [image], timings: nil).apply(to: hooked, now: Self.now))
        #expect(done.event == "succeeded" && done.newImages == [image] && done.task.progress == 1 && done.task.leaseExpiresAt == nil)
        let delivery = try #require(done.delivery)
        #expect(delivery.taskID == "gen_1" && delivery.tenant == "acme" && delivery.status == .pending && delivery.nextAttemptAt == Self.now)
        #expect(IDGenerator.isID(delivery.id, prefix: "whd"))
        #expect(TaskTransition.cancel.apply(to: task(.queued, webhookURL: "https://h.example/x"), now: Self.now)?.delivery != nil)
        #expect(TaskTransition.cancel.apply(to: task(.queued), now: Self.now)?.delivery == nil, "no webhook_url, no delivery")
        #expect(TaskChange(from: nil, to: task(.queued), now: Self.now).event == "status", "a new task's first event")
    }
}
