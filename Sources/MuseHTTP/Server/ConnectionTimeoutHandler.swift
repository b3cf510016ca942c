import NIOCore

/// Closes a connection that idles between requests or trickles a request in too slowly.
/// Sits on raw bytes so that it also sees a request whose head never completes.
///
/// The request handler tells it directly (same event loop) when a request is complete and
/// when its response is written. Deadlines move with every request, but the one timer is
/// re-armed only when it would fire too late, so a busy keep-alive connection schedules
/// about one timer per timeout period instead of two per request.
final class ConnectionTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        case idle, receiving, processing
    }

    private let idleTimeout: TimeAmount
    private let requestTimeout: TimeAmount
    private var state = State.idle
    /// When the connection is closed unless the state moves on; nil while a request is processed.
    private var deadline: NIODeadline?
    private var timer: (fireAt: NIODeadline, task: Scheduled<Void>)?
    private var channel: (any Channel)?

    init(idleTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        if context.channel.isActive { setDeadline(.now() + idleTimeout, context.eventLoop) }
    }

    func channelActive(context: ChannelHandlerContext) {
        setDeadline(.now() + idleTimeout, context.eventLoop)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if state == .idle {
            state = .receiving
            setDeadline(.now() + requestTimeout, context.eventLoop)
        }
        context.fireChannelRead(data)
    }

    /// The request's head and body have arrived: no timeout while the handler works.
    func requestReceived() {
        state = .processing
        deadline = nil
    }

    /// The response is written: the connection idles until the next request.
    func responseCompleted(_ eventLoop: any EventLoop) {
        state = .idle
        setDeadline(.now() + idleTimeout, eventLoop)
    }

    private func setDeadline(_ newDeadline: NIODeadline, _ eventLoop: any EventLoop) {
        deadline = newDeadline
        if let timer, timer.fireAt <= newDeadline { return }
        arm(at: newDeadline, eventLoop)
    }

    private func arm(at fireAt: NIODeadline, _ eventLoop: any EventLoop) {
        timer?.task.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        let task = eventLoop.scheduleTask(deadline: fireAt) { loopBound.value.timerFired(eventLoop) }
        timer = (fireAt, task)
    }

    private func timerFired(_ eventLoop: any EventLoop) {
        timer = nil
        guard let deadline else { return }
        if deadline <= .now() {
            channel?.close(promise: nil)
        } else {
            arm(at: deadline, eventLoop)
        }
    }
}
