import Foundation

/// Stage 5: what a container's upper directory and a layer made by hand must hold.
extension Evaluation {
    /// One entry of an overlay upper directory, as the grader found it.
    public enum UpperEntry: Equatable, Sendable {
        case whiteout
        case directory(opaque: Bool)
        case file(String)
        case other
    }

    /// 5.1's target, relative paths: exactly these in the upper directory.
    public static let upperTarget: Set<String> = ["bin", "bin/vi", "etc", "etc/motd", "home", "home/lab"]
    public static let motdText = "welcome to the lab"

    /// 5.1: the script's container left `upper`; `diff` is what `contlab diff` printed of it;
    /// `prediction` the student's prediction.txt.
    public static func overlayUpper(status: String, upper: [String: UpperEntry], diff: [String], prediction: String?)
        -> [CheckOutcome]
    {
        func describe(_ entry: UpperEntry?) -> String {
            switch entry {
            case nil: return "nothing there"
            case .whiteout?: return "a whiteout"
            case .directory(let opaque)?: return opaque ? "an opaque directory" : "a directory that is not opaque"
            case .file(let text)?:
                return "a file holding \"\(ProbeOutput.excerpt(text.trimmingCharacters(in: .whitespacesAndNewlines)))\""
            case .other?: return "something that is neither a file, a directory nor a whiteout"
            }
        }
        let ran = "the script \(status)"
        var outcomes = [
            CheckOutcome(
                "whiteout", passed: upper["bin/vi"] == .whiteout,
                expected: "upper/bin/vi is a whiteout (a 0:0 character device)",
                seen: "upper/bin/vi: \(describe(upper["bin/vi"])); \(ran)")
        ]
        var motdOK = false
        if case .file(let text)? = upper["etc/motd"] {
            motdOK = text.trimmingCharacters(in: .whitespacesAndNewlines) == motdText
        }
        outcomes.append(
            CheckOutcome(
                "new-file", passed: motdOK, expected: "upper/etc/motd holds \"\(motdText)\"",
                seen: "upper/etc/motd: \(describe(upper["etc/motd"]))"))
        let opaque = upper["home"] == .directory(opaque: true) && upper["home/lab"] == .directory(opaque: false)
        outcomes.append(
            CheckOutcome(
                "opaque", passed: opaque,
                expected: "upper/home is an opaque directory holding only the new directory lab",
                seen: "upper/home: \(describe(upper["home"])); upper/home/lab: \(describe(upper["home/lab"]))"))
        let extra = Set(upper.keys).subtracting(upperTarget).sorted()
        outcomes.append(
            CheckOutcome(
                "only-these", passed: extra.isEmpty, expected: "nothing else in the upper directory",
                seen: extra.isEmpty
                    ? "nothing else"
                    : "also: " + extra.prefix(6).joined(separator: ", ") + (extra.count > 6 ? ", …" : "")))
        let predicted = Set(normalizedDiffLines(prediction ?? ""))
        let actual = Set(normalizedDiffLines(diff.joined(separator: "\n")))
        let missing = actual.subtracting(predicted).sorted(), wrong = predicted.subtracting(actual).sorted()
        outcomes.append(
            CheckOutcome(
                "prediction", passed: prediction != nil && predicted == actual,
                expected:
                    "prediction.txt lists exactly what contlab diff printed: \(actual.sorted().joined(separator: "; "))",
                seen: prediction == nil
                    ? "no prediction.txt"
                    : (missing.isEmpty && wrong.isEmpty
                        ? "the same lines"
                        : "missing: \(missing.isEmpty ? "none" : missing.joined(separator: "; ")); not printed: \(wrong.isEmpty ? "none" : wrong.joined(separator: "; "))")
            ))
        return outcomes
    }

    /// `A /x` lines however they are spaced, without comments, blank lines or a trailing slash.
    public static func normalizedDiffLines(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let words =
                line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) ?? []
            guard words.count == 2, ["A", "C", "D"].contains(words[0].uppercased()) else { return nil }
            var path = words[1]
            if !path.hasPrefix("/") { path = "/" + path }
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            return words[0].uppercased() + " " + path
        }
    }

    /// 5.2's allowed entries (a layer may name the directories that hold its changes), for the
    /// variant's file to delete from /bin.
    public static func layerTarget(deleting file: String = "vi") -> Set<String> {
        ["bin", "bin/.wh.\(file)", "etc", "etc/motd"]
    }
    public static let layerText = "hello from a layer"

    /// 5.2: what came of the student's layer.tar stacked on busybox. `tarError` nil when the file
    /// read as a tar; `entries` its member paths; `unpackError` nil when it applied; then the tree
    /// it made, and a stage-5 container's view of the same image.
    /// `deleted` is the variant's file (vi unless the workspace has a variant); `viPresent`
    /// tells whether /bin/`deleted` is still there.
    public static func whiteoutLayer(
        status: String, tarError: String?, entries: [String], unpackError: String?,
        viPresent: Bool?, shPresent: Bool?, motd: String?, overlayOutput: String?,
        variant: Variant = .standard
    ) -> [CheckOutcome] {
        let file = variant.deleted
        let target = Self.layerTarget(deleting: file)
        let paths = entries.map { path -> String in
            var clean = path
            while clean.hasPrefix("./") { clean.removeFirst(2) }
            while clean.hasSuffix("/") { clean.removeLast() }
            return clean
        }.filter { !$0.isEmpty && $0 != "." }
        let extra = Set(paths).subtracting(target).sorted()
        let motdText = motd?.trimmingCharacters(in: .whitespacesAndNewlines)
        // Which file did the layer white out, if not the variant's? Named when it is another's.
        let whitedOut = paths.compactMap { path -> String? in
            path.hasPrefix("bin/.wh.") && path != "bin/.wh..wh..opq" ? String(path.dropFirst("bin/.wh.".count)) : nil
        }
        let otherNote =
            whitedOut.first { $0 != file }.flatMap { variant.otherVariant("delete", seen: $0) }.map { "; " + $0 } ?? ""
        return [
            CheckOutcome(
                "tar", passed: tarError == nil, expected: "layer.sh writes layer.tar, a tar archive (gzip'd or not)",
                seen: tarError.map { "\($0); layer.sh \(status)" } ?? "a tar of \(paths.count) entries"),
            CheckOutcome(
                "applies", passed: tarError == nil && unpackError == nil,
                expected: "the layer unpacks over the busybox image",
                seen: unpackError ?? (tarError == nil ? "it unpacked" : "no layer")),
            CheckOutcome(
                "removes-vi", passed: viPresent == false && shPresent == true,
                expected: "after the layer, /bin/\(file) is gone and /bin/sh is still there",
                seen: (viPresent == nil
                    ? "not unpacked"
                    : "/bin/\(file) \(viPresent! ? "is still there" : "is gone"), /bin/sh \(shPresent == true ? "is there" : "is gone")")
                    + otherNote),
            CheckOutcome(
                "adds-file", passed: motdText == layerText, expected: "/etc/motd holds \"\(layerText)\"",
                seen: motdText.map { "/etc/motd holds \"\(ProbeOutput.excerpt($0))\"" } ?? "no /etc/motd"),
            CheckOutcome(
                "small", passed: tarError == nil && extra.isEmpty,
                expected: "the layer holds only its changes: \(target.sorted().joined(separator: ", "))",
                seen: extra.isEmpty
                    ? "only those"
                    : "also \(extra.count) other entries: " + extra.prefix(5).joined(separator: ", ")
                        + (extra.count > 5 ? ", …" : "")),
            CheckOutcome(
                "runs-on-overlay",
                passed: overlayOutput?.contains(layerText) == true && overlayOutput?.contains("vi-gone") == true,
                expected: "a stage-5 container of the image prints the new /etc/motd and finds no /bin/\(file)",
                seen: overlayOutput.map { "it printed \"\(ProbeOutput.excerpt($0))\"" } ?? "not run")
        ]
    }
}
