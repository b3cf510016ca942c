import Foundation
import MuseCore

/// The shared worker token: `worker.token` from config, else the one in `DATA_DIR/worker-token`,
/// made at first start (docs/WORKER-PROTOCOL.md).
public enum WorkerToken {
    public static func resolve(configured: String, dataDir: String) throws -> String {
        if !configured.isEmpty { return configured }
        let path = (dataDir as NSString).appendingPathComponent("worker-token")
        try PrivateFiles.directory(dataDir)
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            try PrivateFiles.restrict(path)
            return existing
        }
        let token = "mwt_" + Digest.hex(Digest.randomBytes(24))
        // Made under the process's 0077 umask; restricted again in case another umask made it.
        try token.write(toFile: path, atomically: true, encoding: .utf8)
        try PrivateFiles.restrict(path)
        return token
    }
}
