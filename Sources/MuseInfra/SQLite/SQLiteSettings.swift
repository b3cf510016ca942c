import MuseCore

/// How the embedded database trades durability and waiting (`storage.*`).
public struct SQLiteSettings: Sendable, Equatable {
    /// How long a transaction waits for another process's write lock before it fails (then 503).
    public var busyTimeoutMilliseconds: Int32 = 5000
    /// `synchronous=FULL`: a commit is on disk when it returns, power loss included (in WAL mode
    /// NORMAL may lose the last commits). Group commit pays the fsync once per group.
    public var synchronousFull = true

    public init(busyTimeoutMilliseconds: Int32 = 5000, synchronousFull: Bool = true) {
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.synchronousFull = synchronousFull
    }
}
