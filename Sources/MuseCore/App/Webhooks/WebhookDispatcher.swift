import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Sends due webhook deliveries beside everything else: a bounded number at once and a bounded
/// number per receiving host (by name, and by resolved address), each with a timeout, so a slow or dead receiver delays neither
/// the scheduler nor other receivers. Non-2xx or no answer → retried on the configured
/// schedule with jitter; 410 stops; every try is recorded.
public final class WebhookDispatcher: Service, Sendable, CustomStringConvertible {
    public struct Settings: Sendable {
        /// Waits before the 2nd, 3rd, … try; after the last one the delivery has failed.
        public var retrySchedule: [Duration]
        public var timeout: Duration
        public var concurrency: Int
        public var perHost: Int

        public init(retrySchedule: [Duration], timeout: Duration, concurrency: Int, perHost: Int) {
            self.retrySchedule = retrySchedule
            self.timeout = timeout
            self.concurrency = concurrency
            self.perHost = perHost
        }
    }

    let store: any WebhookStore
    let tasks: any TaskStore
    /// Trainings, whose final state is delivered as well.
    let jobs: any JobStore
    let sender: any WebhookSender
    let signature: WebhookSignature
    let targets: WebhookTargets
    let settings: Settings
    /// The body of a delivery: the task object of docs/API.md.
    let render: @Sendable (GenerationTask) throws -> [UInt8]
    /// The body of a training's delivery: the training object.
    let renderJob: @Sendable (TrainingJob) throws -> [UInt8]
    let logger: Logger
    let metrics: WebhookMetrics
    /// Tries in flight, per host.
    private let inFlight = Mutex<[String: Int]>([:])
    /// Tries in flight per resolved address: many names for one receiver share its limit.
    private let perAddress = Mutex<[[UInt8]: Int]>([:])
    /// Deliveries with a try in flight: never a second at once (a lease that ran out while its
    /// try still hangs makes the delivery due again).
    private let trying = Mutex<Set<String>>([])

    public init(
        store: any WebhookStore, tasks: any TaskStore, jobs: any JobStore, sender: any WebhookSender, signature: WebhookSignature,
        targets: WebhookTargets, settings: Settings, render: @escaping @Sendable (GenerationTask) throws -> [UInt8],
        renderJob: @escaping @Sendable (TrainingJob) throws -> [UInt8], metrics: WebhookMetrics, logger: Logger
    ) {
        self.store = store
        self.tasks = tasks
        self.jobs = jobs
        self.renderJob = renderJob
        self.sender = sender
        self.signature = signature
        self.targets = targets
        self.settings = settings
        self.render = render
        self.metrics = metrics
        self.logger = logger
    }

    public var description: String { "WebhookDispatcher" }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            await startDue()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(250)) }
            } catch {
                return
            }
        }
    }

    /// Starts as many due deliveries as the limits allow.
    func startDue() async {
        let total = inFlight.withLock { $0.values.reduce(0, +) }
        guard total < settings.concurrency else { return }
        let now = Date()
        let due: [WebhookDelivery]
        do {
            due = try await store.due(now: now, limit: (settings.concurrency - total) * 4)
        } catch {
            logger.error("reading due webhook deliveries failed", metadata: ["error": "\(error)"])
            return
        }
        // Deliveries whose host is at its limit step back a second, so that a host with many
        // (a slow receiver, one tenant's flood) never keeps the deliveries to other hosts waiting.
        var busyHost: [String] = []
        for delivery in due {
            guard trying.withLock({ $0.insert(delivery.id).inserted }) else { continue }
            let host = HTTPTarget.parse(delivery.url)?.host ?? ""
            enum Admission { case admitted, full, hostFull }
            let admission = inFlight.withLock { inFlight -> Admission in
                guard inFlight.values.reduce(0, +) < settings.concurrency else { return .full }
                guard inFlight[host, default: 0] < settings.perHost else { return .hostFull }
                inFlight[host, default: 0] += 1
                return .admitted
            }
            guard admission == .admitted else {
                _ = trying.withLock { $0.remove(delivery.id) }
                if admission == .hostFull { busyHost.append(delivery.id) }
                continue
            }
            // Leased a little past the try's timeout: if this process dies mid-try, the delivery is retried then.
            let leased = (try? await store.lease(id: delivery.id, now: now, until: now.addingTimeInterval(Self.seconds(settings.timeout) + 5))) ?? false
            guard leased else {
                release(host)
                _ = trying.withLock { $0.remove(delivery.id) }
                continue
            }
            Task {
                await attempt(delivery)
                release(host)
                _ = trying.withLock { $0.remove(delivery.id) }
            }
        }
        if !busyHost.isEmpty { try? await store.postpone(ids: busyHost, until: Date().addingTimeInterval(1)) }
    }

    private func release(_ host: String) {
        inFlight.withLock { inFlight in
            inFlight[host, default: 1] -= 1
            if inFlight[host] == 0 { inFlight[host] = nil }
        }
    }

    /// The delivered object as it is now: a generation's task or a training; nil if it is gone.
    private func body(of delivery: WebhookDelivery) async throws -> [UInt8]? {
        if let task = try await tasks.task(id: delivery.taskID, tenant: delivery.tenant) { return try render(task) }
        if let job = try await jobs.job(id: delivery.taskID, tenant: delivery.tenant) { return try renderJob(job) }
        return nil
    }

    /// One try: sign, check the target, POST, record.
    func attempt(_ delivery: WebhookDelivery) async {
        let started = Date()
        var statusCode: Int?
        var failure: String?
        do {
            guard let body = try await self.body(of: delivery) else {
                try await store.record(
                    deliveryID: delivery.id, attempt: WebhookAttempt(at: started, statusCode: nil, latencyMs: 0, error: "the task is gone"), status: .failed,
                    next: nil
                )
                return
            }
            let secret = try await store.secret(tenant: delivery.tenant, orCreate: signature.newSecret())
            let timestamp = Int(started.timeIntervalSince1970)
            let headers = [
                "webhook-id: \(delivery.id)", "webhook-timestamp: \(timestamp)",
                "webhook-signature: \(signature.sign(secret: secret, id: delivery.id, timestamp: timestamp, body: body))",
                "User-Agent: Muse-Webhooks/1",
            ]
            let target = try await targets.check(delivery.url)
            let admitted = perAddress.withLock { counts in
                guard counts[target.address, default: 0] < settings.perHost else { return false }
                counts[target.address, default: 0] += 1
                return true
            }
            // The address is at its limit under another name: no try now; the lease runs out and it comes round again.
            guard admitted else { return }
            defer {
                perAddress.withLock { counts in
                    counts[target.address, default: 1] -= 1
                    if counts[target.address] == 0 { counts[target.address] = nil }
                }
            }
            statusCode = try await sender.post(
                url: delivery.url, host: target.host, port: target.port, address: target.address, headers: headers, body: body, timeout: settings.timeout
            )
        } catch {
            failure = "\(error)"
        }
        let latency = Int(Date().timeIntervalSince(started) * 1000)
        // Tries recorded before this one decide the next wait.
        let previousTries = delivery.tries
        let status: DeliveryStatus
        var next: Date?
        switch statusCode {
        case let code? where (200..<300).contains(code): status = .succeeded
        case 410: status = .stopped
        default:
            if previousTries < settings.retrySchedule.count {
                status = .pending
                // ±20% jitter, so receivers coming back are not hit by every delivery at once.
                next = Date().addingTimeInterval(Self.seconds(settings.retrySchedule[previousTries]) * Double.random(in: 0.8...1.2))
            } else {
                status = .failed
            }
        }
        metrics.attempted(outcome: statusCode.map { "\($0 / 100)xx" } ?? "error", final: status)
        if status != .succeeded {
            logger.info(
                "webhook try failed",
                metadata: [
                    "delivery": "\(delivery.id)", "status_code": "\(statusCode.map(String.init) ?? "-")", "error": "\(failure ?? "")",
                    "next": "\(next.map { "\($0)" } ?? "none")",
                ])
        }
        do {
            try await store.record(
                deliveryID: delivery.id, attempt: WebhookAttempt(at: started, statusCode: statusCode, latencyMs: latency, error: failure), status: status,
                next: next
            )
        } catch {
            logger.error("recording a webhook try failed", metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
