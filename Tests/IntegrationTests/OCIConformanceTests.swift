import Cgroups
import ContlabCore
import Foundation
import XCTest

/// Issue #23's conformance changes, checked for real: from inside the container and from the
/// host's mount table and cgroup files.
extension OCIRuntimeTests {
    /// The busybox tree copied into the test's folder: a container without a mount namespace
    /// makes its mounts under its root in the host's table, which the shared tree must not get.
    func privateRootfs(_ name: String) throws -> String {
        let copy = work + "/" + name
        let result = try Harness.execute(["/bin/cp", "-a", try Harness.busyboxRootfs(), copy])
        XCTAssertEqual(result.status, 0, result.stderr)
        return copy
    }

    func mountsBelow(_ path: String) -> [String] {
        (Sys.readText("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].hasPrefix(path + "/") ? String(fields[4]) : nil
        }
    }

    /// No namespace listed: the container is in every one of the runtime's (runtime-spec:
    /// a type not listed is inherited), its root entered with chroot; delete leaves no mount.
    func testAContainerWithNoNamespacesSharesTheHostsAndLeavesNoMounts() throws {
        let rootfs = try privateRootfs("nons-rootfs")
        try "chrooted\n".write(toFile: rootfs + "/marker", atomically: true, encoding: .utf8)
        let dir = try bundle(
            "nons", args: ["sh", "-c", "cat /marker; for n in mnt pid net; do readlink /proc/self/ns/$n; done"]
        ) { config in
            config["root"] = ["path": rootfs]
            config["hostname"] = nil
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = [[String: Any]]()
            linux["maskedPaths"] = nil
            linux["readonlyPaths"] = nil
            config["linux"] = linux
        }
        let result = try runtime(["run", "--bundle", dir, "nons\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "chrooted", "the process sees root.path as /")
        let ours = ["mnt", "pid", "net"].compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\($0)")
        }
        XCTAssertEqual(Array(lines.dropFirst()), ours, "the namespaces are the runtime's own")
        XCTAssertEqual(mountsBelow(rootfs), [], "delete (run's) detached the mounts made under the root")

        // What would hide or lock paths in the host's own table is refused, naming the field.
        let masked = try bundle("nons-masked", args: ["true"]) { config in
            config["root"] = ["path": rootfs]
            config["hostname"] = nil
            var linux = config["linux"] as! [String: Any]
            linux["namespaces"] = [[String: Any]]()
            linux["readonlyPaths"] = nil
            config["linux"] = linux
        }
        let refused = try runtime(["create", "--bundle", masked, "nonsm\(Self.tag)"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("linux.maskedPaths") && refused.stderr.contains("mount"), refused.stderr)
        XCTAssertEqual(mountsBelow(rootfs), [])
    }

    /// A uts namespace joined by path takes the hostname; a path to the runtime's own is refused.
    func testAJoinedUTSNamespaceTakesTheHostname() throws {
        let sandbox = try bundle("uts-sandbox", args: ["sleep", "60"]) { $0["hostname"] = "sandbox" }
        let sandboxID = "utssb\(Self.tag)"
        let started = try runtime(["run", "--detach", "--bundle", sandbox, sandboxID])
        XCTAssertEqual(started.status, 0, started.stderr)
        defer { _ = try? runtime(["delete", "--force", sandboxID]) }
        let pid = Int32(inspectJSON(try runtime(["state", sandboxID]).stdout)["pid"] as? Int ?? 0)
        XCTAssertGreaterThan(pid, 0)
        func joining(_ path: String, _ name: String) throws -> String {
            try bundle(name, args: ["hostname"]) { config in
                config["hostname"] = "renamed"
                var linux = config["linux"] as! [String: Any]
                linux["namespaces"] = (linux["namespaces"] as! [[String: Any]]).map { ns in
                    ns["type"] as? String == "uts" ? ["type": "uts", "path": path] : ns
                }
                config["linux"] = linux
            }
        }
        let app = try runtime(["run", "--bundle", try joining("/proc/\(pid)/ns/uts", "uts-app"), "utsapp\(Self.tag)"])
        XCTAssertEqual(app.status, 0, app.stderr)
        XCTAssertEqual(app.stdout, "renamed\n")
        let seen = try runtime(["exec", sandboxID, "hostname"])
        XCTAssertEqual(seen.stdout, "renamed\n", "the sandbox shares the namespace, and so the new name")

        let host = ProcessInfo.processInfo.hostName
        let refused = try runtime([
            "run", "--bundle", try joining("/proc/self/ns/uts", "uts-host"), "utshost\(Self.tag)"
        ])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("host's own uts namespace"), refused.stderr)
        XCTAssertEqual(ProcessInfo.processInfo.hostName, host)
    }

    /// A /dev mounted read-only still gets its devices, /dev/pts and the rest, and is read-only
    /// to the process.
    func testAReadOnlyDevIsFilledFirst() throws {
        let dir = try bundle(
            "rodev",
            args: [
                "sh", "-c",
                "test -c /dev/null && test -d /dev/pts && grep -q ' /dev/pts ' /proc/self/mountinfo"
                    + " && grep ' /dev ' /proc/self/mountinfo | cut -d' ' -f6; touch /dev/new || echo refused"
            ]
        ) { config in
            config["mounts"] = (config["mounts"] as! [[String: Any]]).map { mount in
                guard mount["destination"] as? String == "/dev" else { return mount }
                var changed = mount
                changed["options"] = ((mount["options"] as? [String]) ?? []) + ["ro"]
                return changed
            }
        }
        let result = try runtime(["run", "--bundle", dir, "rodev\(Self.tag)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertTrue(lines.first?.hasPrefix("ro,") == true || lines.first == "ro", result.stdout)
        XCTAssertEqual(lines.last, "refused", result.stdout)
    }

    /// The ENOSYS stub: a call newer than every call the profile names fails with ENOSYS, one
    /// the profile does not allow with its default (EPERM). Compiled here, as runc's test does.
    func testSeccompGivesENOSYSForCallsNewerThanTheProfile() throws {
        #if !arch(x86_64)
            throw XCTSkip("the probe's call numbers are x86_64's")
        #else
            let source = work + "/probe.c", binary = work + "/probe"
            try """
            #include <errno.h>
            #include <stdio.h>
            #include <unistd.h>
            #include <sys/syscall.h>
            int main(void) {
                int newer = syscall(1000) < 0 ? errno : 0;
                int denied = syscall(SYS_getppid) < 0 ? errno : 0;
                printf("1000:%d getppid:%d\\n", newer, denied);
                return 0;
            }
            """.write(toFile: source, atomically: true, encoding: .utf8)
            guard let compiled = try? Harness.execute(["/usr/bin/gcc", "-static", "-o", binary, source]),
                compiled.status == 0
            else {
                throw XCTSkip("gcc -static is not available to build the probe")
            }
            let allowed = [
                "execve", "execveat", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                "mprotect", "mmap", "munmap", "readlink", "readlinkat", "uname", "write", "writev", "exit",
                "exit_group",
                "fstat", "newfstatat", "getrandom", "ioctl", "close", "close_range", "rt_sigaction", "rt_sigprocmask",
                "openat", "read", "fcntl", "dup2", "dup3", "futex", "getpid", "gettid", "capget", "capset", "prctl"
            ]
            let dir = try bundle("enosys", args: ["/probe"]) { config in
                config["mounts"] =
                    (config["mounts"] as! [[String: Any]])
                    + [["destination": "/probe", "type": "bind", "source": binary, "options": ["bind", "ro"]]]
                var linux = config["linux"] as! [String: Any]
                linux["seccomp"] = [
                    "defaultAction": "SCMP_ACT_ERRNO",
                    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                    "syscalls": [["names": allowed, "action": "SCMP_ACT_ALLOW"]]
                ]
                config["linux"] = linux
            }
            let result = try runtime(["run", "--bundle", dir, "enosys\(Self.tag)"])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "1000:\(ENOSYS) getppid:\(EPERM)\n")
        #endif
    }

    /// update sets what the container was made without: a cpu quota (its cgroup then gains the
    /// cpu controller, with the process in it), a quota alone keeping the period, cpusets, and
    /// `--memory -1` lifting memory+swap too.
    func testUpdateJoinsMissingControllersAndKeepsThePeriod() throws {
        let hierarchy = CgroupHierarchy.current()
        guard case .v1(let cpuMount)? = hierarchy.placement(of: "cpu"),
            case .v1(let cpusetMount)? = hierarchy.placement(of: "cpuset"),
            case .v1(let memoryMount)? = hierarchy.placement(of: "memory")
        else {
            throw XCTSkip("this test reads v1 cgroup files")
        }
        let id = "upd\(Self.tag)"
        let dir = try bundle("update", args: ["sleep", "60"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["resources"] = ["memory": ["limit": 64 << 20, "swap": 128 << 20]]
            config["linux"] = linux
        }
        XCTAssertEqual(try runtime(["run", "--detach", "--bundle", dir, id]).status, 0)
        let pid = inspectJSON(try runtime(["state", id]).stdout)["pid"] as? Int ?? 0
        let path = "/contlab-runc/" + id
        func read(_ mount: String, _ file: String) -> String? {
            Sys.readText(mount + path + "/" + file)?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertNil(read(cpuMount, "cpu.cfs_quota_us"), "made without a cpu cgroup")
        let quota = try runtime(["update", "--cpu-quota", "20000", id])
        XCTAssertEqual(quota.status, 0, quota.stderr)
        XCTAssertEqual(read(cpuMount, "cpu.cfs_quota_us"), "20000")
        XCTAssertEqual(read(cpuMount, "cpu.cfs_period_us"), "100000")
        XCTAssertTrue(
            read(cpuMount, "cgroup.procs")?.split(separator: "\n").contains(Substring(String(pid))) == true,
            "the container's process was moved into the new cpu cgroup")
        XCTAssertEqual(try runtime(["update", "--cpu-period", "50000", id]).status, 0)
        XCTAssertEqual(try runtime(["update", "--cpu-quota", "10000", id]).status, 0)
        XCTAssertEqual(read(cpuMount, "cpu.cfs_period_us"), "50000", "a quota alone keeps the period")
        XCTAssertEqual(read(cpuMount, "cpu.cfs_quota_us"), "10000")
        let cpuset = try runtime(["update", "--cpuset-cpus", "0", "--cpuset-mems", "0", id])
        XCTAssertEqual(cpuset.status, 0, cpuset.stderr)
        XCTAssertEqual(read(cpusetMount, "cpuset.cpus"), "0")
        XCTAssertEqual(read(cpusetMount, "cpuset.mems"), "0")
        let lifted = try runtime(["update", "--memory", "-1", id])
        XCTAssertEqual(lifted.status, 0, lifted.stderr)
        XCTAssertGreaterThan(UInt64(read(memoryMount, "memory.limit_in_bytes") ?? "") ?? 0, 1 << 40)
        if let memsw = read(memoryMount, "memory.memsw.limit_in_bytes") {
            XCTAssertGreaterThan(UInt64(memsw) ?? 0, 1 << 40, "memory+swap is lifted with the limit")
        }
        XCTAssertEqual(try runtime(["delete", "--force", id]).status, 0)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: cpuMount + path), "delete removes the cpu cgroup update made")
        XCTAssertFalse(FileManager.default.fileExists(atPath: cpusetMount + path))
    }

    /// exec --preserve-fds N: the caller's descriptor 3 reaches the exec'd process.
    func testExecPreservesDescriptors() throws {
        let dir = try bundle("execfds", args: ["sleep", "60"])
        let id = "execfds\(Self.tag)"
        XCTAssertEqual(try runtime(["run", "--detach", "--bundle", dir, id]).status, 0)
        let file = work + "/exec-fd3.txt"
        let command = [
            Harness.binary, "runc", "--root", root, "exec", "--preserve-fds", "1", id, "sh", "-c", "'echo kept >&3'"
        ]
        .joined(separator: " ")
        let result = try Harness.execute(["/bin/sh", "-c", "exec 3>>\(file); exec \(command)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "kept\n")
    }

    /// A process that is not root owns its standard streams, as under runc: the pty made for
    /// it (exec -t, in the tty group of devpts' gid=5) and the caller's pipe, so it can open
    /// /dev/stdout by name.
    func testANonRootProcessOwnsItsTerminalAndPipes() throws {
        for rt in try runtimesWithState() {
            let id = "owner-\(rt.name)\(Self.tag)"
            defer { _ = try? rt.call(["delete", "--force", id]) }
            _ = try startSleeper(rt, id: id)
            let tty = try withTerminal(rt, ["exec", "-t", "--user", "1000:100", id, "sh", "-c", "stat -c %u:%g $(tty)"])
            XCTAssertEqual(tty.status, 0, "\(rt.name): \(tty.stderr)")
            XCTAssertEqual(
                tty.stdout.replacingOccurrences(of: "\r", with: "").trimmingCharacters(in: .whitespacesAndNewlines),
                "1000:5", rt.name)
            // Through a pipe the shell makes: the test's own stdout is a file, which (unlike
            // runc) contlab leaves as the caller's.
            let runtime = rt.name == "runc" ? [try requireRunc()] : [Harness.binary, "runc"]
            let words =
                (runtime + [
                    "--root", rt.stateRoot, "exec", "--user", "1000:100", id, "sh", "-c", "echo by-name > /dev/stdout"
                ])
                .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            let piped = try Harness.execute(["/bin/sh", "-c", words.joined(separator: " ") + " | cat"])
            XCTAssertEqual(piped.status, 0, "\(rt.name): \(piped.stderr)")
            XCTAssertEqual(piped.stdout, "by-name\n", rt.name)
        }
    }

    /// rro: the bind and every mount below it are read-only (mount_setattr, AT_RECURSIVE);
    /// ro alone leaves the mounts below writable.
    func testRROMakesEveryMountBelowReadOnly() throws {
        let volume = work + "/volume"
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        try Sys.mount(source: "tmpfs", target: volume, fstype: "tmpfs", flags: [])
        defer { _ = try? Sys.umount(volume, detach: true) }
        try FileManager.default.createDirectory(atPath: volume + "/sub", withIntermediateDirectories: true)
        try Sys.mount(source: "tmpfs", target: volume + "/sub", fstype: "tmpfs", flags: [])
        defer { _ = try? Sys.umount(volume + "/sub", detach: true) }
        for (option, subWritable) in [("ro", true), ("rro", false)] {
            let id = "\(option)-vol\(Self.tag)"
            let dir = try bundle(
                "\(option)-vol",
                args: [
                    "sh", "-c",
                    "touch /mnt/top 2>/dev/null && echo top-written; "
                        + "touch /mnt/sub/file 2>/dev/null && echo sub-written; true"
                ]
            ) { config in
                config["mounts"] =
                    (config["mounts"] as! [[String: Any]])
                    + [["destination": "/mnt", "type": "bind", "source": volume, "options": ["rbind", option]]]
            }
            let result = try runtime(["run", "--bundle", dir, id])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, subWritable ? "sub-written\n" : "", option)
        }
    }

    /// list --format json in runc's field order, which runc's list.bats matches as text.
    func testListJSONHasRuncsFieldOrder() throws {
        let id = "listed\(Self.tag)"
        let dir = try bundle("listed", args: ["sleep", "30"])
        XCTAssertEqual(try runtime(["run", "-d", "--bundle", dir, id]).status, 0)
        let listed = try runtime(["list", "--format", "json"]).stdout
        XCTAssertTrue(listed.hasPrefix(#"[{"ociVersion":""#), listed)
        let keys = ["\"id\"", "\"pid\"", "\"status\"", "\"bundle\"", "\"rootfs\"", "\"created\"", "\"owner\""]
        let positions = keys.compactMap { listed.range(of: $0)?.lowerBound }
        XCTAssertEqual(positions.count, keys.count, listed)
        XCTAssertEqual(positions, positions.sorted(), "runc's order: \(listed)")
    }

    /// A cgroup made below the container's (by a process in it, through a writable cgroup
    /// mount) does not keep delete from removing the container's: it goes first.
    func testDeleteRemovesCgroupsMadeBelowTheContainers() throws {
        guard case .v1(let memoryMount)? = CgroupHierarchy.current().placement(of: "memory") else {
            throw XCTSkip("this test reads the v1 memory hierarchy")
        }
        let id = "subcg\(Self.tag)"
        let dir = try bundle("subcg", args: ["sleep", "30"])
        XCTAssertEqual(try runtime(["run", "-d", "--bundle", dir, id]).status, 0)
        let own = memoryMount + "/contlab-runc/" + id
        XCTAssertEqual(mkdir(own + "/foo", 0o755), 0, "mkdir \(own)/foo")
        XCTAssertEqual(mkdir(own + "/foo/bar", 0o755), 0)
        let deleted = try runtime(["delete", "--force", id])
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertFalse(Sys.isDirectory(own), "the container's cgroup and the ones below it are gone")
        XCTAssertFalse(deleted.stderr.contains("could not remove"), deleted.stderr)
    }

    /// Under a parent (a pod) limited to 50% of a CPU, a shorter period with its quota is
    /// written quota first, as each write must fit the parent's bandwidth (runc's update.bats).
    func testUpdateFitsAPeriodAndQuotaUnderAPodsLimit() throws {
        guard case .v1(let cpuMount)? = CgroupHierarchy.current().placement(of: "cpu") else {
            throw XCTSkip("this test writes v1 cpu files")
        }
        let parent = "contlab-pod\(Self.tag)"
        defer { removeCgroupParents(parent) }
        XCTAssertEqual(mkdir(cpuMount + "/" + parent, 0o755), 0)
        try Sys.writeFile(cpuMount + "/" + parent + "/cpu.cfs_quota_us", "50000")
        let id = "pod\(Self.tag)"
        let dir = try bundle("pod", args: ["sleep", "30"]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["cgroupsPath"] = parent + "/" + id
            linux["resources"] = ["cpu": ["shares": 1024]]
            config["linux"] = linux
        }
        XCTAssertEqual(try runtime(["run", "-d", "--bundle", dir, id]).status, 0)
        defer { _ = try? runtime(["delete", "--force", id]) }
        XCTAssertNotEqual(try runtime(["update", "--cpu-quota", "60000", id]).status, 0, "60% does not fit under 50%")
        let fitted = try runtime(["update", "--cpu-period", "10000", "--cpu-quota", "3000", id])
        XCTAssertEqual(fitted.status, 0, fitted.stderr)
        let own = cpuMount + "/" + parent + "/" + id
        XCTAssertEqual(Sys.readText(own + "/cpu.cfs_period_us"), "10000\n")
        XCTAssertEqual(Sys.readText(own + "/cpu.cfs_quota_us"), "3000\n")
    }
}
