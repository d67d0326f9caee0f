// contlab's entry point. The container's init and the probes that run inside containers are
// dispatched before any argument parsing: they run on every container start, so they skip
// swift-argument-parser's cost, and the init must not start threads before it forks.
import ContlabCore
import Foundation
import Stage1Chroot
import Stage2Namespaces

let arguments = CommandLine.arguments
if arguments.count >= 2 {
    switch arguments[1] {
    case ContainerProcess.initArgument:
        ContainerInit.main()
    case EscapeCommand.probeArgument:
        exit(EscapeProbe.main(environment: ProcessInfo.processInfo.environment))
    default:
        break
    }
}
Contlab.main()
