import Foundation
import MuseFuzzTargets

#if FUZZING
// Built by scripts/fuzz.sh (MUSE_FUZZING=1 swift build --sanitize=fuzzer --sanitize=address):
// libFuzzer's main calls this for every input; MUSE_FUZZ_TARGET chooses the target.
private let target: String = {
    guard let name = getenv("MUSE_FUZZ_TARGET").map({ String(cString: $0) }), FuzzTargets.names.contains(name) else {
        fatalError("set MUSE_FUZZ_TARGET to one of \(FuzzTargets.names)")
    }
    return name
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.run(target, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
// Built normally: `muse-fuzz TARGET FILE…` runs each file through the target once.
let arguments = CommandLine.arguments.dropFirst()
if let target = arguments.first, FuzzTargets.names.contains(target) {
    for path in arguments.dropFirst() {
        FuzzTargets.run(target, [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }
} else {
    print("usage: muse-fuzz \(FuzzTargets.names.joined(separator: "|")) FILE…")
}
#endif
