import Foundation
import Synchronization

/// The settings an operator may change while Muse runs (the dynamic config: limits, the
/// off-peak window, scheduling switches). Everything else needs a restart.
public struct DynamicSettings: Sendable, Equatable {
    public var limits: GenerationLimits
    public var offPeak: OffPeakWindow
    /// Prefer tasks for models a worker has loaded (off: first come, any free worker).
    public var modelAffinity: Bool
    /// How long affinity may make a task wait before it goes first anyway.
    public var maxAffinityWait: TimeInterval

    public init(limits: GenerationLimits, offPeak: OffPeakWindow, modelAffinity: Bool, maxAffinityWait: TimeInterval) {
        self.limits = limits
        self.offPeak = offPeak
        self.modelAffinity = modelAffinity
        self.maxAffinityWait = maxAffinityWait
    }
}

/// The current dynamic settings, replaced whole when the config file changes; readers take a
/// consistent snapshot under a lock (no actor hop on the submit path).
public final class LiveSettings: Sendable {
    private let value: Mutex<DynamicSettings>

    public init(_ initial: DynamicSettings) {
        value = Mutex(initial)
    }

    public var current: DynamicSettings { value.withLock { $0 } }

    public func replace(_ settings: DynamicSettings) {
        value.withLock { $0 = settings }
    }
}
