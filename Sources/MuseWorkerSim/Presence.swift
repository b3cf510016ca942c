import Foundation
import Logging
import MuseWorkerProtocol
import ServiceLifecycle

/// Registers with the server, heart-beats every 2 s (registering again when the server answers
/// 404), runs the GPU, and deregisters on graceful shutdown.
struct Presence: Service {
    let registration: WorkerRegistration
    let gpu: SimulatedGPU
    let trainer: SimulatedTrainer
    let callbacks: Callbacks
    let logger: Logger

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await gpu.run() }
            await register()
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                try? await Task.sleep(for: .seconds(2))
                let beat = WorkerHeartbeat(
                    busy: gpu.busyRatio, running: gpu.runningJobs + trainer.runningJobs, modelsLoaded: gpu.loadedModels, queue: gpu.queued)
                if await callbacks.heartbeat(registration.workerID, beat) == 404 { await register() }
            }
            await callbacks.leave(registration.workerID)
            group.cancelAll()
        }
    }

    private func register() async {
        var current = registration
        current.modelsLoaded = gpu.loadedModels
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if await callbacks.register(current) {
                logger.info("registered", metadata: ["server": "\(callbacks.server)", "worker_id": "\(registration.workerID)"])
                return
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
