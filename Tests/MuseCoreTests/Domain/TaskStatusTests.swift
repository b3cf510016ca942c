import Testing

@testable import MuseCore

@Suite struct TaskStatusTests {
    @Test func theLifecycleOfArchitectureMd() {
        #expect(TaskStatus.scheduled.canMove(to: .queued))
        #expect(TaskStatus.queued.canMove(to: .dispatched))
        #expect(TaskStatus.dispatched.canMove(to: .running))
        #expect(TaskStatus.running.canMove(to: .succeeded))
        #expect(TaskStatus.running.canMove(to: .queued), "a lost lease queues the attempt again")
        #expect(!TaskStatus.queued.canMove(to: .succeeded))
    }

    @Test(arguments: [TaskStatus.succeeded, .failed, .canceled])
    func finalStatesNeverMove(_ final: TaskStatus) {
        #expect(TaskStatus.allCases.allSatisfy { !final.canMove(to: $0) })
    }

    @Test func idsAreTimeOrderedAndPrefixed() async throws {
        let first = IDGenerator.make("gen")
        try await Task.sleep(for: .milliseconds(2))
        let second = IDGenerator.make("gen")
        #expect(first.hasPrefix("gen_") && first.count == 30)
        #expect(first < second)
    }
}
