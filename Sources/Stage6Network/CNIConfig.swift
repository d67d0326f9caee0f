import ContlabCore
import Foundation

/// A CNI network configuration, as a runtime reads it: a single plugin's (`.conf`) or a list
/// (`.conflist`, whose `plugins` run in order on ADD and CHECK, in reverse on DEL). Pure.
/// Lesson: stage6-network.
///
/// contlab runs the plugins in the host side of the lab network the configuration's `name`
/// names, so that is where the bridge plugin makes its bridge and the host-local plugin's
/// leases are kept in that network's folder: `contlab network rm` takes them all away.
public struct CNINetworkConfig: Sendable {
    public var cniVersion: String
    /// The CNI network's name, which is also the lab network whose host side the plugins run in.
    public var name: String
    /// Each plugin's own object, as written (with `type`, and `ipam` for an IPAM plugin).
    public var plugins: [JSONValue]
    /// Where it was read from, for messages.
    public var path: String

    /// The versions whose results contlab reads (interfaces, ips, routes: since 0.3.0). Debian's
    /// plugins speak 0.1.0 to 1.0.0 (`CNI_COMMAND=VERSION /usr/lib/cni/bridge`).
    public static let versions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]

    public init(parsing text: String, path: String) throws {
        self.path = path
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch {
            throw NetworkError.cniConfig(path: path, why: "not JSON (\(error))")
        }
        guard case .object = json else {
            throw NetworkError.cniConfig(path: path, why: "a network configuration is a JSON object")
        }
        guard case .string(let version)? = json["cniVersion"], Self.versions.contains(version) else {
            throw NetworkError.cniConfig(
                path: path,
                why: "cniVersion \(json["cniVersion"]?.serialized ?? "(missing)"): contlab reads results of CNI "
                    + Self.versions.joined(separator: ", ") + "; write \"cniVersion\": \"1.0.0\"")
        }
        guard case .string(let name)? = json["name"], (try? ContainerName.validateNetwork(name)) != nil else {
            throw NetworkError.cniConfig(
                path: path,
                why: "name \(json["name"]?.serialized ?? "(missing)"): give the lab network the plugins run in "
                    + "(letters, digits, - and _, up to 32; contlab network create NAME)")
        }
        cniVersion = version
        self.name = name
        if let list = json["plugins"] {
            guard case .array(let items) = list, !items.isEmpty else {
                throw NetworkError.cniConfig(path: path, why: "plugins must be a list of at least one plugin's object")
            }
            plugins = items
        } else {
            plugins = [json]
        }
        for (index, plugin) in plugins.enumerated() {
            let place = json["plugins"] != nil ? "plugins[\(index)]." : ""
            guard case .object = plugin else {
                throw NetworkError.cniConfig(path: path, why: "\(place.dropLast()) is not a JSON object")
            }
            try Self.checkType(plugin["type"], at: "\(place)type", path: path)
            if let ipam = plugin["ipam"], ipam != .object([]) {
                try Self.checkType(ipam["type"], at: "\(place)ipam.type", path: path)
            }
        }
    }

    /// A plugin's type is the name of a program in CNI_PATH: a plain file name, never a path.
    static func checkType(_ value: JSONValue?, at place: String, path: String) throws {
        guard case .string(let type)? = value, !type.isEmpty, !type.hasPrefix("."), type.count <= 64,
            type.unicodeScalars.allSatisfy({
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0))
            })
        else {
            throw NetworkError.cniConfig(
                path: path,
                why:
                    "\(place) \(value?.serialized ?? "(missing)"): name a plugin program, such as \"bridge\" or \"host-local\""
            )
        }
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    /// The programs ADD needs, in order: each plugin, then its IPAM plugin.
    public var programs: [String] {
        var names: [String] = []
        for plugin in plugins {
            for name in [Self.string(plugin["type"]), Self.string(plugin["ipam"]?["type"])].compactMap({ $0 })
            where !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }

    /// What plugin `index` reads on stdin: its own object with the list's `name` and
    /// `cniVersion` (the spec has the runtime insert them), `prevResult` when there is one (the
    /// previous plugin's result on ADD; the cached ADD result on CHECK and DEL), and, for
    /// host-local without a `dataDir` of its own, `ipamDataDir`: its leases then live in the lab
    /// network's folder instead of /var/lib/cni/networks on the host.
    ///
    /// `portMappings` (`-p`) go to the plugins that declare the capability
    /// (`"capabilities": {"portMappings": true}`, as portmap's configuration does), as
    /// `runtimeConfig.portMappings`: the spec's way for a runtime to pass what the
    /// configuration file cannot know.
    public func stdin(plugin index: Int, prevResult: JSONValue?, ipamDataDir: String?, portMappings: [PortMapping] = [])
        -> String
    {
        guard case .object(var members) = plugins[index] else { return plugins[index].serialized }
        func set(_ key: String, _ value: JSONValue) {
            if let at = members.firstIndex(where: { $0.0 == key }) {
                members[at].1 = value
            } else {
                members.append((key, value))
            }
        }
        set("cniVersion", .string(cniVersion))
        set("name", .string(name))
        if let prevResult { set("prevResult", prevResult) }
        if !portMappings.isEmpty, plugins[index]["capabilities"]?["portMappings"] == .bool(true) {
            let mappings = portMappings.map { mapping -> JSONValue in
                .object([
                    ("hostPort", .number(String(mapping.hostPort))),
                    ("containerPort", .number(String(mapping.containerPort))), ("protocol", .string("tcp"))
                ])
            }
            set("runtimeConfig", .object([("portMappings", .array(mappings))]))
        }
        if let ipamDataDir, case .object(var ipam)? = plugins[index]["ipam"],
            Self.string(plugins[index]["ipam"]?["type"]) == "host-local",
            !ipam.contains(where: { $0.0 == "dataDir" })
        {
            ipam.append(("dataDir", .string(ipamDataDir)))
            set("ipam", .object(ipam))
        }
        return JSONValue.object(members).serialized
    }

    /// The bridges the bridge plugins would make or take ("cni0" when not named).
    public var bridges: [String] {
        plugins.filter { Self.string($0["type"]) == "bridge" }.map { Self.string($0["bridge"]) ?? "cni0" }
    }

    /// The IPv4 subnets host-local would hand out from (`ipam.subnet`, or each of `ipam.ranges`).
    public var ipamSubnets: [(text: String, subnet: Subnet)] {
        var texts: [String] = []
        for plugin in plugins {
            guard let ipam = plugin["ipam"] else { continue }
            if let subnet = Self.string(ipam["subnet"]) { texts.append(subnet) }
            if case .array(let sets)? = ipam["ranges"] {
                for set in sets {
                    guard case .array(let ranges) = set else { continue }
                    texts += ranges.compactMap { Self.string($0["subnet"]) }
                }
            }
        }
        return texts.compactMap { text in Self.cidr(text).map { (text, $0) } }
    }

    /// Any IPv4 CIDR (no lab policy on the prefix or the range: the plugin's own to judge).
    static func cidr(_ text: String) -> Subnet? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let length = Int(parts[1]),
            (0...32).contains(length)
        else { return nil }
        return Subnet(network: IPv4Address(address.value & Subnet.mask(length)), prefixLength: length)
    }

    /// Refuse what would clash with the lab network the plugins run beside: its bridge taken
    /// over, or its subnet handed out again on a second bridge in the same namespace (two
    /// routes to one range: one of them would never be reached).
    public func check(against record: NetworkRecord) throws {
        if bridges.contains(record.bridge) {
            throw NetworkError.cniConfig(
                path: path,
                why:
                    "\"bridge\": \"\(record.bridge)\" is contlab's own bridge in network \(record.name); name "
                    + "another, such as \"cni0\""
            )
        }
        for (text, subnet) in ipamSubnets where subnet.overlaps(record.subnet) {
            throw NetworkError.cniConfig(
                path: path,
                why:
                    "subnet \(text) overlaps network \(record.name)'s own (\(record.subnet)), in the same namespace; "
                    + "choose a range outside it"
            )
        }
    }
}

/// What a plugin is told besides its configuration: the CNI_* variables. Pure.
public enum CNIEnvironment {
    /// PATH for plugins that run programs (the bridge plugin's ipMasq runs iptables); nothing
    /// else of contlab's environment is passed, so what a plugin sees is what the protocol says.
    public static let path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

    /// ADD, CHECK or DEL on container `containerID`'s namespace `netns`, interface `ifname`;
    /// `cniPath` is where plugins (and the IPAM plugins they run) are looked for.
    public static func variables(command: String, containerID: String, netns: String, ifname: String, cniPath: String)
        -> [String]
    {
        [
            "CNI_COMMAND=\(command)", "CNI_CONTAINERID=\(containerID)", "CNI_NETNS=\(netns)", "CNI_IFNAME=\(ifname)",
            "CNI_PATH=\(cniPath)", path
        ]
    }

    /// VERSION needs nothing else.
    public static let version = ["CNI_COMMAND=VERSION", path]

    /// The spec's rules: a container id of letters, digits and `_ . -`, starting with a letter
    /// or digit; an interface name of at most 15 bytes (IFNAMSIZ), not `.` or `..`, without `/`,
    /// `:` or spaces (contlab keeps to letters, digits and `_ . -`).
    public static func validate(containerID: String, ifname: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_.-"))
        func plain(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) } }
        guard let first = containerID.unicodeScalars.first, first.isASCII, CharacterSet.alphanumerics.contains(first),
            plain(containerID)
        else {
            throw NetworkError.cniArgument(
                "container id \(containerID): CNI takes letters, digits and _ . - starting with a letter or digit; "
                    + "name the stage-4 container so"
            )
        }
        guard !ifname.isEmpty, ifname.utf8.count <= 15, ifname != ".", ifname != "..", plain(ifname) else {
            throw NetworkError.cniArgument(
                "--ifname \(ifname): an interface name is 1 to 15 letters, digits, _ . or -, such as eth1")
        }
    }
}

/// A plugin's answer to ADD (0.3.0 to 1.0.0): the interfaces it made, the addresses, routes and
/// DNS it configured. Pure.
public struct CNIResult: Codable, Equatable, Sendable {
    public struct Interface: Codable, Equatable, Sendable {
        public var name: String
        public var mac: String?
        /// The namespace it is in, when that is the container's; absent for the host side's.
        public var sandbox: String?
    }
    public struct IP: Codable, Equatable, Sendable {
        public var address: String
        public var gateway: String?
        /// An index into `interfaces`.
        public var interface: Int?
    }
    public struct Route: Codable, Equatable, Sendable {
        public var dst: String
        public var gw: String?
    }
    public struct DNS: Codable, Equatable, Sendable {
        public var nameservers: [String]?
        public var domain: String?
        public var search: [String]?
    }
    public var cniVersion: String?
    public var interfaces: [Interface]?
    public var ips: [IP]?
    public var routes: [Route]?
    public var dns: DNS?

    public init(parsing text: String, plugin: String) throws {
        do { self = try JSONDecoder().decode(CNIResult.self, from: Data(text.utf8)) } catch {
            throw NetworkError.cniFailed(
                plugin: plugin, command: "ADD", code: nil, message: "its result is not CNI result JSON (\(error))",
                details: String(text.prefix(200)))
        }
    }

    /// The result for people, one line per interface, address and route; `hostSide` names the
    /// namespace the plugins ran in.
    public func lines(hostSide: String) -> [String] {
        var lines = ["interfaces:"]
        let interfaces = self.interfaces ?? []
        for (index, interface) in interfaces.enumerated() {
            lines.append(
                "  [\(index)] \(interface.name.padding(toLength: 16, withPad: " ", startingAt: 0)) "
                    + "\((interface.mac ?? "-").padding(toLength: 18, withPad: " ", startingAt: 0)) "
                    + "in \(interface.sandbox ?? hostSide)")
        }
        lines.append("addresses:")
        for ip in ips ?? [] {
            let on = ip.interface.flatMap { $0 >= 0 && $0 < interfaces.count ? interfaces[$0].name : nil }
            lines.append(
                "  \(ip.address)" + (on.map { " on \($0)" } ?? "") + (ip.gateway.map { ", gateway \($0)" } ?? ""))
        }
        lines.append("routes:")
        // A route without gw goes through the gateway the plugin chose (the spec's default).
        for route in routes ?? [] { lines.append("  \(route.dst) via " + (route.gw ?? "the address's gateway")) }
        if let nameservers = dns?.nameservers, !nameservers.isEmpty {
            lines.append("dns: \(nameservers.joined(separator: ", "))")
        }
        return lines
    }
}

/// What a plugin prints on stdout when it fails (any version).
public struct CNIErrorResult: Codable, Equatable, Sendable {
    public var code: Int?
    public var msg: String?
    public var details: String?
}
