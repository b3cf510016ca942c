import Foundation
import MuseFuzzTargets
import Testing

/// Every input kept in Tests/Fuzz/regressions/<target>/ (crashes the fuzzers found, and seeds)
/// runs through its target again: a crash here is a regression.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/regressions").standardized

    @Test(arguments: FuzzTargets.names)
    func keptInputsStillPass(_ target: String) throws {
        let folder = Self.root.appendingPathComponent(target)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        #expect(!files.isEmpty, "no inputs kept for \(target) in \(folder.path)")
        for file in files.sorted() {
            FuzzTargets.run(target, [UInt8](try Data(contentsOf: folder.appendingPathComponent(file))))
        }
    }
}
