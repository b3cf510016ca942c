import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import Synchronization

/// The end of each connection's pipeline: runs the matched route's access checks on the head,
/// collects the body within the route's limit, runs the route's composed handler on the
/// connection's event loop, and writes the response. The checks start no later than the first
/// body byte, and while they run no read is asked of the socket: of an unauthenticated upload,
/// at most what the socket had already delivered (within the route's limit) is held, then dropped.
/// A streaming route's handler starts once the checks pass and reads the body as it arrives,
/// the socket read only as fast as the handler takes it.
/// A request the decoder cannot parse is answered here too (400, or 431 for oversized
/// headers) as problem+json, and the connection closes.
final class HTTPRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Pending {
        var head: HTTPRequestHead
        var request: HTTPRequest
        var resolution: Router.Resolution
        var limit: Int
        /// The route reads its body as a stream.
        var streams: Bool
        var context: RequestContext
        /// More body arrived than `limit` while the head filters ran; answered once they pass.
        var overflowed = false
        /// The route's head filters, run once before the handler.
        var filters: [any HeadFilter]
    }

    private enum State {
        case idle
        /// The head arrived and its filters have not started: they start with the first body
        /// byte or when this read ends, or run with the handler in one task when the request's
        /// end follows the head at once (a request without a body, such as a GET).
        case headed(Pending)
        /// The route's head filters are running; `ended` once the request's end has arrived.
        case checking(Pending, ended: Bool)
        case receiving(Pending)
        /// A streaming route's handler runs while its body arrives; `received` counts the bytes.
        case streaming(Pending, source: RequestBodyStream.Producer.Source, received: Int)
        /// The request was refused before its body ended; the rest is dropped and the connection closes.
        case discarding
        case responding
    }

    private let router: Router
    private let maxBodyBytes: Int
    private let streamingBodies: StreamingBodies
    /// The caller whose place among `streamingBodies` this connection holds (`.some(nil)`: an
    /// unauthenticated route's), from its stream's start to its answer or close.
    private var streamingPlace: String??
    private let logger: Logger
    private let timeouts: ConnectionTimeoutHandler
    private var executor: EventLoopTaskExecutor?
    private var requestIDs = RequestIDGenerator()
    private var state = State.idle
    /// A read the channel asked for while the head filters ran, or while a streaming handler was
    /// behind; passed on once they answer, or once it wants more.
    private var readHeld = false
    /// A streaming handler has enough body waiting: no read until it asks for more.
    private var bodyPaused = false
    /// The body so far; kept outside `state` so that appending never copies it.
    private var body: ByteBuffer?
    /// The response being produced; a streamed one is canceled when the client goes away, so a
    /// stream that waits for news (an idle `/events`) ends at once, not at its next write.
    /// (Other handlers run to their end: a submit half done is worse than a lost answer.)
    private var responding: Task<Void, Never>?
    private var streaming = false

    init(router: Router, maxBodyBytes: Int, streamingBodies: StreamingBodies, logger: Logger, timeouts: ConnectionTimeoutHandler) {
        self.router = router
        self.maxBodyBytes = maxBodyBytes
        self.streamingBodies = streamingBodies
        self.logger = logger
        self.timeouts = timeouts
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    /// Where this connection's handlers and filters run: its event loop.
    private func loopExecutor(_ context: ChannelHandlerContext) -> EventLoopTaskExecutor {
        executor ?? EventLoopTaskExecutor(context.eventLoop)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .streaming(_, let source, _) = state { source.finish(RequestBodyStream.ClientGone()) }
        giveStreamingPlace()
        if streaming { responding?.cancel() }
        responding = nil
        context.fireChannelInactive()
    }

    /// Reads are held while the head filters run. Held here, not by turning autoRead off and on:
    /// turning it on reads at once, past the pipeline handler that holds reads while a response
    /// is pending, so a client pipelining requests it never reads answers to was read without end.
    func read(context: ChannelHandlerContext) {
        switch state {
        case .headed, .checking: readHeld = true
        case .streaming where bodyPaused: readHeld = true
        default: context.read()
        }
    }

    /// The read that brought a head without its end is over: the head filters start now, and
    /// no further read is asked for until they answer.
    func channelReadComplete(context: ChannelHandlerContext) {
        if case .headed(let pending) = state {
            startChecks(pending, context: context)
        }
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            receiveHead(head, context: context)
        case (.body(var chunk), .receiving(let pending)):
            guard append(&chunk, limit: pending.limit) else {
                answerEarly(HTTPError(.payloadTooLarge, detail: "request body exceeds \(pending.limit) bytes"), pending, context: context)
                return
            }
        case (.body, .headed(let pending)):
            // A body is coming: the checks start before any of it is kept.
            startChecks(pending, context: context)
            channelRead(context: context, data: data)
        case (.body(var chunk), .checking(var pending, let ended)):
            // Only what was already on its way: no read is asked for until the filters answer.
            if !pending.overflowed, !append(&chunk, limit: pending.limit) {
                pending.overflowed = true
                state = .checking(pending, ended: ended)
            }
        case (.body(let chunk), .streaming(let pending, let source, let received)):
            stream(chunk, pending, source, received: received)
        case (.end, .streaming(_, let source, _)):
            state = .responding
            timeouts.requestReceived()
            source.finish()
        case (.end, .headed(let pending)):
            // The whole request came in one read: filters and handler run in one task.
            state = .responding
            timeouts.requestReceived()
            dispatch(pending, bodyStream: pending.streams ? .ended(with: nil) : nil, context: context)
        case (.end, .checking(let pending, _)):
            state = .checking(pending, ended: true)
        case (.end, .receiving(let pending)):
            state = .responding
            timeouts.requestReceived()
            dispatch(pending, context: context)
        case (_, .discarding):
            // A refused request's rest, and any request pipelined behind it: the connection
            // closes once the refusal is written (closing here would drop responses not yet flushed).
            break
        default:
            // The pipeline handler delivers one request at a time; anything else is a protocol breach.
            context.close(promise: nil)
        }
    }

    /// Passes a chunk to the streaming handler, or ends its body with 413 once past the limit
    /// (the handler answers, and the connection closes after its answer).
    private func stream(_ chunk: ByteBuffer, _ pending: Pending, _ source: RequestBodyStream.Producer.Source, received: Int) {
        let total = received + chunk.readableBytes
        guard total <= pending.limit else {
            source.finish(HTTPError(.payloadTooLarge, detail: "request body exceeds \(pending.limit) bytes"))
            state = .discarding
            bodyPaused = false
            return
        }
        state = .streaming(pending, source: source, received: total)
        if source.yield(chunk) == .stopProducing { bodyPaused = true }
    }

    /// The streaming handler wants more (or has gone: the rest is then read and dropped).
    private func bodyDemanded(context: ChannelHandlerContext) {
        bodyPaused = false
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Adds a chunk to the body; false (and the body dropped) when that would pass `limit`.
    private func append(_ chunk: inout ByteBuffer, limit: Int) -> Bool {
        guard (body?.readableBytes ?? 0) + chunk.readableBytes <= limit else {
            body = nil
            return false
        }
        if body == nil {
            body = chunk
        } else {
            body!.writeBuffer(&chunk)
        }
        return true
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A parse error raised by the close itself (a partial head when the connection ends, as
        // on shutdown) has no one to answer: writing would follow the quiesced connection's end.
        guard let parserError = error as? HTTPParserError, context.channel.isActive else {
            context.close(promise: nil)
            return
        }
        switch state {
        case .idle, .headed, .checking, .receiving:
            let problem =
                parserError == .headerOverflow
                ? HTTPError(
                    .payloadTooLarge, status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                    detail: "request head exceeds the header size limit")
                : HTTPError(.invalidArgument, detail: "malformed HTTP request: \(parserError)")
            state = .discarding
            logger.info("malformed request refused", metadata: ["error": "\(parserError)"])
            write(problem.response, requestID: requestIDs.generate(), isHead: false, keepAlive: false, context: context)
        case .responding, .discarding:
            // A response is already under way: its status cannot change, so just end the connection.
            context.close(promise: nil)
        case .streaming(_, let source, _):
            // The handler is running: its body ends in error, and the connection with it.
            source.finish(HTTPError(.invalidArgument, detail: "malformed HTTP request: \(parserError)"))
            state = .discarding
            context.close(promise: nil)
        }
    }

    private func receiveHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        // No route serves a tunnel. NIO frames any answer to CONNECT without a body, so the
        // refusal is ended by closing the connection (a kept one would leave the client waiting).
        guard head.method != .CONNECT else {
            refuse(.invalidArgument, "CONNECT is not supported", head: head, context: context)
            return
        }
        let request: HTTPRequest
        do {
            request = try HTTPRequest(head, secure: false, splitCookie: false)
        } catch {
            refuse(.invalidArgument, "malformed request", head: head, context: context)
            return
        }
        let resolution = router.resolve(request.method, request.path?[...] ?? "/")
        var limit = maxBodyBytes
        var pattern = "unmatched"
        var filters: [any HeadFilter] = []
        var streams = false
        if case .found(let route, _) = resolution {
            limit = route.maxBodyBytes ?? limit
            streams = route.streamsBody
            pattern = route.pattern
            filters = route.filters
        }
        let requestContext = RequestContext(
            requestID: requestIDs.accept(request.headerFields[Self.requestIDField]), logger: logger, route: pattern, eventLoop: context.eventLoop
        )
        body = nil
        let pending = Pending(
            head: head, request: request, resolution: resolution, limit: limit, streams: streams, context: requestContext, filters: filters)
        if let refusal = router.refusal(for: resolution), Self.hasBody(head) {
            // No route will read it: answered on the head, and the body is never buffered.
            answerEarly(refusal, pending, context: context)
            return
        }
        if filters.isEmpty {
            admit(pending, ended: false, context: context)
        } else {
            state = .headed(pending)
        }
    }

    /// Runs the head filters of a request whose body is still to come.
    private func startChecks(_ pending: Pending, context: ChannelHandlerContext) {
        var pending = pending
        let filters = pending.filters
        pending.filters = []
        state = .checking(pending, ended: false)
        let request = pending.request
        let requestContext = pending.context
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        // Starts here, on the loop: a filter that never suspends answers without a hop.
        Task.immediate(executorPreference: loopExecutor(context)) {
            var checked = requestContext
            let outcome: Result<RequestContext, any Error>
            do {
                for filter in filters { try await filter.check(request, context: &checked) }
                outcome = .success(checked)
            } catch {
                outcome = .failure(error)
            }
            bound.eventLoop.execute(inLoop: { bound.value.handler.filtersAnswered(outcome, context: bound.value.context) })
        }
    }

    private func filtersAnswered(_ outcome: Result<RequestContext, any Error>, context: ChannelHandlerContext) {
        guard case .checking(var pending, let ended) = state else { return }
        switch outcome {
        case .success(let checked):
            pending.context = checked
            if pending.overflowed {
                answerEarly(HTTPError(.payloadTooLarge, detail: "request body exceeds \(pending.limit) bytes"), pending, context: context)
            } else {
                admit(pending, ended: ended, context: context)
            }
        case .failure(let error):
            answerEarly(error, pending, context: context)
        }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    /// Whether a body follows the head (a length above zero, or chunked).
    private static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        return head.headers.first(name: "content-length").map { $0 != "0" } ?? false
    }

    /// The request may proceed: its declared length is checked, then its body collected.
    private func admit(_ pending: Pending, ended: Bool, context: ChannelHandlerContext) {
        // Decided from Content-Length before any body byte is read.
        if let declared = pending.head.headers.first(name: "content-length").flatMap(Int.init), declared > pending.limit {
            answerEarly(HTTPError(.payloadTooLarge, detail: "request body of \(declared) bytes exceeds \(pending.limit) bytes"), pending, context: context)
        } else if pending.streams {
            let caller = pending.context.principal?.id
            guard streamingBodies.take(caller: caller) else {
                answerEarly(
                    HTTPError(.unavailable, detail: "too many uploads in flight; retry shortly", headers: [.retryAfter: "1"]), pending, context: context)
                return
            }
            streamingPlace = .some(caller)
            startStream(pending, ended: ended, context: context)
        } else if ended {
            state = .responding
            timeouts.requestReceived()
            dispatch(pending, context: context)
        } else {
            state = .receiving(pending)
            // The client waits for leave to send its body, and has it now: the access checks passed.
            if pending.head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: pending.head.version, status: .continue))), promise: nil)
            }
        }
    }

    /// Starts a streaming route's handler: what arrived during the checks goes first into its stream.
    private func startStream(_ pending: Pending, ended: Bool, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        var onFirstRead: (@Sendable () -> Void)?
        if !ended, pending.head.headers.first(name: "expect")?.lowercased() == "100-continue" {
            let version = pending.head.version
            onFirstRead = { bound.eventLoop.execute(inLoop: { bound.value.handler.sendContinue(version, context: bound.value.context) }) }
        }
        let (bodyStream, source) = RequestBodyStream.make(
            onDemand: { bound.eventLoop.execute(inLoop: { bound.value.handler.bodyDemanded(context: bound.value.context) }) }, onFirstRead: onFirstRead)
        let early = body
        body = nil
        bodyPaused = false
        if ended {
            state = .responding
            timeouts.requestReceived()
            if let early, early.readableBytes > 0 { _ = source.yield(early) }
            source.finish()
        } else {
            state = .streaming(pending, source: source, received: 0)
            if let early, early.readableBytes > 0 { stream(early, pending, source, received: 0) }
        }
        dispatch(pending, bodyStream: bodyStream, context: context)
    }

    /// A streaming handler started reading: the client that waits for leave to send its body gets it.
    private func sendContinue(_ version: HTTPVersion, context: ChannelHandlerContext) {
        guard case .streaming = state else { return }
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .continue))), promise: nil)
    }

    /// Answers `error` through the filter chain before the body is read; the rest of the
    /// request is dropped and the connection closes after the answer.
    private func answerEarly(_ error: any Error, _ pending: Pending, context: ChannelHandlerContext) {
        state = .discarding
        body = nil
        let request = Request(head: pending.request)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        responding = Self.respond(
            to: request, context: pending.context, handler: router.answering(error), router: router, isHead: pending.head.method == .HEAD,
            keepAlive: false, executor: loopExecutor(context), bound: bound
        )
    }

    /// Answers a head that is not a valid request, outside the filter chain, and closes.
    private func refuse(_ code: ErrorCode, _ detail: String, head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .discarding
        var response = HTTPError(code, detail: detail).response
        response.headerFields[.connection] = "close"
        let requestID = requestIDs.accept(head.headers.first(name: "x-request-id"))
        logger.info("\(head.method.rawValue) refused \(response.status.code)", metadata: ["request_id": .string(requestID), "detail": .string(detail)])
        write(response, requestID: requestID, isHead: head.method == .HEAD, keepAlive: false, context: context)
    }

    /// Runs the request: its head filters first when they have not run yet (a request that came
    /// whole in one read), then its handler.
    private func dispatch(_ pending: Pending, bodyStream: RequestBodyStream? = nil, context: ChannelHandlerContext) {
        let handler: Handler
        var parameters = Parameters()
        if case .found(let route, let params) = pending.resolution {
            handler = route.handler
            parameters = params
        } else {
            handler = router.answering(router.refusal(for: pending.resolution) ?? HTTPError.notFound())
        }
        let request = Request(head: pending.request, body: body ?? ByteBuffer(), bodyStream: bodyStream, parameters: parameters)
        body = nil
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        responding = Self.respond(
            to: request, context: pending.context, checks: pending.filters, handler: handler, router: router, isHead: pending.head.method == .HEAD,
            keepAlive: pending.head.isKeepAlive, executor: loopExecutor(context), bound: bound
        )
    }

    private static func respond(
        to request: Request, context: RequestContext, checks: [any HeadFilter] = [], handler: @escaping Handler, router: Router, isHead: Bool,
        keepAlive: Bool, executor: EventLoopTaskExecutor, bound: NIOLoopBound<(handler: HTTPRequestHandler, context: ChannelHandlerContext)>
    ) -> Task<Void, Never> {
        // Starts on this thread, inside channelRead: filters and a handler that never suspend
        // answer without any hop. One that suspends resumes on this connection's event loop.
        Task.immediate(executorPreference: executor) {
            var context = context
            var handler = handler
            var keepAlive = keepAlive
            do {
                for filter in checks { try await filter.check(request.head, context: &context) }
            } catch {
                // As for a refusal before the body: answered, and the connection closes.
                handler = router.answering(error)
                keepAlive = false
            }
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
        let produce: @Sendable (ResponseBodyWriter) async throws -> Void
        let length: Int?
        switch response.body {
        case .stream(let streamed) where !isHead: (produce, length) = (streamed, nil)
        case .sized(let size, let streamed) where !isHead: (produce, length) = (streamed, size)
        default:
            loop.execute(inLoop: {
                bound.value.handler.write(response, requestID: requestID, isHead: isHead, keepAlive: keepAlive, context: bound.value.context)
            })
            return
        }
        loop.execute(inLoop: {
            bound.value.handler.writeHead(response, requestID: requestID, keepAlive: keepAlive, contentLength: length, context: bound.value.context)
        })
        let written = WrittenBytes()
        let writer = ResponseBodyWriter(
            writeChunk: { chunk in
                // Past the declared length the framing would be wrong: refuse, and the connection ends.
                if let length, written.add(chunk.readableBytes) > length { throw WrittenBytes.Mismatch() }
                try await loop.submit {
                    bound.value.context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(chunk))))
                }.flatMap { $0 }.get()
            },
            close: { loop.execute(inLoop: { bound.value.context.close(promise: nil) }) }
        )
        do {
            try await produce(writer)
            if let length, written.total != length { throw WrittenBytes.Mismatch() }
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
        return HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: response.status.code, reasonPhrase: response.status.reasonPhrase), headers: headers)
    }

    /// A streaming handler answered before its body ended: the rest is not read, so the
    /// connection cannot carry another request, and the answer says so.
    private var bodyUnfinished: Bool {
        if case .streaming = state { return true }
        return false
    }

    private func write(_ response: Response, requestID: String, isHead: Bool, keepAlive: Bool, context: ChannelHandlerContext) {
        let keepAlive = keepAlive && !bodyUnfinished
        var body: ByteBuffer?
        switch response.body {
        case .buffer(let buffer): body = buffer
        case .empty, .stream, .sized: body = nil
        }
        // A HEAD of a sized body says its length, as the GET would.
        var length = body?.readableBytes ?? 0
        if case .sized(let size, _) = response.body { length = size }
        let head = responseHead(response, requestID: requestID, keepAlive: keepAlive, contentLength: length)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, !isHead, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        writeEnd(keepAlive: keepAlive, context: context)
    }

    private func writeHead(_ response: Response, requestID: String, keepAlive: Bool, contentLength: Int?, context: ChannelHandlerContext) {
        let keepAlive = keepAlive && !bodyUnfinished
        streaming = true
        context.writeAndFlush(
            wrapOutboundOut(.head(responseHead(response, requestID: requestID, keepAlive: keepAlive, contentLength: contentLength))), promise: nil)
    }

    private func giveStreamingPlace() {
        if let caller = streamingPlace {
            streamingPlace = nil
            streamingBodies.give(caller: caller)
        }
    }

    private func writeEnd(keepAlive: Bool, context: ChannelHandlerContext) {
        streaming = false
        giveStreamingPlace()
        let closing: Bool
        switch state {
        case .discarding: closing = true
        case .streaming(_, let source, _):
            // Answered before its body ended: the rest is not read, so the connection cannot be reused.
            source.finish(RequestBodyStream.ClientGone())
            closing = true
        default: closing = !keepAlive
        }
        // Anything read after a closing answer (a request pipelined behind it) is dropped.
        state = closing ? .discarding : .idle
        let channel = context.channel
        // Before the end is written: writing it hands over the next pipelined request, whose
        // processing must not inherit the idle deadline set here.
        timeouts.responseCompleted(context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if closing { channel.close(promise: nil) }
        }
    }
}

extension EventLoop {
    /// Runs now when already on this loop, else enqueues.
    func execute(inLoop work: @escaping @Sendable () -> Void) {
        if inEventLoop { work() } else { execute(work) }
    }
}

/// Bytes a sized response has written so far (its producer writes one chunk at a time).
final class WrittenBytes: Sendable {
    struct Mismatch: Error {}

    private let count = Atomic<Int>(0)

    /// Adds `n`; the new total.
    func add(_ n: Int) -> Int { count.add(n, ordering: .relaxed).newValue }

    var total: Int { count.load(ordering: .relaxed) }
}
