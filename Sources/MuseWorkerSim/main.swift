import ArgumentParser
import Foundation
import Logging
import MuseHTTP
import MuseWorkerProtocol
import NIOPosix
import ServiceLifecycle

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
    @Option(name: .customLong("train-slots"), help: "Crop, tag and training jobs run at once, apart from --slots.") var trainSlots = 1
    @Option(name: .customLong("train-step-ms"), help: "Time per training step (and per image of a tag job).") var trainStepMs = 20
    @Option(help: "Abilities, comma-separated.") var abilities = "txt2img,img2img"
    @Option(name: .customLong("worker-id"), help: "Worker id (default: w-<port>).") var workerID: String?
    @Flag(name: .customLong("lose-results"), help: "Never call results back, as if every callback were lost (the server must poll).") var loseResults = false

    func run() async throws {
        guard let token = try token ?? tokenFile.map({ try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }) else {
            throw ValidationError("give --token or --token-file")
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardOutput)
        let logger = Logger(label: "muse-worker-sim")
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Callbacks block in libcurl: on threads of their own, never on the event loop.
        let callbackThreads = NIOThreadPool(numberOfThreads: 8)
        callbackThreads.start()

        let callbacks = Callbacks(server: server, token: token, threads: callbackThreads, logger: logger)
        let gpu = SimulatedGPU(
            settings: .init(
                latencyPerImage: .milliseconds(latencyMs), modelLoad: .milliseconds(modelLoadMs), failRate: failRate,
                slots: slots, token: token, initialModels: models.split(separator: ",").map(String.init), loseResults: loseResults
            ),
            callbacks: callbacks
        )
        let abilityList = abilities.split(separator: ",").map(String.init)
        let trainer = SimulatedTrainer(
            settings: .init(trainSlots: trainSlots, stepTime: .milliseconds(trainStepMs), loseResults: loseResults), callbacks: callbacks)

        let router = Router()
        WorkerRoutes(gpu: gpu, trainer: trainer, abilities: abilityList, maxBatch: maxBatch)
            .register(on: router.group("/v1", name: "server", filters: [BearerTokenFilter(token: token, detail: "worker token required")]))
        var configuration = HTTPServerConfiguration()
        configuration.port = port
        // Jobs carry init images (data URLs of up to 8 MiB).
        configuration.maxBodyBytes = 16 << 20
        configuration.drainDelay = .zero
        configuration.shutdownDeadline = .seconds(5)
        let server = HTTPServer(
            configuration: configuration, router: router, filters: FilterChain([ErrorResponseFilter()]), group: eventLoops,
            readiness: Readiness(), logger: logger
        )
        let presence = Presence(
            registration: WorkerRegistration(
                workerID: workerID ?? "w-\(port)", url: "http://127.0.0.1:\(port)", abilities: abilityList, maxBatch: maxBatch,
                slots: slots, trainSlots: trainSlots, modelsLoaded: gpu.loadedModels, version: "sim-1"
            ),
            gpu: gpu, trainer: trainer, callbacks: callbacks, logger: logger
        )

        // Listen before registering: the server pushes a job the moment it knows the worker.
        try await server.start()
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: server), .init(service: presence)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        try await callbackThreads.shutdownGracefully()
        try await eventLoops.shutdownGracefully()
    }
}

/// Parses and runs the command. Top-level code would pick ArgumentParser's synchronous `main()`
/// (and `run()`), so the async `run()` is called from an async function, through the protocol.
func runCommand() async {
    do {
        var command: any AsyncParsableCommand = try MuseWorkerSim.parse()
        try await command.run()
    } catch {
        MuseWorkerSim.exit(withError: error)
    }
}

await runCommand()
