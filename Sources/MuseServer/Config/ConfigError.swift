import MuseCore
import MuseInfra

/// A config problem, printed as one line naming the key; start-up stops with exit code 78 (EX_CONFIG).
public struct ConfigError: Error, CustomStringConvertible {
    public let key: String
    public let message: String

    public var description: String { "config: \(key): \(message)" }
}
