import Foundation
import Logging
import MuseCurl
import MuseJSON
import MuseWorkerProtocol
import NIOPosix

/// The worker's calls to the server: registration, heartbeats, progress and results, through
/// libcurl on threads of their own. Results are retried (the server treats repeats as no-ops).
struct Callbacks: Sendable {
    let server: String
    let token: String
    let threads: NIOThreadPool
    let logger: Logger
    private let http = CurlHTTPClient()

    init(server: String, token: String, threads: NIOThreadPool, logger: Logger) {
        self.server = server
        self.token = token
        self.threads = threads
        self.logger = logger
    }

    func post<T: Encodable>(_ url: String, _ body: T, method: String = "POST") async -> Int? {
        guard let bytes = try? JSON.encode(body) else { return nil }
        return try? await threads.runIfActive { [http, token] in
            try http.send(url, method: method, json: bytes, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 10_000).status
        }
    }

    /// `DELETE /internal/v1/workers/{id}`, without a body.
    func leave(_ workerID: String) async {
        _ = try? await threads.runIfActive { [http, token, server] in
            try http.send(
                server + "/internal/v1/workers/\(workerID)", method: "DELETE", json: nil, headers: ["Authorization: Bearer \(token)"],
                timeoutMilliseconds: 10_000)
        }
    }

    func register(_ registration: WorkerRegistration) async -> Bool {
        await post(server + "/internal/v1/workers", registration) == 200
    }

    /// The status of the heartbeat call: 404 means the server forgot us.
    func heartbeat(_ workerID: String, _ beat: WorkerHeartbeat) async -> Int? {
        await post(server + "/internal/v1/workers/\(workerID)/heartbeat", beat)
    }

    func progress(_ callbackURL: String, _ body: WorkerProgress) async {
        _ = await post(callbackURL + "/progress", body)
    }

    func result(_ callbackURL: String, _ body: some Encodable & Sendable) async {
        for attempt in 1...5 {
            if let status = await post(callbackURL + "/result", body), status < 500 { return }
            logger.warning("result callback failed; retrying", metadata: ["attempt": "\(attempt)"])
            try? await Task.sleep(for: .milliseconds(200 * attempt))
        }
    }

    /// PUTs raw bytes (a cropped image, a checkpoint, a LoRA), tried again like a result while the
    /// server is unreachable or failing; the last status, nil when it never answered.
    func put(_ url: String, _ bytes: [UInt8], contentType: String) async -> Int? {
        var status: Int?
        for attempt in 1...5 {
            status = try? await threads.runIfActive { [http, token] in
                let headers = ["Authorization: Bearer \(token)"]
                return try http.send(url, method: "PUT", body: bytes, contentType: contentType, headers: headers, timeoutMilliseconds: 60_000).status
            }
            if let status, status < 500 { return status }
            try? await Task.sleep(for: .milliseconds(200 * attempt))
        }
        return status
    }

    /// GETs bytes the server serves to workers (a dataset image, a checkpoint), tried again while
    /// the server is unreachable or failing; nil unless it answered 200.
    func fetch(_ url: String, maxBytes: Int) async -> [UInt8]? {
        for attempt in 1...5 {
            let response = try? await threads.runIfActive { [http, token] in
                try http.send(
                    url, method: "GET", json: nil, headers: ["Authorization: Bearer \(token)"], timeoutMilliseconds: 60_000, maxResponseBytes: maxBytes)
            }
            if let response, response.status < 500 { return response.status == 200 ? response.body : nil }
            try? await Task.sleep(for: .milliseconds(200 * attempt))
        }
        return nil
    }
}
