// contlab's entry point. The container's init and the probes that run inside containers are
// dispatched before any argument parsing: they run on every container start, so they skip
// swift-argument-parser's cost, and the init must not start threads before it forks.
import ContlabCore
import Foundation
import Stage1Chroot
import Stage2Namespaces
import Stage4OCI

Timing.mark("main")
var arguments = CommandLine.arguments
// A static Swift binary reads its arguments from /proc/self/cmdline; inside a stage-1 container
// there is no /proc, and the init passes them in the environment instead.
if arguments.count <= 1, let passed = ProcessInfo.processInfo.environment[ContainerPlan.argvKey],
   let decoded = try? JSONDecoder().decode([String].self, from: Data(passed.utf8)) {
    arguments = decoded
}
// Installed as contlab-runc (or runc), this binary is the runc-compatible runtime.
let programName = (arguments.first ?? "").split(separator: "/").last.map(String.init) ?? ""
if programName == "contlab-runc" || programName == "runc" {
    RuncMain.main(Array(arguments.dropFirst()))
}
if arguments.count >= 2 {
    switch arguments[1] {
    case ContainerProcess.initArgument:
        ContainerInit.main()
    case OCIInitPlan.initArgument:
        OCIInit.main()
    case OCIExecPlan.argument:
        OCIExec.main()
    case "runc":
        RuncMain.main(Array(arguments.dropFirst(2)))
    case "spec":
        RuncMain.main(Array(arguments.dropFirst()))
    case EscapeCommand.probeArgument:
        exit(EscapeProbe.main(environment: ProcessInfo.processInfo.environment))
    default:
        break
    }
}
// `--explain=full` before the command's own arguments (after `--` they are the command's).
let options = Array(arguments.dropFirst())
let end = options.firstIndex(of: "--") ?? options.endIndex
Contlab.start(options[..<end].map { $0 == "--explain=full" ? "--explain-full" : $0 } + options[end...])
