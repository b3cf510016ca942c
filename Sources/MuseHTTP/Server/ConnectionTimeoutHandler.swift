import NIOCore

/// Told by the request handler where a connection is in its request cycle.
enum RequestCycleEvent: Sendable {
    case requestReceived
    case responseCompleted
}

/// Closes a connection that idles between requests or trickles a request in too slowly.
/// Sits on raw bytes so that it also sees a request whose head never completes.
final class ConnectionTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private enum State {
        case idle, receiving, processing
    }

    private let idleTimeout: TimeAmount
    private let requestTimeout: TimeAmount
    private var state = State.idle
    private var timer: Scheduled<Void>?

    init(idleTimeout: TimeAmount, requestTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(idleTimeout, context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if state == .idle {
            state = .receiving
            arm(requestTimeout, context: context)
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? RequestCycleEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .requestReceived:
            state = .processing
            timer?.cancel()
            timer = nil
        case .responseCompleted:
            state = .idle
            arm(idleTimeout, context: context)
        }
        promise?.succeed()
    }

    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }
}
