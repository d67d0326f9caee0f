// swift-tools-version:6.0
// contlab: a lab that builds Linux containers stage by stage.
// Layout: one C target for the Linux calls Swift cannot reach, a core of syscall wrappers,
// one module per stage, and a thin command-line target. See ../shared/STYLE.md.
import PackageDescription

let package = Package(
    name: "contlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "contlab", targets: ["contlab"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1")
    ],
    targets: [
        // The Linux calls that need _GNU_SOURCE (clone, unshare, setns, pivot_root) and the
        // fork-and-exec paths that must run no Swift code in the child.
        .target(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(
            name: "CCap", path: "Sources/CCap", pkgConfig: "libcap",
            providers: [.apt(["libcap-dev"])]),
        .systemLibrary(
            name: "CSeccomp", path: "Sources/CSeccomp", pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CCmark", path: "Sources/CCmark", pkgConfig: "libcmark",
            providers: [.apt(["libcmark-dev"])]),
        // Netlink's route family (links, addresses, routes) for stage 6; static archives ship in
        // Debian's -dev packages, so the static binary links them.
        .systemLibrary(
            name: "CNetlink", path: "Sources/CNetlink", pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),

        // The text layer of both languages: Language/Localized, terminal widths and styles, the
        // CJK-aware wrapper, markup escaping, "did you mean". Pure; the core's --explain uses it.
        .target(name: "TextKit"),
        .target(name: "ContlabCore", dependencies: ["CLinux", "CCap", "TextKit"]),
        .target(name: "Rootfs", dependencies: ["ContlabCore", "Yams"]),
        .target(name: "Stage1Chroot", dependencies: ["ContlabCore"], path: "Sources/Stage1Chroot"),
        .target(
            name: "Stage2Namespaces", dependencies: ["ContlabCore", "TextKit", "Stage1Chroot"],
            path: "Sources/Stage2Namespaces"),
        .target(name: "Cgroups", dependencies: ["ContlabCore", "CLinux"]),
        .target(name: "OCI", dependencies: ["ContlabCore"]),
        .target(
            name: "Stage3Cgroups", dependencies: ["ContlabCore", "TextKit", "Cgroups", "Stage2Namespaces"],
            path: "Sources/Stage3Cgroups"),
        .target(
            name: "Stage4OCI", dependencies: ["ContlabCore", "OCI", "Cgroups", "CCap", "CSeccomp", "CLinux"],
            path: "Sources/Stage4OCI"),
        .target(name: "Images", dependencies: ["ContlabCore", "OCI", "CZlib", "CLinux"]),
        .target(
            name: "Stage5Images",
            dependencies: ["ContlabCore", "TextKit", "Cgroups", "Images", "OCI", "Stage4OCI", "CLinux"],
            path: "Sources/Stage5Images"),
        .target(name: "Inspect", dependencies: ["ContlabCore", "TextKit", "CCap", "CLinux"]),
        .target(name: "Lessons", dependencies: ["ContlabCore", "TextKit", "CCmark", "Yams"]),
        .target(name: "History", dependencies: ["ContlabCore", "TextKit", "Yams"]),
        .target(name: "Walkthrough", dependencies: ["ContlabCore", "TextKit", "Cgroups", "Lessons", "Yams"]),
        // Graded exercises: the catalog, scoring, reports and progress (pure), and the graders
        // that run student work for real in containers and cgroups (side effects).
        .target(
            name: "Exercises", dependencies: ["ContlabCore", "TextKit", "Lessons", "History", "Inspect", "OCI", "Yams"]),
        .target(
            name: "Grading",
            dependencies: [
                "Exercises", "ContlabCore", "TextKit", "Cgroups", "OCI", "Rootfs", "History", "Lessons", "Images",
                "Stage5Images"
            ]),
        // Docker and Podman with contlab-runc as their runtime: the lab's private engines.
        .target(name: "Engines", dependencies: ["ContlabCore", "TextKit"]),
        // Stage 6: lab networks, each a network namespace with a bridge; netlink through libnl.
        .target(
            name: "Stage6Network", dependencies: ["ContlabCore", "CLinux", "CNetlink"],
            path: "Sources/Stage6Network"),

        .executableTarget(
            name: "contlab",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "CLinux", "ContlabCore", "TextKit", "Rootfs", "Stage1Chroot", "Stage2Namespaces", "Stage3Cgroups",
                "Cgroups", "Stage4OCI", "OCI", "Images", "Stage5Images", "Inspect",
                "Lessons", "History", "Walkthrough", "Exercises", "Grading", "Engines",
                "Stage6Network"
            ]),

        // Fast tests: pure logic, no root.
        .testTarget(name: "TextKitTests", dependencies: ["TextKit"]),
        .testTarget(name: "ContlabCoreTests", dependencies: ["ContlabCore", "TextKit"]),
        .testTarget(name: "RootfsTests", dependencies: ["Rootfs"]),
        .testTarget(name: "CgroupsTests", dependencies: ["Cgroups", "Stage3Cgroups", "ContlabCore", "TextKit"]),
        .testTarget(
            name: "OCITests", dependencies: ["OCI", "Stage4OCI", "Cgroups", "ContlabCore", "TestSupport"],
            exclude: ["Configs"]),
        .testTarget(name: "EnginesTests", dependencies: ["Engines", "TextKit"]),
        .testTarget(name: "NetworkTests", dependencies: ["Stage6Network", "ContlabCore"]),
        .testTarget(
            name: "ImagesTests", dependencies: ["Images", "Stage5Images", "OCI", "CLinux", "ContlabCore", "TextKit"]),
        .testTarget(
            name: "StagesTests",
            dependencies: ["Stage1Chroot", "Stage2Namespaces", "Inspect", "ContlabCore", "TextKit", "TestSupport"]),
        // What more than one test target uses (headless Chromium); a library only tests link.
        .target(name: "TestSupport", dependencies: ["ContlabCore"], path: "Tests/TestSupport"),
        .testTarget(
            name: "LessonsTests", dependencies: ["Lessons", "TestSupport", "ContlabCore", "TextKit"],
            exclude: ["Fixtures"]),
        .testTarget(name: "HistoryTests", dependencies: ["History", "ContlabCore", "TextKit", "Yams"]),
        .testTarget(name: "WalkthroughTests", dependencies: ["Walkthrough", "History", "ContlabCore", "TextKit"]),
        .testTarget(
            name: "ExercisesTests",
            dependencies: ["Exercises", "History", "Inspect", "OCI", "ContlabCore", "TextKit", "Lessons"]),
        .testTarget(name: "GradingTests", dependencies: ["Grading", "Exercises", "OCI", "Cgroups"]),
        // The command line itself: every help screen, the version, "did you mean".
        .testTarget(
            name: "CommandLineTests",
            dependencies: [
                "contlab", "ContlabCore", "TextKit", .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        // Real containers, as root, through the built static binary (see Makefile).
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["ContlabCore", "TextKit", "Cgroups", "CLinux", "CSeccomp", "TestSupport"], exclude: ["CRI"]),
        // Fuzzing: what contlab reads from strangers, one function per input kind. make fuzz
        // builds contlab-fuzz with libFuzzer and ASan; FuzzReplayTests runs the saved inputs
        // of Tests/FuzzCorpus in every make test.
        .target(
            name: "FuzzTargets",
            dependencies: ["ContlabCore", "OCI", "Images", "Rootfs", "History", "Lessons", "Exercises"],
            path: "Tests/FuzzTargets"),
        .executableTarget(name: "contlab-fuzz", dependencies: ["FuzzTargets"], path: "Tests/Fuzz"),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"])
    ],
    swiftLanguageModes: [.v5]
)
