import Foundation
import MuseFuzzTargets

/// libFuzzer's callback, for the build of scripts/fuzz.sh (`swift build --sanitize=fuzzer
/// --sanitize=address -Xswiftc -DFUZZING`), whose main is libFuzzer's; MUSE_FUZZ_TARGET chooses the target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTargets.run(fuzzTarget, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

private let fuzzTarget: String = {
    guard let name = getenv("MUSE_FUZZ_TARGET").map({ String(cString: $0) }), FuzzTargets.names.contains(name) else {
        fatalError("set MUSE_FUZZ_TARGET to one of \(FuzzTargets.names)")
    }
    return name
}()

#if !FUZZING
    /// Built normally: `muse-fuzz TARGET FILE…` runs each file through the target once. (scripts/fuzz.sh
    /// defines FUZZING: libFuzzer brings its own main.)
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
