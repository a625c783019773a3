import Foundation
import HoneFuzz
#if FUZZING
import CFuzzerDriver
#endif

/// Built with `-sanitize=fuzzer -DFUZZING` (make fuzz): starts libFuzzer with the spec body, its
/// options and corpus folders as arguments. Otherwise an ordinary executable that replays the inputs
/// given as files or folders (make test replays the corpus, crash reproducers included).
@main
struct FuzzSpec {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            if let data { SpecFuzz.run(UnsafeBufferPointer(start: data, count: size)) }
            return 0
        })
        #else
        exit(Replay.main(CommandLine.arguments.dropFirst(), SpecFuzz.run))
        #endif
    }
}
