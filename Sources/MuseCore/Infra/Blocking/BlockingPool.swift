import NIOPosix

/// The thread pool that runs blocking C calls (libpq, hiredis, libcurl, SQLite) off the event loops.
public struct BlockingPool: Sendable {
    let pool: NIOThreadPool

    public init(pool: NIOThreadPool) {
        self.pool = pool
    }

    /// A pool of its own, started, for calls that may hang (outbound HTTP): they then hold only its threads.
    public init(threads: Int) {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        self.pool = pool
    }

    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(work)
    }
}
