import Foundation
import Logging
import MuseCore
import MuseInfra
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Re-reads the `--config` file when it changes and applies its dynamic part (limits, the
/// off-peak window, scheduling switches) to the running server. A file that does not load is
/// logged and ignored: the server keeps its current settings. A Kubernetes ConfigMap update
/// (a symlink swap) counts as a change: the check follows links.
public struct ConfigWatcher: Service, CustomStringConvertible {
    let source: ConfigLoader?
    let interval: TimeInterval
    let live: LiveSettings
    let logger: Logger

    public init(config: MuseConfig, live: LiveSettings, logger: Logger) {
        self.source = config.source
        self.interval = config.reloadInterval
        self.live = live
        self.logger = logger
    }

    /// What ServiceLifecycle prints; the default would dump the loader's environment, secrets included.
    public var description: String { "ConfigWatcher(\(source?.file ?? "no file"))" }

    public func run() async throws {
        guard let source, let file = source.file, interval > 0 else {
            // Nothing to watch; a service that returns early would stop the group.
            try? await gracefulShutdown()
            return
        }
        var seen = Self.stamp(file)
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(interval * 1000))) }
            } catch {
                return
            }
            let now = Self.stamp(file)
            guard now != seen else { continue }
            seen = now
            do {
                let settings = try await source.load().dynamic
                guard settings != live.current else { continue }
                live.replace(settings)
                logger.notice(
                    "config reloaded",
                    metadata: [
                        "file": "\(file)", "max_steps": "\(settings.limits.maxSteps)", "max_num_images": "\(settings.limits.maxNumImages)",
                        "max_prompt_chars": "\(settings.limits.maxPromptChars)",
                        "offpeak": "\(settings.offPeak.startHour)-\(settings.offPeak.endHour)", "model_affinity": "\(settings.modelAffinity)",
                    ])
            } catch {
                logger.error("config reload failed; the running settings stay", metadata: ["file": "\(file)", "error": "\(error)"])
            }
        }
    }

    /// What identifies a version of the file: modification time, size and inode (following links).
    private static func stamp(_ path: String) -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        return [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_size), Int(info.st_ino)]
    }
}
