import ContlabCore
import Foundation

extension ContainerPlan {
    /// The command's environment: the plan's, plus what a contlab probe inside (`contlab
    /// inspect`, the escape probe) needs to compare with the host when the command is contlab.
    public var commandEnvironment: [String] {
        args.first == "contlab" ? env + probeEnvironment : env
    }

    /// What a contlab probe inside needs to compare with the host.
    var probeEnvironment: [String] {
        // A static Swift 6 binary looks for its runtime's path through /proc/self/exe at start
        // and aborts when it cannot (stage 1 has no /proc); SWIFT_ROOT names it instead.
        // Its CommandLine.arguments come from /proc/self/cmdline too, so the arguments travel in
        // CONTLAB_ARGV as well (see main.swift).
        var env: [String] = ["SWIFT_ROOT=/"]
        if let data = try? JSONEncoder().encode(args) {
            env.append("\(ContainerPlan.argvKey)=" + String(decoding: data, as: UTF8.self))
        }
        if let root = hostRoot { env.append("\(EscapeProbe.hostRootVariable)=\(EscapeProbe.format(root))") }
        if !hostNamespaces.isEmpty {
            let list = hostNamespaces.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            env.append("CONTLAB_HOST_NS=" + list.joined(separator: ","))
        }
        return env
    }
}
