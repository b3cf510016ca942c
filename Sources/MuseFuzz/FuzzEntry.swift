import MuseFuzzTargets

#if FUZZING
/// libFuzzer's entry (built by scripts/fuzz.sh with -sanitize=fuzzer,address -DFUZZING); the
/// target is chosen by MUSE_FUZZ_TARGET.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.run(target, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

private let target: String = {
    guard let name = getenv("MUSE_FUZZ_TARGET").map({ String(cString: $0) }), FuzzTargets.names.contains(name) else {
        fatalError("set MUSE_FUZZ_TARGET to one of \(FuzzTargets.names)")
    }
    return name
}()
#else
/// Without the fuzzer: `muse-fuzz TARGET FILE…` runs each file through the target once.
@main
struct Replay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let target = arguments.first, FuzzTargets.names.contains(target) else {
            print("usage: muse-fuzz \(FuzzTargets.names.joined(separator: "|")) FILE…")
            return
        }
        for path in arguments.dropFirst() {
            FuzzTargets.run(target, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        }
    }
}
#endif

import Foundation
