import Foundation
import MuseCore
import MuseWorkerProtocol
import Testing

/// `DispatchStore`: the claim order, batches, and compare-and-set on the current attempt.
@Suite struct DispatchStoreContract {
    struct RejectedResult: Error {}

    @Test(arguments: StoreKind.allCases) func aClaimPrefersALoadedModelButNeverStarvesAnUnloadedOne(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let old = Date().addingTimeInterval(-60)
        let agedXL = Given.task(prompt: "aged, nobody has sdxl", model: "sdxl-base", createdAt: old)
        let agedAnime = Given.task(prompt: "aged, but another worker has anime", model: "sd15-anime", createdAt: old.addingTimeInterval(1))
        let fresh = Given.task(prompt: "fresh sd15")
        for t in [agedXL, agedAnime, fresh] { try await stores.tasks.insert(t) }
        let loaded: Set<String> = ["sd15-base", "sd15-anime"]
        // sdxl is loaded nowhere and waited past the limit: it goes first, whatever this worker has.
        #expect(try await Given.claim(stores, preferring: ["sd15-base"], loadedAnywhere: loaded).map(\.task.id) == [agedXL.id])
        // The aged anime task has a worker with its model: this sd15-base worker keeps its own model.
        #expect(try await Given.claim(stores, preferring: ["sd15-base"], loadedAnywhere: loaded).map(\.task.id) == [fresh.id])
        #expect(try await Given.claim(stores, preferring: ["sd15-base"], loadedAnywhere: loaded).map(\.task.id) == [agedAnime.id])
        #expect(try await Given.claim(stores, preferring: ["sd15-base"]).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func onlineWorkGoesBeforeOlderOfflineWork(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let offline = Given.task(priority: .offline, createdAt: Date().addingTimeInterval(-5))
        let online = Given.task()
        for t in [offline, online] { try await stores.tasks.insert(t) }
        #expect(try await Given.claim(stores, limit: 1).map(\.task.id) == [online.id])
        #expect(try await Given.claim(stores, limit: 1).map(\.task.id) == [offline.id])
    }

    @Test(arguments: StoreKind.allCases) func aBatchClaimTakesOnlySameShapedTasksAndAnUnclaimSpendsNoAttempt(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        // Ids order by creation time (milliseconds): space them out.
        let head = Given.task(prompt: "a", createdAt: Date().addingTimeInterval(-3))
        let other = Given.task(prompt: "another size", width: 768, createdAt: Date().addingTimeInterval(-2))
        let same = Given.task(prompt: "b", createdAt: Date().addingTimeInterval(-1))
        for t in [head, other, same] { try await stores.tasks.insert(t) }
        let batch = try await Given.claim(stores, limit: 4)
        #expect(batch.map(\.task.id) == [head.id, same.id])
        #expect(Set(batch.map(\.id)).count == 2, "one attempt per task")
        #expect(batch.allSatisfy { $0.task.status == .dispatched && $0.task.attemptID == $0.id && $0.task.workerID == "w-1" && $0.task.attempts == 1 })
        // A worker that was full gives them back without spending an attempt.
        for attempt in batch { #expect(try await stores.tasks.apply(.unclaim, attemptID: attempt.id)?.status == .queued) }
        let again = try await Given.claim(stores, limit: 4)
        #expect(again.map(\.task.id) == [head.id, same.id])
        #expect(again.map(\.task.attempts) == [1, 1])
        #expect(Set(again.map(\.id)).isDisjoint(with: batch.map(\.id)), "a new claim is a new attempt")
    }

    @Test(arguments: StoreKind.allCases) func aWorkerClaimsOnlyTasksOfItsAbilities(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let img2img = Given.task(initImage: IDGenerator.make("img"))
        try await stores.tasks.insert(img2img)
        #expect(try await Given.claim(stores, abilities: [.txt2img]).isEmpty)
        #expect(try await Given.claim(stores, abilities: [.crop, .tag]).isEmpty)
        #expect(try await Given.claim(stores, abilities: [.img2img]).map(\.task.id) == [img2img.id])
    }

    @Test(arguments: StoreKind.allCases) func aLateOrRepeatedReportChangesNothing(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        try await stores.tasks.insert(Given.task())
        let first = try #require(try await Given.claim(stores).first)
        #expect(try await stores.tasks.apply(.progress(0.4), attemptID: first.id)?.status == .running)
        #expect(try await stores.tasks.apply(.progress(0.2), attemptID: first.id)?.progress == 0.4, "progress never goes back")
        // The lease is lost: the attempt is no longer current.
        #expect(try await stores.tasks.apply(.requeue(reason: "lost", maxAttempts: 3), attemptID: first.id)?.status == .queued)
        let second = try #require(try await Given.claim(stores, worker: "w-2").first)
        #expect(second.task.attempts == 2 && second.task.progress == 0)
        #expect(try await stores.tasks.apply(.succeed(images: [Given.image()], timings: nil), attemptID: first.id) == nil)
        #expect(try await stores.tasks.apply(.fail(TaskError(code: "internal", message: "late"), timings: nil), attemptID: first.id) == nil)
        #expect(try await stores.tasks.apply(.progress(0.9), attemptID: first.id) == nil)
        let image = Given.image()
        let done = try await stores.tasks.apply(.succeed(images: [image], timings: nil), attemptID: second.id)
        #expect(done?.status == .succeeded && done?.images == [image] && done?.progress == 1 && done?.leaseExpiresAt == nil)
        #expect(try await stores.tasks.imageTenant(image.id) == "acme")
        #expect(try await stores.tasks.apply(.succeed(images: [Given.image()], timings: nil), attemptID: second.id) == nil, "a repeated result")
        #expect(try await stores.tasks.apply(.fail(TaskError(code: "internal", message: "x"), timings: nil), attemptID: second.id) == nil)
    }

    @Test(arguments: StoreKind.allCases) func aLostAttemptIsRequeuedThenFailedAfterMaxAttempts(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let t = Given.task()
        try await stores.tasks.insert(t)
        for n in 1...2 {
            let attempt = try #require(try await Given.claim(stores).first)
            let after = try await stores.tasks.apply(.requeue(reason: "worker gone", maxAttempts: 2), attemptID: attempt.id)
            #expect(after?.status == (n == 1 ? .queued : .failed))
        }
        let failed = try await stores.tasks.task(id: t.id, tenant: "acme")
        #expect(failed?.error?.code == "worker_lost" && failed?.attempts == 2 && failed?.finishedAt != nil && failed?.attemptID == nil)
        #expect(try await Given.claim(stores).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func aCheckThatThrowsUndoesTheWholeChange(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let t = Given.task()
        try await stores.tasks.insert(t)
        let attempt = try #require(try await Given.claim(stores).first)
        let image = Given.image()
        await #expect(throws: RejectedResult.self) {
            try await stores.tasks.apply(.succeed(images: [image], timings: nil), attemptID: attempt.id) { _ in throw RejectedResult() }
        }
        let still = try await stores.tasks.task(id: t.id, tenant: "acme")
        #expect(still?.status == .dispatched && still?.images == [])
        #expect(try await stores.tasks.imageTenant(image.id) == nil)
        #expect(try await stores.tasks.events(taskID: t.id, after: 0, limit: 10).map(\.task.status) == [.queued, .dispatched])
    }

    @Test(arguments: StoreKind.allCases) func orphansAreAttemptsPastTheirLeaseOrOfWorkersThatAreGone(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        for _ in 0..<2 { try await stores.tasks.insert(Given.task()) }
        let lapsed = try #require(try await Given.claim(stores, worker: "w-1", lease: -1).first)
        let held = try #require(try await Given.claim(stores, worker: "w-2", lease: 60).first)
        #expect(try await stores.tasks.attempts(workerID: "w-2") == [held.id])
        #expect(try await stores.tasks.orphanedAttempts(liveWorkers: nil, now: Date()) == [lapsed.id])
        #expect(Set(try await stores.tasks.orphanedAttempts(liveWorkers: ["w-1"], now: Date())) == [lapsed.id, held.id])
        #expect(Set(try await stores.tasks.orphanedAttempts(liveWorkers: [], now: Date())) == [lapsed.id, held.id])
        _ = try await stores.tasks.apply(.fail(TaskError(code: "internal", message: "x"), timings: nil), attemptID: held.id)
        #expect(try await stores.tasks.attempts(workerID: "w-2") == [], "a finished attempt is held by nobody")
    }

    @Test(arguments: StoreKind.allCases) func offPeakWorkWaitsUntilReleasedOldestFirst(_ kind: StoreKind) async throws {
        let stores = try await kind.open()
        let first = Given.task(schedule: .offpeak, createdAt: Date().addingTimeInterval(-2))
        let second = Given.task(schedule: .offpeak)
        for t in [first, second] { try await stores.tasks.insert(t) }
        #expect(first.status == .scheduled)
        #expect(try await Given.claim(stores).isEmpty)
        #expect(try await stores.tasks.releaseScheduled(limit: 1) == 1)
        #expect(try await stores.tasks.count(status: .scheduled) == 1)
        #expect(try await stores.tasks.count(status: .queued) == 1)
        #expect(try await Given.claim(stores).map(\.task.id) == [first.id])
        let census = try await stores.tasks.census()
        #expect(census.byStatus[.dispatched] == 1 && census.byStatus[.scheduled] == 1 && census.queuedByLane[.online, default: 0] == 0)
    }
}
