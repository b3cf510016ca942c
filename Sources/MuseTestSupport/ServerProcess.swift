import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Ports handed out by this test process: never the same one twice.
private let givenPorts = Mutex<Set<Int>>([])

/// A TCP port on loopback that nothing listens on right now, drawn at random below Linux's
/// ephemeral range (32768–60999): a port the kernel picked for `bind(0)` is also what it picks
/// for the next outgoing connection, and a server started a moment later would find it taken.
public func freePort() -> Int {
    while true {
        let port = Int.random(in: 20_000...32_000)
        guard givenPorts.withLock({ $0.insert(port).inserted }) else { continue }
        if canBind(port) { return port }
    }
}

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } } == 0
}

/// One of our binaries started as a child process, as an operator would run it.
public final class ServerProcess: @unchecked Sendable {
    // Owned by one test; Process is used only from that test's task.
    public let process = Process()
    private let stdout = Pipe()
    private let stderr = Pipe()
    /// Standard output (the logs), read as it comes so a chatty server never blocks on a full pipe.
    private let output = OutputBuffer()
    public let port: Int
    /// The `--data-dir` the server was started with, when `serve` chose it.
    public private(set) var dataDir: String?

    /// The directory holding the built products: TEST_BIN_DIR, or .build/debug beside the package.
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["TEST_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }

    /// `workingDirectory`: the repository root unless given, so relative config paths resolve as in scripts/run.sh.
    public init(
        _ binary: String, arguments: [String], environment: [String: String] = [:], port: Int = freePort(), workingDirectory: String? = nil
    ) throws {
        self.port = port
        // One of ours by name, or any program by absolute path.
        process.executableURL = binary.hasPrefix("/") ? URL(fileURLWithPath: binary) : Self.binDirectory.appendingPathComponent(binary)
        process.currentDirectoryURL =
            workingDirectory.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MUSE_") }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = stdout
        process.standardError = stderr
        let output = output
        stdout.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try process.run()
    }

    /// Starts `binary serve` on a free port with `dataDir`, or a fresh data directory.
    public static func serve(
        _ binary: String, extra: [String] = [], environment: [String: String] = [:], dataDir: String? = nil, workingDirectory: String? = nil
    ) throws -> ServerProcess {
        let port = freePort()
        let dataDir = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("muse-data-\(UUID().uuidString)").path
        let server = try ServerProcess(
            binary, arguments: ["serve", "--port", String(port), "--data-dir", dataDir] + extra, environment: environment, port: port,
            workingDirectory: workingDirectory
        )
        server.dataDir = dataDir
        return server
    }

    /// Runs a one-shot command of a binary to its end; its exit status and standard output.
    public static func command(_ binary: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String) {
        let process = try ServerProcess(binary, arguments: arguments)
        let status = await process.waitForExit() ?? -1
        return (status, await process.output.text(afterEnd: true))
    }

    /// Waits until `/healthz` answers 200.
    public func waitUntilHealthy(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let client = try? await RawHTTPClient(port: port, receiveTimeout: 2),
                (try? await client.request("GET", "/healthz").status) == 200
            {
                return
            }
            guard process.isRunning else { throw RawClientError(description: "exited with \(process.terminationStatus): \(readStderr())") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RawClientError(description: "not healthy within \(timeout)")
    }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for exit and returns the status.
    public func waitForExit(timeout: Duration = .seconds(20)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// What the process wrote to standard output so far (its log lines).
    public func logs() async -> String {
        await output.text(afterEnd: false)
    }

    public func readStderr() -> String {
        String(decoding: stderr.fileHandleForReading.availableData, as: UTF8.self)
    }

    public func stop() {
        if process.isRunning {
            signal(SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
    }
}

/// Bytes read from a pipe by its readability handler; empty data marks the end.
private final class OutputBuffer: Sendable {
    private let state = Mutex<(bytes: [UInt8], ended: Bool)>(([], false))

    func append(_ data: Data) {
        state.withLock { state in
            if data.isEmpty { state.ended = true } else { state.bytes += data }
        }
    }

    /// The text so far; with `afterEnd`, first waits (up to 5 s) for the writer to close the pipe.
    func text(afterEnd: Bool) async -> String {
        let deadline = ContinuousClock.now + .seconds(5)
        while afterEnd, !state.withLock({ $0.ended }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return state.withLock { String(decoding: $0.bytes, as: UTF8.self) }
    }
}
