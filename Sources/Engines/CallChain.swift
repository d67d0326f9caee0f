import Foundation
import TextKit

/// One container's calls to contlab-runc, read from the runtime's journal (`contlab-runc
/// --journal FILE`): each call as the engine made it, who made it (the runtime reads its caller
/// from /proc), the init's system calls under create, and how the call ended. The data of the
/// call-chain diagram (`contlab engines chain`). Pure: it parses text. Lesson: stage4-oci.
public struct RuntimeCallChain: Codable, Equatable, Sendable {
    /// One system call's name and how many times the init made it.
    public struct InitCalls: Codable, Equatable, Sendable {
        public var name: String
        public var count: Int

        public init(name: String, count: Int) {
            self.name = name
            self.count = count
        }
    }

    public struct Call: Codable, Equatable, Sendable {
        /// The journal's timestamp.
        public var time: String
        public var verb: String
        /// The words after the verb, as the engine passed them.
        public var arguments: [String]
        /// The runtime's global flags before the verb (`--root`, `--log`…), without `--journal`.
        public var globalFlags: [String]
        /// The caller's pid and command line, then its ancestors', as the runtime found them in
        /// /proc; empty in journals from before contlab recorded them.
        public var callers: [String]
        /// The system calls of the container's init (create and run), by name in the order the
        /// init first made each, with how many times; and how many in all.
        public var initCalls: [InitCalls]
        public var initCallCount: Int
        /// "exit 0", "error: …", or nil when the journal ends before the call does.
        public var outcome: String?

        public init(
            time: String, verb: String, arguments: [String], globalFlags: [String] = [], callers: [String] = [],
            initCalls: [InitCalls] = [], initCallCount: Int = 0, outcome: String? = nil
        ) {
            self.time = time
            self.verb = verb
            self.arguments = arguments
            self.globalFlags = globalFlags
            self.callers = callers
            self.initCalls = initCalls
            self.initCallCount = initCallCount
            self.outcome = outcome
        }

        /// The program that made the call: the first caller's executable, without its directory.
        public var callerProgram: String? { callers.first.flatMap(Self.program) }

        /// The engine's programs among the callers, nearest first: past a shell, since dockerd
        /// runs a runtime given `runtimeArgs` through a wrapper script of its own.
        public var engineCallers: [String] {
            Array(callers.drop { Self.program($0).map(Self.shells.contains) ?? true })
        }

        public var engineCaller: String? { engineCallers.first ?? callers.first }

        /// Whether a wrapper script stands between the engine's program and the runtime.
        public var throughScript: Bool { callerProgram.map(Self.shells.contains) ?? false }

        static let shells: Set<String> = ["sh", "dash", "bash"]

        /// "PID /usr/bin/program args…" as "program".
        static func program(_ caller: String) -> String? {
            let words = caller.split(separator: " ")
            return words.count > 1 ? (String(words[1]) as NSString).lastPathComponent : nil
        }
    }

    /// docker or podman: which engine's chain the calls came through.
    public var engine: String
    /// The container's id, as the engine named it.
    public var container: String
    public var calls: [Call]

    public init(engine: String, container: String, calls: [Call]) {
        self.engine = engine
        self.container = container
        self.calls = calls
    }

    /// runc's global flags that take a value (`--root DIR`): the verb is the first word that is
    /// neither one of them nor its value.
    static let valuedGlobals: Set<String> = ["--root", "--log", "--log-format", "--journal", "--criu", "--rootless"]

    /// Every call in a journal, in order.
    public static func calls(journal: String) -> [Call] {
        var calls: [Call] = []
        for raw in journal.split(separator: "\n") {
            var line = String(raw)
            var time = ""
            // Each line starts with the time it was written (RFC 3339), then a space.
            if line.first?.isNumber == true, let space = line.firstIndex(of: " ") {
                time = String(line[..<space])
                line = String(line[line.index(after: space)...])
            }
            if line.hasPrefix("contlab-runc ") {
                let words = line.split(separator: " ").dropFirst().map(String.init)
                var globals: [String] = []
                var index = 0
                while index < words.count, words[index].hasPrefix("-") {
                    let word = words[index]
                    let name = String(word.split(separator: "=", maxSplits: 1).first ?? "")
                    let valued = valuedGlobals.contains(name) && !word.contains("=")
                    if name != "--journal" {
                        globals += valued && index + 1 < words.count ? [word, words[index + 1]] : [word]
                    }
                    index += valued ? 2 : 1
                }
                guard index < words.count else { continue }
                calls.append(
                    Call(time: time, verb: words[index], arguments: Array(words[(index + 1)...]), globalFlags: globals))
                continue
            }
            guard !calls.isEmpty, line.hasPrefix("  ") else { continue }
            let detail = line.dropFirst(2)
            // "caller:", "caller's parent:", then "its parent:" for each ancestor further up.
            if detail.hasPrefix("caller") || detail.hasPrefix("its parent: "), let colon = detail.range(of: ": ") {
                calls[calls.count - 1].callers.append(String(detail[colon.upperBound...]))
            } else if detail.hasPrefix("init: ") {
                // A system call in C notation, `name(…)`; the runtime's own words there are no call.
                let text = detail.dropFirst(6)
                guard let open = text.firstIndex(of: "("), !text[..<open].isEmpty,
                    text[..<open].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
                else { continue }
                let name = String(text[..<open])
                calls[calls.count - 1].initCallCount += 1
                if let index = calls[calls.count - 1].initCalls.firstIndex(where: { $0.name == name }) {
                    calls[calls.count - 1].initCalls[index].count += 1
                } else {
                    calls[calls.count - 1].initCalls.append(InitCalls(name: name, count: 1))
                }
            } else if detail.hasPrefix("→ ") {
                calls[calls.count - 1].outcome = String(detail.dropFirst(2))
            }
        }
        return calls
    }

    /// The calls about one container: those that name its id (runc's commands take it last, or
    /// before kill's signal), by default the container of the journal's last create.
    public static func parse(journal: String, engine: String, container: String? = nil) -> RuntimeCallChain? {
        let all = calls(journal: journal)
        guard let id = container ?? all.last(where: { $0.verb == "create" || $0.verb == "run" })?.arguments.last else {
            return nil
        }
        let mine = all.filter { $0.arguments.contains(id) }
        return mine.isEmpty ? nil : RuntimeCallChain(engine: engine, container: id, calls: mine)
    }
}

/// The chain from the command a user types to the runtime, drawn from a `RuntimeCallChain`:
/// the engine's programs as boxes, each link saying how one talks to the next, the runtime's
/// calls in order at the bottom, each with the program that made it. As text (at most 80
/// columns) and as SVG.
public struct CallChainDiagram: Sendable {
    public struct Box: Equatable, Sendable {
        public var program: String
        /// What the journal shows of it (a pid and a command line), or a fixed fact.
        public var note: String
        /// How it reaches the next box.
        public var link: String?
    }

    public var chain: RuntimeCallChain

    public init(chain: RuntimeCallChain) { self.chain = chain }

    /// "3b422ef16ebe…" for a 64-digit id, as Docker shortens them.
    static func short(_ text: String) -> String {
        text.replacingOccurrences(of: #"([0-9a-f]{12})[0-9a-f]{52}"#, with: "$1…", options: .regularExpression)
    }

    /// A path argument cut to its last component, so a call fits a line.
    static func compact(_ word: String) -> String {
        guard word.hasPrefix("/"), word.split(separator: "/").count > 1 else { return short(word) }
        return "…/" + short((word as NSString).lastPathComponent)
    }

    /// "--root DIR" pairs' values and ids shortened; the verb first.
    public static func callText(_ call: RuntimeCallChain.Call) -> String {
        ([call.verb] + call.arguments.map(compact)).joined(separator: " ")
    }

    /// A caller line, "PID /usr/bin/program args…", as "program (pid PID)".
    static func callerName(_ line: String) -> String {
        let words = line.split(separator: " ")
        guard words.count > 1 else { return line }
        return (String(words[1]) as NSString).lastPathComponent + " (pid \(words[0]))"
    }

    /// "from containerd-shim-runc-v2 (pid 200) ← containerd (pid 100)": the engine's programs
    /// that led to a call, nearest first.
    static func fromText(_ call: RuntimeCallChain.Call, zh: Bool) -> String? {
        let callers = call.engineCallers.isEmpty ? call.callers : call.engineCallers
        guard !callers.isEmpty else { return nil }
        return (zh ? "调用者 " : "from ") + callers.map(callerName).joined(separator: " ← ")
    }

    /// "mount ×36," "mknod ×6," … "capset": the init's calls by name, a count where above one.
    static func initSummary(_ call: RuntimeCallChain.Call) -> [String] {
        call.initCalls.enumerated().map { index, calls in
            calls.name + (calls.count > 1 ? " ×\(calls.count)" : "") + (index == call.initCalls.count - 1 ? "" : ",")
        }
    }

    /// The value of `flag` in a command line, such as the shim's `-address`.
    static func flag(_ flag: String, in line: String) -> String? {
        let words = line.split(separator: " ").map(String.init)
        guard let index = words.firstIndex(of: flag), index + 1 < words.count else { return nil }
        return words[index + 1]
    }

    /// The boxes, from the user's command to the runtime. The engine's own programs are fixed by
    /// the engine; the program next to the runtime, and what each box says, come from the calls.
    public func boxes(language: Language) -> [Box] {
        let zh = language == .zh
        let runtimeCaller =
            chain.calls.first { $0.verb == "create" || $0.verb == "run" }?.engineCaller
            ?? chain.calls.first?.engineCaller
        /// "pid N, " for a program the journal saw among a call's callers.
        func seen(_ program: String) -> String {
            let line = chain.calls.lazy.flatMap(\.callers).first { RuntimeCallChain.Call.program($0) == program }
            return line.map { "pid " + ($0.split(separator: " ").first.map(String.init) ?? "?") + ", " } ?? ""
        }
        let unrecorded = zh ? "（日志里没有记下调用者）" : "(the journal names no caller)"
        let runtime = Box(
            program: "contlab-runc", note: zh ? "每一步运行一次，做完就退出" : "runs once per step and exits", link: nil)
        if chain.engine == "podman" {
            let conmon = runtimeCaller.map { "pid " + ($0.split(separator: " ").first.map(String.init) ?? "?") }
            return [
                Box(
                    program: "podman",
                    note: seen("podman") + (zh ? "你输入的命令；没有守护进程" : "the command you type; no daemon"),
                    link: zh ? "为每个容器启动一个 conmon" : "starts one conmon per container"),
                Box(
                    program: "conmon", note: conmon ?? unrecorded,
                    link: zh
                        ? "运行 create；start、kill、delete 由 podman 运行" : "runs create; podman runs start, kill, delete"),
                runtime
            ]
        }
        let script = chain.calls.contains(where: \.throughScript)
        let address = runtimeCaller.flatMap { Self.flag("-address", in: $0) }.map { ", " + Self.compact($0) } ?? ""
        let namespace = runtimeCaller.flatMap { Self.flag("-namespace", in: $0) } ?? "?"
        let shim = runtimeCaller.map { line in
            "pid " + (line.split(separator: " ").first.map(String.init) ?? "?")
                + (Self.flag("-id", in: line).map { ", -id " + Self.short($0) } ?? "")
        }
        return [
            Box(
                program: "docker", note: zh ? "你输入的客户端命令" : "the client you type into",
                link: zh ? "Engine API：unix 套接字上的 HTTP" : "the Engine API: HTTP on a unix socket"),
            Box(
                program: "dockerd", note: seen("dockerd") + (zh ? "Docker 的守护进程" : "Docker's daemon"),
                link: (zh ? "containerd 的 gRPC API" : "containerd's gRPC API") + address),
            Box(
                program: "containerd", note: seen("containerd") + (zh ? "命名空间 " : "namespace ") + namespace,
                link: zh ? "每个容器启动一个 shim，用 ttrpc 跟它说话" : "starts one shim per container, talks ttrpc to it"),
            Box(
                program: "containerd-shim-runc-v2", note: shim ?? unrecorded,
                link: script
                    ? (zh ? "每一步运行一次运行时，经由一个包装脚本" : "runs the runtime once per step, through a wrapper script")
                    : (zh ? "每一步运行一次运行时，带 runc 的命令行" : "runs the runtime once per step, with runc's command line")),
            runtime
        ]
    }

    /// The text's width: 76 columns, so that a lesson's code block, 4 columns in, fits 80.
    static let width = 76

    /// The chain as text: the boxes top down, then the runtime's calls in order.
    public func text(style: Style, language: Language) -> String {
        let zh = language == .zh
        let boxes = boxes(language: language)
        let inner = max(26, boxes.map { Terminal.displayWidth($0.program) }.max() ?? 0) + 2
        var lines: [String] = []
        let half = inner / 2
        for (index, box) in boxes.enumerated() {
            let padding = String(repeating: " ", count: inner - 1 - Terminal.displayWidth(box.program))
            let joined = index > 0 && boxes[index - 1].link != nil
            lines.append(
                "  ┌" + String(repeating: "─", count: half) + (joined ? "┴" : "─")
                    + String(repeating: "─", count: inner - half - 1) + "┐")
            lines.append(
                "  │ " + style.bold(box.program) + padding + "│ "
                    + style.dim(Terminal.truncate(box.note, toWidth: Self.width - inner - 5)))
            let bottom =
                String(repeating: "─", count: half) + (box.link == nil ? "─" : "┬")
                + String(repeating: "─", count: inner - half - 1)
            lines.append("  └" + bottom + "┘")
            if let link = box.link {
                lines.append(
                    "   " + String(repeating: " ", count: half) + "│ "
                        + style.dim(Terminal.truncate(link, toWidth: Self.width - half - 5)))
            }
        }
        lines.append("")
        lines.append("  " + style.bold(zh ? "运行时收到的调用，按顺序：" : "the runtime's calls, in order:"))
        let number = String(chain.calls.count).count
        for (index, call) in chain.calls.enumerated() {
            let outcome = call.outcome ?? "?"
            let head = "  " + String(repeating: " ", count: number - String(index + 1).count) + "\(index + 1) "
            lines.append(
                head
                    + style.bold(
                        Terminal.truncate(Self.callText(call), toWidth: Self.width - Terminal.displayWidth(head))))
            let indent = String(repeating: " ", count: Terminal.displayWidth(head) + 2)
            // How it ended, then who asked: the engine's programs, nearest first, each kept whole
            // on a line ("containerd (pid 7790)"), the lines after the first 2 columns further in.
            let callers = call.engineCallers.isEmpty ? call.callers : call.engineCallers
            var pieces: [String] = callers.isEmpty ? [] : ["·", zh ? "调用者" : "from"]
            for (number, caller) in callers.enumerated() {
                pieces.append((number == 0 ? "" : "← ") + Self.callerName(caller))
            }
            var line = indent + (outcome.hasPrefix("exit 0") ? style.green(outcome) : style.red(outcome))
            var used = indent.count + Terminal.displayWidth(outcome)
            for piece in pieces {
                if used + 1 + Terminal.displayWidth(piece) > Self.width && piece != "·" {
                    lines.append(line)
                    line = indent + "  "
                    used = line.count
                    line += style.dim(piece)
                } else {
                    line += " " + style.dim(piece)
                    used += 1
                }
                used += Terminal.displayWidth(piece)
            }
            lines.append(line)
            if call.initCallCount > 0 {
                let head =
                    zh
                    ? "init 的 \(call.initCallCount) 个系统调用，按首次出现的顺序："
                    : "the init's \(call.initCallCount) system calls, in the order first made:"
                lines.append(indent + style.dim(head))
                lines += Terminal.wrapWords(Self.initSummary(call), width: Self.width, indent: indent + "  ")
            }
        }
        return lines.map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }.joined(
            separator: "\n") + "\n"
    }
}

extension CallChainDiagram {
    /// The chain as SVG: the boxes top down with an arrow and its words between each two, and
    /// below the runtime's box the calls it got, in order, each with its outcome and callers.
    public func svg(language: Language) -> String {
        let zh = language == .zh
        let boxes = boxes(language: language)
        let left = 20, boxWidth = 250, boxHeight = 46, linkGap = 38, top = 20
        let callsX = left + 24, callsWidth = 600, rowHeight = 40
        var parts: [String] = []
        func text(
            _ x: Int, _ y: Int, _ content: String, size: Int = 12, weight: String = "normal", fill: String = "#1a202c",
            mono: Bool = false, anchor: String = "start"
        ) -> String {
            let family = mono ? " font-family=\"'DejaVu Sans Mono', monospace\"" : ""
            return
                "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\" "
                + "text-anchor=\"\(anchor)\"\(family)>"
                + Markup.escape(content) + "</text>"
        }
        parts.append(
            "<defs><marker id=\"chain-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                + "markerHeight=\"7\" orient=\"auto\">"
                + "<path d=\"M0 0 L10 5 L0 10 z\" fill=\"#4a5568\"/></marker></defs>")
        var y = top
        var runtimeY = top
        for (index, box) in boxes.enumerated() {
            let isRuntime = index == boxes.count - 1
            let (fill, stroke) = isRuntime ? ("#ebf8ff", "#3182ce") : ("#f7fafc", "#a0aec0")
            parts.append("<g class=\"program\">")
            parts.append(
                "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(boxWidth)\" height=\"\(boxHeight)\" rx=\"6\" "
                    + "fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(isRuntime ? 2 : 1)\"/>"
            )
            parts.append(text(left + 12, y + 20, box.program, size: 14, weight: "bold"))
            parts.append(text(left + 12, y + 37, box.note, size: 11, fill: "#4a5568"))
            parts.append("</g>")
            if isRuntime { runtimeY = y }
            if let link = box.link {
                let x = left + 40
                parts.append(
                    "<g class=\"link\"><line x1=\"\(x)\" y1=\"\(y + boxHeight)\" x2=\"\(x)\" "
                        + "y2=\"\(y + boxHeight + linkGap - 2)\" stroke=\"#4a5568\" stroke-width=\"1.5\" "
                        + "marker-end=\"url(#chain-arrow)\"/>"
                        + text(x + 12, y + boxHeight + linkGap / 2 + 4, link, size: 11, fill: "#2d3748") + "</g>")
            }
            y += boxHeight + (box.link == nil ? 0 : linkGap)
        }
        // The calls, in the order the runtime got them, below the runtime's box.
        let callsTop = runtimeY + boxHeight + 26
        parts.append(
            text(callsX, callsTop + 4, zh ? "运行时收到的调用，按顺序" : "the runtime's calls, in order", size: 13, weight: "bold"))
        for (index, call) in chain.calls.enumerated() {
            let rowY = callsTop + 14 + index * rowHeight
            let ok = (call.outcome ?? "").hasPrefix("exit 0")
            parts.append("<g class=\"call\" data-verb=\"\(Markup.escape(call.verb))\">")
            parts.append(
                "<path d=\"M\(left + 12) \(rowY + 17) H\(callsX)\" stroke=\"#3182ce\" stroke-width=\"1.5\" "
                    + "stroke-dasharray=\"4 3\"/>"
            )
            parts.append(
                "<rect x=\"\(callsX)\" y=\"\(rowY)\" width=\"\(callsWidth)\" height=\"\(rowHeight - 6)\" rx=\"4\" "
                    + "fill=\"#ffffff\" stroke=\"#cbd5e0\"/>"
            )
            parts.append(text(callsX + 10, rowY + 15, "\(index + 1)", size: 12, weight: "bold", fill: "#3182ce"))
            parts.append(text(callsX + 30, rowY + 15, Self.callText(call), size: 11, mono: true))
            parts.append(
                text(
                    callsX + callsWidth - 10, rowY + 15, call.outcome ?? "?", size: 11, weight: "bold",
                    fill: ok ? "#2f855a" : "#c53030", anchor: "end"))
            var detail = Self.fromText(call, zh: zh) ?? ""
            if call.initCallCount > 0 {
                detail +=
                    (detail.isEmpty ? "" : " · ")
                    + (zh ? "init 做了 \(call.initCallCount) 个系统调用" : "the init made \(call.initCallCount) system calls")
            }
            parts.append(text(callsX + 30, rowY + 29, detail, size: 10, fill: "#718096"))
            parts.append("</g>")
        }
        let callsBottom = callsTop + 14 + chain.calls.count * rowHeight
        parts.append(
            "<path d=\"M\(left + 12) \(runtimeY + boxHeight) V\(callsBottom - rowHeight + 11)\" fill=\"none\" "
                + "stroke=\"#3182ce\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>"
        )
        let width = callsX + callsWidth + 20
        let height = max(y, callsBottom) + 20
        let font = "'Noto Sans', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif"
        let label =
            zh
            ? "从 \(chain.engine) 到运行时的调用链，以及运行时收到的调用"
            : "The call chain from \(chain.engine) to the runtime, and the calls the runtime got"
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram callchain\" width=\"\(width)\" "
            + "height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"\(Markup.escape(font))\" "
            + "role=\"img\" aria-label=\"\(Markup.escape(label))\">"
            + parts.joined() + "</svg>"
    }
}
