import NIOCore

/// A request body read as it arrives, for a route registered with `streaming: true`: chunks in
/// order, with back-pressure (while the handler is behind, the socket is not read), ending when
/// the request ends. It throws `HTTPError` 413 once the body passes the route's limit, and
/// `RequestBodyStream.ClientGone` when the connection closes before the end. One reader only.
public struct RequestBodyStream: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDemand
    >

    /// The connection closed before the body ended (the client left, or the request timeout cut
    /// it): the client's doing, so a 400 in the logs and metrics, which no one receives.
    public struct ClientGone: HTTPResponseError, CustomStringConvertible {
        public var description: String { "the client closed the connection before the request body ended" }
        public var httpError: HTTPError? { HTTPError(.invalidArgument, detail: description) }
    }

    let producer: Producer
    /// Called as the handler starts reading: a client waiting on `Expect: 100-continue` is told
    /// to send only then, not when a handler that refuses it (a full dataset) has yet to answer.
    let onFirstRead: (@Sendable () -> Void)?

    public struct AsyncIterator: AsyncIteratorProtocol {
        var inner: Producer.AsyncIterator

        public mutating func next() async throws -> ByteBuffer? {
            try await inner.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        onFirstRead?()
        return AsyncIterator(inner: producer.makeAsyncIterator())
    }

    /// A stream fed by the connection's handler through the returned source. At most a few
    /// socket reads (each at most 64 KiB) wait in it before reading stops.
    static func make(
        onDemand: @escaping @Sendable () -> Void, onFirstRead: (@Sendable () -> Void)? = nil
    ) -> (RequestBodyStream, Producer.Source) {
        let made = Producer.makeSequence(
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 4), finishOnDeinit: true, delegate: BodyDemand(onDemand: onDemand))
        return (RequestBodyStream(producer: made.sequence, onFirstRead: onFirstRead), made.source)
    }

    /// A stream that holds `body` (if any) and has ended: a request that arrived whole.
    static func ended(with body: ByteBuffer?) -> RequestBodyStream {
        let (stream, source) = make(onDemand: {})
        if let body, body.readableBytes > 0 { _ = source.yield(body) }
        source.finish()
        return stream
    }
}

/// Resumes reading the socket when the reader wants more, or has gone (the rest is then dropped).
struct BodyDemand: NIOAsyncSequenceProducerDelegate {
    let onDemand: @Sendable () -> Void

    func produceMore() { onDemand() }
    func didTerminate() { onDemand() }
}

extension Request {
    /// The body as byte chunks: as it arrives on a streaming route, else the collected body in one.
    public var bodyChunks: AsyncMapSequence<RequestBodyStream, [UInt8]> {
        (bodyStream ?? .ended(with: body)).map { Array($0.readableBytesView) }
    }
}
