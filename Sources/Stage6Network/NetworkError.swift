import ContlabCore
import Foundation

/// Everything stage 6 refuses or fails at, each saying what to change.
public enum NetworkError: Error, CustomStringConvertible, Equatable {
    case badSubnet(String, String)
    case badName(String, what: String)
    case exists(String)
    case missing(String)
    case overlap(subnet: Subnet, network: String, theirs: Subnet)
    case poolExhausted
    case addressesExhausted(network: String, subnet: Subnet)
    case nameInUse(name: String, network: String, address: IPv4Address)
    case attached(network: String, containers: [String])
    case needsRoot(String)
    case badPublish(String, String)
    case portInUse(PortMapping, network: String, holder: String?)
    case cniConfig(path: String, why: String)
    case cniArgument(String)
    case cniPluginMissing(plugin: String, cniPath: String)
    case cniVersion(plugin: String, version: String, supported: [String], path: String)
    case cniFailed(plugin: String, command: String, code: Int?, message: String, details: String?)
    case cniNotAttached(container: String, ifname: String, network: String)
    case cniContainer(id: String, why: String)
    case netlink(call: String, code: Int32, message: String, hint: String?)
    case system(String, errno: Int32)
    case state(path: String, why: String)

    public var description: String {
        switch self {
        case .badSubnet(let text, let why):
            return "--subnet \(text): \(why)"
        case .badName(let name, let what) where what == "container":
            return
                "--name \"\(name)\": a container's name on a network is a hostname: letters, digits and hyphens, up "
                + "to 63"
        case .badName(let name, _):
            return "network name \"\(name)\": use letters, digits, - and _, up to 32"
        case .exists(let name):
            return
                "a lab network named \(name) exists already: pick another name, or remove it with contlab network "
                + "rm \(name)"
        case .missing(let name):
            return
                "no lab network named \(name): make it with contlab network create \(name) (contlab network ls lists "
                + "them)"
        case .overlap(let subnet, let network, let theirs):
            return
                "--subnet \(subnet) overlaps network \(network) (\(theirs)): choose a range outside it, or leave "
                + "--subnet out to get a free one"
        case .poolExhausted:
            return
                "every default subnet (10.88.1.0/24 to 10.88.255.0/24) is in use: give --subnet, or remove a network "
                + "(contlab network ls)"
        case .addressesExhausted(let network, let subnet):
            return
                "network \(network) (\(subnet)) has no free address left: stop a container on it, or make a network "
                + "with a larger --subnet"
        case .nameInUse(let name, let network, let address):
            return
                "--name \(name): a running container on network \(network) has that name (\(address)); pick another, "
                + "or stop it first"
        case .attached(let network, let containers):
            let cni =
                containers.contains { $0.hasSuffix(" (CNI)") }
                ? " (CNI ones: contlab network detach --cni CONF ID)" : ""
            return
                "network \(network) has containers attached (\(containers.joined(separator: ", "))): stop them first\(cni), or add --force to cut them off"
        case .needsRoot(let what):
            return
                "\(what) needs root: each lab network is a network namespace with a bridge, and making those and veth "
                + "pairs takes CAP_NET_ADMIN and CAP_SYS_ADMIN; run it with sudo"
        case .badPublish(let spec, let why):
            return "-p \(spec): \(why)"
        case .portInUse(let mapping, let network, let holder?):
            return
                "-p \(mapping): host port \(mapping.hostPort) on network \(network) is published by "
                + "container \(holder) already (contlab network inspect \(network)); choose another HOSTPORT, or "
                + "stop \(holder) first"
        case .portInUse(let mapping, let network, nil):
            return
                "-p \(mapping): host port \(mapping.hostPort) is in use in network \(network)'s host side by another "
                + "program (contlab network shell \(network) -- ss -ltn); choose another HOSTPORT, or stop that "
                + "program"
        case .cniConfig(let path, let why):
            return "--cni \(path): \(why)"
        case .cniArgument(let why):
            return why
        case .cniPluginMissing(let plugin, let cniPath):
            return
                "CNI plugin \(plugin) is not in \(cniPath): install Debian's plugins with apt install "
                + "containernetworking-plugins (they go to /usr/lib/cni), or give --cni-path DIR"
        case .cniVersion(let plugin, let version, let supported, let path):
            return
                "--cni \(path): cniVersion \(version) is not one plugin \(plugin) speaks (\(supported.joined(separator: ", "))); write one of those"
        case .cniFailed(let plugin, let command, let code, let message, let details):
            return "CNI plugin \(plugin) failed \(command): \(message)" + (details.map { " (\($0))" } ?? "")
                + (code.map { " [CNI error \($0)]" } ?? "")
        case .cniNotAttached(let container, let ifname, let network):
            return
                "container \(container) has no \(ifname) from CNI network \(network) (no ADD result is kept for it): "
                + "attach it first with contlab network attach --cni CONF \(container)"
        case .cniContainer(let id, let why):
            return "container \(id): \(why)"
        case .netlink(let call, let code, let message, let hint):
            return "\(call) failed: \(message) (libnl error \(code))" + (hint.map { " — " + $0 } ?? "")
        case .system(let call, let errno):
            return "\(call) failed: \(String(cString: strerror(errno))) (\(Errno.name(errno)))"
        case .state(let path, let why):
            return "\(path): \(why)"
        }
    }
}
