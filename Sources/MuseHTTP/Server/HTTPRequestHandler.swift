import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// The end of each connection's pipeline: collects a request within its limits, runs the
/// route's composed handler on the connection's event loop, and writes the response.
/// A request the decoder cannot parse is answered here too (400, or 431 for oversized
/// headers) as problem+json, and the connection closes.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Pending {
        var head: HTTPRequestHead
        var request: HTTPRequest
        var resolution: Router.Resolution
        var limit: Int
    }

    private enum State {
        case idle
        case receiving(Pending)
        /// The request was refused before its body ended; the rest is dropped and the connection closes.
        case discarding
        case responding
    }

    private let router: Router
    private let maxBodyBytes: Int
    private let logger: Logger
    private let timeouts: ConnectionTimeoutHandler
    private var executor: EventLoopTaskExecutor?
    private var requestIDs = RequestIDGenerator()
    private var state = State.idle
    /// The body so far; kept outside `state` so that appending never copies it.
    private var body: ByteBuffer?

    init(router: Router, maxBodyBytes: Int, logger: Logger, timeouts: ConnectionTimeoutHandler) {
        self.router = router
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            receiveHead(head, context: context)
        case (.body(var chunk), .receiving(let pending)):
            let size = (body?.readableBytes ?? 0) + chunk.readableBytes
            guard size <= pending.limit else {
                body = nil
                refuse(.payloadTooLarge, "request body exceeds \(pending.limit) bytes", head: pending.head, context: context)
                return
            }
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case (.end, .receiving(let pending)):
            state = .responding
            timeouts.requestReceived()
            dispatch(pending, context: context)
        case (.end, .discarding), (.body, .discarding):
            break
        default:
            // The pipeline handler delivers one request at a time; anything else is a protocol breach.
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        switch state {
        case .idle, .receiving:
            let problem =
                parserError == .headerOverflow
                ? HTTPError(.payloadTooLarge, status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), detail: "request head exceeds the header size limit")
                : HTTPError(.invalidArgument, detail: "malformed HTTP request: \(parserError)")
            state = .discarding
            logger.info("malformed request refused", metadata: ["error": "\(parserError)"])
            write(problem.response, requestID: requestIDs.generate(), isHead: false, keepAlive: false, context: context)
        case .responding, .discarding:
            // A response is already under way: its status cannot change, so just end the connection.
            context.close(promise: nil)
        }
    }

    private func receiveHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let request: HTTPRequest
        do {
            request = try HTTPRequest(head, secure: false, splitCookie: false)
        } catch {
            refuse(.invalidArgument, "malformed request", head: head, context: context)
            return
        }
        let path = request.path.map { p in p.firstIndex(of: "?").map { p[..<$0] } ?? p[...] } ?? "/"
        let resolution = router.resolve(request.method, path)
        var limit = maxBodyBytes
        if case .found(let route, _) = resolution, let routeLimit = route.maxBodyBytes { limit = routeLimit }
        // Decided from Content-Length before any body byte is read.
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > limit {
            refuse(.payloadTooLarge, "request body of \(declared) bytes exceeds \(limit) bytes", head: head, context: context)
            return
        }
        body = nil
        state = .receiving(Pending(head: head, request: request, resolution: resolution, limit: limit))
    }

    /// Answers without running a handler and closes: the rest of the request is never read.
    private func refuse(_ code: ErrorCode, _ detail: String, head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .discarding
        var response = HTTPError(code, detail: detail).response
        response.headerFields[.connection] = "close"
        let requestID = requestIDs.accept(head.headers.first(name: "x-request-id"))
        logger.info("\(head.method.rawValue) refused \(response.status.code)", metadata: ["request_id": .string(requestID), "detail": .string(detail)])
        write(response, requestID: requestID, isHead: head.method == .HEAD, keepAlive: false, context: context)
    }

    private func dispatch(_ pending: Pending, context: ChannelHandlerContext) {
        let requestID = requestIDs.accept(pending.request.headerFields[Self.requestIDField])
        let handler: Handler
        let pattern: String
        var parameters = Parameters()
        switch pending.resolution {
        case .found(let route, let params):
            handler = route.handler
            pattern = route.pattern
            parameters = params
        case .methodNotAllowed(let allow):
            handler = router.methodNotAllowedHandler(allow: allow)
            pattern = "unmatched"
        case .notFound:
            handler = router.notFoundHandler
            pattern = "unmatched"
        }
        let requestContext = RequestContext(requestID: requestID, logger: logger, route: pattern, eventLoop: context.eventLoop)
        let request = Request(head: pending.request, body: body ?? ByteBuffer(), parameters: parameters)
        body = nil
        let keepAlive = pending.head.isKeepAlive
        let isHead = pending.head.method == .HEAD
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        Self.respond(
            to: request, context: requestContext, handler: handler, isHead: isHead, keepAlive: keepAlive,
            executor: executor ?? EventLoopTaskExecutor(context.eventLoop), bound: bound
        )
    }

    private static func respond(
        to request: Request, context: RequestContext, handler: @escaping Handler, isHead: Bool, keepAlive: Bool,
        executor: EventLoopTaskExecutor, bound: NIOLoopBound<(handler: HTTPRequestHandler, context: ChannelHandlerContext)>
    ) {
        // Starts on this thread, inside channelRead: a handler that never suspends answers
        // without any hop. One that suspends resumes on this connection's event loop.
        Task.immediate(executorPreference: executor) {
            let response = await run(handler, request, context)
            await send(response, requestID: context.requestID, isHead: isHead, keepAlive: keepAlive, bound: bound)
        }
    }

    private static func run(_ handler: Handler, _ request: Request, _ context: RequestContext) async -> Response {
        do {
            return try await handler(request, context)
        } catch {
            return ErrorResponseFilter.response(for: error, context: context)
        }
    }

    private static let requestIDField = HTTPField.Name("X-Request-Id")!

    private static func send(
        _ response: Response, requestID: String, isHead: Bool, keepAlive: Bool,
        bound: NIOLoopBound<(handler: HTTPRequestHandler, context: ChannelHandlerContext)>
    ) async {
        let loop = bound.eventLoop
        guard case .stream(let produce) = response.body, !isHead else {
            loop.execute(inLoop: { bound.value.handler.write(response, requestID: requestID, isHead: isHead, keepAlive: keepAlive, context: bound.value.context) })
            return
        }
        loop.execute(inLoop: { bound.value.handler.writeHead(response, requestID: requestID, keepAlive: keepAlive, context: bound.value.context) })
        let writer = ResponseBodyWriter { chunk in
            try await loop.submit {
                bound.value.context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(chunk))))
            }.flatMap { $0 }.get()
        }
        do {
            try await produce(writer)
            loop.execute(inLoop: { bound.value.handler.writeEnd(keepAlive: keepAlive, context: bound.value.context) })
        } catch {
            // The head is gone already, so no status can say it: end the stream by closing.
            loop.execute(inLoop: { bound.value.context.close(promise: nil) })
        }
    }

    /// Field values are already legal (`HTTPField` legalizes them), so no outbound validator is needed.
    private func responseHead(_ response: Response, requestID: String, keepAlive: Bool, contentLength: Int?) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(response.headerFields.count + 3)
        for field in response.headerFields where field.name != .contentLength && field.name != Self.requestIDField {
            headers.add(name: field.name.rawName, value: field.value)
        }
        headers.add(name: "x-request-id", value: requestID)
        if let contentLength { headers.add(name: "content-length", value: String(contentLength)) }
        if !keepAlive, response.headerFields[.connection] == nil { headers.add(name: "connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status.code, reasonPhrase: response.status.reasonPhrase), headers: headers)
    }

    private func write(_ response: Response, requestID: String, isHead: Bool, keepAlive: Bool, context: ChannelHandlerContext) {
        var body: ByteBuffer?
        switch response.body {
        case .buffer(let buffer): body = buffer
        case .empty, .stream: body = nil
        }
        let head = responseHead(response, requestID: requestID, keepAlive: keepAlive, contentLength: body?.readableBytes ?? 0)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, !isHead, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        writeEnd(keepAlive: keepAlive, context: context)
    }

    private func writeHead(_ response: Response, requestID: String, keepAlive: Bool, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.head(responseHead(response, requestID: requestID, keepAlive: keepAlive, contentLength: nil))), promise: nil)
    }

    private func writeEnd(keepAlive: Bool, context: ChannelHandlerContext) {
        let closing: Bool
        if case .discarding = state { closing = true } else { closing = !keepAlive }
        if !closing { state = .idle }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if closing { channel.close(promise: nil) }
        }
        timeouts.responseCompleted(context.eventLoop)
    }
}

extension EventLoop {
    /// Runs now when already on this loop, else enqueues.
    func execute(inLoop work: @escaping @Sendable () -> Void) {
        if inEventLoop { work() } else { execute(work) }
    }
}
