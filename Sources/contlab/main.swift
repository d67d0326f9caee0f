// contlab's entry point. The container's init and the probes that run inside containers are
// dispatched before any argument parsing: they run on every container start, so they skip
// swift-argument-parser's cost, and the init must not start threads before it forks.
import CLinux
import ContlabCore
import Foundation
import Stage1Chroot
import Stage2Namespaces
import Stage4OCI
import Walkthrough

Timing.mark("main")
var arguments = CommandLine.arguments
// A static Swift binary reads its arguments from /proc/self/cmdline; inside a stage-1 container
// there is no /proc, and the init passes them in the environment instead.
if arguments.count <= 1, let passed = ProcessInfo.processInfo.environment[ContainerPlan.argvKey],
    let decoded = try? JSONDecoder().decode([String].self, from: Data(passed.utf8))
{
    arguments = decoded
}
// A walk-through's background server (a contlab run) ends with the walk-through, even when
// that is killed before it can stop it: SIGTERM reaches it as its parent dies.
if let parent = ProcessInfo.processInfo.environment[WalkthroughParent.environmentKey].flatMap(pid_t.init) {
    unsetenv(WalkthroughParent.environmentKey)
    _ = cl_prctl(Int32(CL_PR_SET_PDEATHSIG), UInt(SIGTERM), 0, 0, 0)
    if getppid() != parent { exit(1) }  // it died before the prctl
}
// Installed as contlab-runc (or runc), this binary is the runc-compatible runtime.
let programName = (arguments.first ?? "").split(separator: "/").last.map(String.init) ?? ""
if programName == "contlab-runc" || programName == "runc" {
    RuncMain.main(Array(arguments.dropFirst()))
}
if arguments.count >= 2 {
    switch arguments[1] {
    case ContainerProcess.initArgument:
        // One entry point for stages 1-3; the plan says which stage's init runs.
        let plan = InitHandshake.receive(
            key: ContainerPlan.environmentKey,
            usage: "contlab: __init is contlab's internal entry point for a container's first process; use contlab run",
            decode: ContainerPlan.decode)
        if plan.stage <= 1 { ChrootInit.main(plan: plan) } else { NamespaceInit.main(plan: plan) }
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
// Before the command's own arguments (after `--` they are the command's): `--explain=full`
// becomes its hidden flag, and a negative number after a numeric option is joined to it
// (`--memory -1` would read as a missing value and an unknown option, not as the refusal of -1).
let options = Array(arguments.dropFirst())
let end = options.firstIndex(of: "--") ?? options.endIndex
var front: [String] = []
let numeric: Set<String> = ["-m", "--memory", "--pids", "--cpus", "--timeout", "--jobs", "--step"]
for argument in options[..<end] {
    if let last = front.last, numeric.contains(last), argument.count > 1, argument.hasPrefix("-"),
        argument.dropFirst().first.map({ $0.isNumber || $0 == "." }) == true
    {
        front[front.count - 1] = (last == "-m" ? "--memory" : last) + "=" + argument
    } else {
        front.append(argument == "--explain=full" ? "--explain-full" : argument)
    }
}
Contlab.start(front + options[end...])
