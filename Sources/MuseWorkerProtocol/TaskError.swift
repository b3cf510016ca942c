/// Why a task failed, as the API shows it.
public struct TaskError: Sendable, Codable, Equatable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The codes docs/WORKER-PROTOCOL.md names and the server's own; any other becomes `other` in metrics.
    public static let knownCodes: Set<String> = ["out_of_memory", "bad_params", "model_not_found", "internal", "worker_lost", "canceled"]

    /// A worker's report is bounded: the code is a metric label and both are kept with the task.
    public static func isValidCode(_ code: String) -> Bool {
        (1...64).contains(code.utf8.count)
            && code.utf8.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
            }
    }

    public static let maxMessageScalars = 2000
}
