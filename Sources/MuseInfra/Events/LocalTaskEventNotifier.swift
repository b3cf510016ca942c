import Foundation
import MuseCore
import Synchronization

/// `TaskEventNotifier` within one process: subscribers per task id.
public final class LocalTaskEventNotifier: TaskEventNotifier {
    private let subscribers = Mutex<[String: [UInt64: AsyncStream<Void>.Continuation]]>([:])
    private let nextID = Atomic<UInt64>(0)

    public init() {}

    public func notify(taskID: String) {
        let waiting = subscribers.withLock { $0[taskID].map { Array($0.values) } ?? [] }
        for continuation in waiting { continuation.yield() }
    }

    public func subscribe(taskID: String) -> AsyncStream<Void> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        subscribers.withLock { $0[taskID, default: [:]][id] = continuation }
        continuation.onTermination = { [weak self] _ in
            self?.subscribers.withLock { subscribers in
                subscribers[taskID]?[id] = nil
                if subscribers[taskID]?.isEmpty == true { subscribers[taskID] = nil }
            }
        }
        return stream
    }
}
