import Foundation

/// Off-peak work runs inside the window, or earlier on GPUs that would otherwise idle.
struct OffPeakRelease: Sendable {
    let store: any DispatchStore
    let registry: WorkerRegistry
    /// The window, read each sweep (the dynamic config).
    let settings: LiveSettings

    /// Releases everything inside the window; outside it, as many tasks as there are free slots
    /// when nothing else is queued.
    func release() async {
        let limit: Int
        if settings.current.offPeak.contains(Date()) {
            limit = 10_000
        } else if (try? await store.count(status: .queued)) == 0 {
            limit = registry.freeSlots(ability: .txt2img)
        } else {
            return
        }
        guard limit > 0 else { return }
        _ = try? await store.releaseScheduled(limit: limit)
    }
}
