import ArgumentParser
import Foundation
import MuseCore
import MuseHTTP
import MuseInfra
import MuseServer

/// `muse-worker-sim`: a simulated GPU worker that speaks the worker protocol for real.
struct MuseWorkerSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "muse-worker-sim", abstract: "Simulated GPU diffusion worker.")

    @Option(help: "Port to listen on.") var port: Int
    @Option(help: "The Muse server's base URL, e.g. http://127.0.0.1:8080.") var server: String
    @Option(help: "The shared worker token (default: the server's DATA_DIR/worker-token via --token-file).") var token: String?
    @Option(name: .customLong("token-file"), help: "A file holding the worker token.") var tokenFile: String?
    @Option(name: .customLong("latency-ms"), help: "GPU time per image.") var latencyMs = 50
    @Option(help: "Models loaded at start, comma-separated.") var models = "sd15-base"
    @Option(name: .customLong("model-load-ms"), help: "Cost of a model switch.") var modelLoadMs = 2000
    @Option(name: .customLong("fail-rate"), help: "Fraction of jobs that fail.") var failRate = 0.0
    @Option(name: .customLong("max-batch"), help: "Most jobs in one batch call.") var maxBatch = 1
    @Option(help: "Jobs run at once.") var slots = 1
    @Option(help: "Abilities, comma-separated.") var abilities = "txt2img,img2img"
    @Option(name: .customLong("worker-id"), help: "Worker id (default: w-<port>).") var workerID: String?
    @Flag(name: .customLong("lose-results"), help: "Never call results back, as if every callback were lost (the server must poll).") var loseResults = false

    func run() async throws {
        guard let token = try token ?? tokenFile.map({ try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }) else {
            throw ValidationError("give --token or --token-file")
        }
        // The embedded default's server settings, on this worker's port.
        let config = try await ConfigLoader(file: nil, flags: ["server.port": .int(port), "log.access": .bool(false)]).load()
        let runtime = Runtime(config: config, label: "muse-worker-sim")
        let callbacks = Callbacks(server: server, token: token, pool: runtime.outboundHTTPPool, logger: runtime.logger)
        let gpu = SimulatedGPU(
            settings: .init(
                latencyPerImage: .milliseconds(latencyMs), modelLoad: .milliseconds(modelLoadMs), failRate: failRate,
                slots: slots, token: token, initialModels: models.split(separator: ",").map(String.init), loseResults: loseResults
            ),
            callbacks: callbacks
        )
        let abilityList = abilities.split(separator: ",").map(String.init)

        let router = Router()
        WorkerRoutes(gpu: gpu, abilities: abilityList, maxBatch: maxBatch).register(on: router.group("/v1", name: "server", filters: [WorkerTokenFilter(token: token)]))
        let server = runtime.httpServer(router: router)
        let presence = Presence(
            registration: WorkerRegistration(
                workerID: workerID ?? "w-\(port)", url: "http://127.0.0.1:\(port)", abilities: abilityList, maxBatch: maxBatch,
                slots: slots, modelsLoaded: gpu.loadedModels, version: "sim-1"
            ),
            gpu: gpu, callbacks: callbacks, logger: runtime.logger
        )

        // Listen before registering: the server pushes a job the moment it knows the worker.
        try await server.start()
        try await runtime.run(services: [server, presence])
    }
}

await CommandEntry.run(MuseWorkerSim.self)
