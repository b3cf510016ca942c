import HTTPTypes
import NIOCore
import NIOHTTP1

/// Answers a request the HTTP decoder could not parse with a problem+json 400 (431 for
/// oversized headers) and closes the connection, unless a response is already under way.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var responseInProgress = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        guard !responseInProgress else {
            context.close(promise: nil)
            return
        }
        let problem: HTTPError =
            parserError == .headerOverflow
            ? HTTPError(.payloadTooLarge, status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), detail: "request head exceeds the header size limit")
            : HTTPError(.invalidArgument, detail: "malformed HTTP request: \(parserError)")
        let response = problem.response
        var head = HTTPResponseHead(HTTPResponse(status: response.status, headerFields: response.headerFields))
        head.headers.replaceOrAdd(name: "connection", value: "close")
        var body = ByteBuffer()
        if case .buffer(let buffer) = response.body { body = buffer }
        head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: responseInProgress = true
        case .end: responseInProgress = false
        case .body: break
        }
        context.write(data, promise: promise)
    }
}
