import NIOCore
import Synchronization

/// Tracks open connections: refuses those over the limit, and at shutdown asks each to
/// quiesce (finish its request, then close) and finally closes what is left.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var quiescing = false
    }

    private let maxConnections: Int
    private let state = Mutex(State())
    private let allClosed = Mutex<[CheckedContinuation<Void, Never>]>([])

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    var count: Int { state.withLock { $0.channels.count } }

    /// Registers an accepted connection; false when it must be refused.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard !state.quiescing, state.channels.count < maxConnections else { return false }
            state.channels[id] = channel
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { _ in self.remove(id) }
        return true
    }

    private func remove(_ id: ObjectIdentifier) {
        let empty = state.withLock { state in
            state.channels[id] = nil
            return state.channels.isEmpty
        }
        if empty { resumeWaiters() }
    }

    /// Sends every connection the quiesce event: idle ones close, busy ones close after their response.
    func quiesce() {
        let channels = state.withLock { state in
            state.quiescing = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Waits until every connection is closed.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let empty = state.withLock { $0.channels.isEmpty }
            if empty {
                continuation.resume()
            } else {
                allClosed.withLock { $0.append(continuation) }
                // Closed between the check and the append: resume now.
                if state.withLock({ $0.channels.isEmpty }) { resumeWaiters() }
            }
        }
    }

    func closeAll() {
        for channel in state.withLock({ Array($0.channels.values) }) {
            channel.close(promise: nil)
        }
    }

    private func resumeWaiters() {
        for waiter in allClosed.withLock({ w in
            defer { w = [] }; return w
        }) { waiter.resume() }
    }
}
