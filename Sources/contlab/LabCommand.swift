import ArgumentParser
import Cgroups
import ContlabCore
import Foundation
import Rootfs

/// `contlab lab`: the one-time admin step for a shared lab server, so that students without
/// sudo run every stage: the root filesystems built where all can read them, and a cgroup
/// subtree of their own for stage 3 and contlab-runc.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Prepare a shared lab server for students without sudo (admin, once).",
        discussion: """
            The one-time admin step for a shared lab server: sudo contlab lab setup \
            --group students (or --users ana,bo) builds the busybox and host-tools root \
            filesystems in /var/lib/contlab, where every user reads them, and gives each \
            student a cgroup subtree of their own (contlab-users/UID in each hierarchy), \
            where stage 3, contlab-runc and verify make their cgroups. contlab lab status \
            shows what is prepared for whom; sudo contlab lab teardown removes it.
            """,
        subcommands: [Setup.self, Status.self, Teardown.self])

    /// The users named by --users and --group, as (name, uid, gid).
    struct Members: ParsableArguments {
        @Option(help: "Comma-separated user names.") var users: String?
        @Option(help: "Every member of this group (its members and the users whose primary group it is).") var group:
            String?

        /// From /etc/passwd and /etc/group, read directly: this static binary has no NSS.
        func resolve(database: UserDatabase = .host) throws -> [(name: String, uid: uid_t, gid: gid_t)] {
            var names = (users ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            if let group {
                guard let entry = database.groups.first(where: { $0.name == group }) else {
                    throw ValidationError("--group \(group): no such group in /etc/group")
                }
                names += entry.members + database.users.filter { $0.gid == entry.gid }.map(\.name)
            }
            var seen = Set<String>()
            return try names.filter { seen.insert($0).inserted }.map { name in
                guard let user = database.users.first(where: { $0.name == name }) else {
                    throw ValidationError("no user \(name) in /etc/passwd (getent passwd \(name))")
                }
                guard user.uid != 0 else { throw ValidationError("\(name) is root, which needs nothing prepared") }
                return (name, user.uid, user.gid)
            }
        }
    }

    static func requireRoot(_ what: String) throws {
        guard geteuid() == 0 else {
            throw ValidationError(
                "contlab lab \(what) changes the machine for every user: run it as root (sudo contlab lab \(what) …)")
        }
    }

    struct Setup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "setup", abstract: "Build the shared root filesystems and give users their cgroup subtree.")
        @OptionGroup var members: Members

        func validate() throws {
            if members.users == nil && members.group == nil {
                throw ValidationError("say whom to prepare: --users NAME,… or --group GROUP")
            }
        }

        func run() throws {
            try reportingErrors {
                try LabCommand.requireRoot("setup")
                let users = try members.resolve()
                guard !users.isEmpty else { throw ValidationError("no users to prepare: the group has no members") }
                let store = try RootfsStore.standard()
                for recipe in ["busybox", "host-tools"] {
                    let built = try store.build(recipe) { Sys.warn("rootfs \(recipe): \($0)") }
                    print("rootfs \(recipe): \(built.path)\(built.built ? " (built now)" : "")")
                }
                let hierarchy = CgroupHierarchy.current()
                for user in users {
                    for line in try UserDelegation(uid: user.uid, gid: user.gid).prepare(in: hierarchy) {
                        print("\(user.name): \(line)")
                    }
                }
                print(
                    "Prepared \(users.count) user\(users.count == 1 ? "" : "s"). Each may now run contlab stage 3, contlab runc and contlab verify without sudo."
                )
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show what is prepared, and for whom.")

        func run() throws {
            try reportingErrors {
                let hierarchy = CgroupHierarchy.current()
                print("cgroups: \(hierarchy.mode)")
                let store = try RootfsStore.standard()
                for recipe in ["busybox", "host-tools"] {
                    print(
                        "rootfs \(recipe): "
                            + ((try? store.builtTree(recipe)).flatMap { $0 }
                                ?? "not built (sudo contlab lab setup builds it)"))
                }
                let users = UserDelegation.users(in: hierarchy)
                if users.isEmpty { print("no user has a cgroup subtree (sudo contlab lab setup --users NAME)") }
                let database = UserDatabase.host
                for uid in users {
                    let user = database.users.first { $0.uid == uid }
                    let name = user?.name ?? "uid \(uid)"
                    let delegation = UserDelegation(uid: uid, gid: user?.gid ?? uid)
                    let where_ = delegation.directories(in: hierarchy).map(\.path).joined(separator: ", ")
                    print(
                        "\(name): \(delegation.isPrepared(in: hierarchy) ? "prepared" : "incomplete (run setup again)"): \(where_)"
                    )
                }
            }
        }
    }

    struct Teardown: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "teardown",
            abstract: "Remove the users' cgroup subtrees (all, or the users named), ending what runs in them.")
        @OptionGroup var members: Members

        func run() throws {
            try reportingErrors {
                try LabCommand.requireRoot("teardown")
                let hierarchy = CgroupHierarchy.current()
                let named = members.users == nil && members.group == nil ? nil : try members.resolve().map(\.uid)
                let uids = named ?? UserDelegation.users(in: hierarchy)
                for uid in uids {
                    for line in UserDelegation(uid: uid, gid: 0).remove(in: hierarchy) { print(line) }
                }
                print(
                    "Removed the cgroup subtrees of \(uids.count) user\(uids.count == 1 ? "" : "s"); the root filesystems stay (contlab rootfs clean removes them)."
                )
            }
        }
    }
}
