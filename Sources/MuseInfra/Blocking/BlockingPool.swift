import MuseCore
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

    /// Runs `work` on a pool thread without waiting for it; it runs even while the pool shuts
    /// down, so that work handed over is never dropped.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        pool.submit { _ in work() }
    }

    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(work)
    }
}
