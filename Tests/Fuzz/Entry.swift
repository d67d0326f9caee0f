import FuzzTargets
import Foundation

#if FUZZING
    /// libFuzzer's entry: CONTLAB_FUZZ_TARGET names the target (make fuzz sets it).
    let target: ([UInt8]) -> Void = {
        let name = ProcessInfo.processInfo.environment["CONTLAB_FUZZ_TARGET"] ?? ""
        guard let run = FuzzTargets.named(name) else {
            FileHandle.standardError.write(
                Data(
                    "contlab-fuzz: set CONTLAB_FUZZ_TARGET to one of: \(FuzzTargets.all.map(\.name).joined(separator: ", "))\n"
                        .utf8))
            exit(2)
        }
        return run
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        target(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
#else
    /// Built without the fuzzer (a plain swift build): run a target on the files given.
    @main
    enum Replay {
        static func main() {
            let args = CommandLine.arguments.dropFirst()
            guard let name = args.first, let run = FuzzTargets.named(name) else {
                print("usage: contlab-fuzz TARGET FILE...   (make fuzz builds the libFuzzer version)")
                print("targets: " + FuzzTargets.all.map(\.name).joined(separator: ", "))
                exit(2)
            }
            for file in args.dropFirst() {
                run([UInt8](FileManager.default.contents(atPath: file) ?? Data()))
            }
            print("\(args.count - 1) inputs, no crash")
        }
    }
#endif
