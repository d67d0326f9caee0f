import CCmark
import Foundation
import TextKit

/// A lesson body as libcmark parsed it, copied into Swift values so that the renderers are pure
/// functions over plain data (and the cmark tree is freed right away).
public struct MarkdownDocument: Equatable, Sendable {
    public var blocks: [MarkdownBlock]

    public init(blocks: [MarkdownBlock]) { self.blocks = blocks }

    /// Parses CommonMark with libcmark. cmark accepts any input (there is no invalid Markdown),
    /// so this cannot fail; invalid UTF-8 is replaced rather than trusted.
    public init(parsing markdown: String) {
        let root = CommonMark.parse(markdown)
        defer { cmark_node_free(root) }
        blocks = CommonMark.blocks(in: root, depth: 0)
    }

    /// How deep quotes and lists nest before their contents are shown at the depth above.
    /// CommonMark sets no limit, and a file of 4,000 `>` took a renderer gigabytes (found by
    /// `make fuzz`); no lesson nests more than a few levels.
    public static let maximumDepth = 16

    /// The level-2 headings' plain text, in order: a lesson's sections.
    public var sectionTitles: [String] {
        blocks.compactMap {
            if case let .heading(2, inlines) = $0 { return MarkdownInline.plainText(inlines) }
            return nil
        }
    }
}

public indirect enum MarkdownBlock: Equatable, Sendable {
    case paragraph([MarkdownInline])
    case heading(level: Int, [MarkdownInline])
    case blockQuote([MarkdownBlock])
    /// `start` is the first number of an ordered list (nil for a bullet list); each item is a
    /// list of blocks. A tight list has no blank lines between its items.
    case list(ordered: Bool, start: Int, delimiter: Character, tight: Bool, items: [[MarkdownBlock]])
    /// `info` is the fence's info string (`sh`, `swift`, …), empty for indented code.
    case codeBlock(info: String, code: String)
    case htmlBlock(String)
    case thematicBreak
}

public indirect enum MarkdownInline: Equatable, Sendable {
    case text(String)
    case softBreak
    case lineBreak
    case code(String)
    case html(String)
    case emphasis([MarkdownInline])
    case strong([MarkdownInline])
    case link(url: String, title: String, [MarkdownInline])
    case image(url: String, title: String, alt: [MarkdownInline])

    /// The text a reader sees, without styles: what an image's alt text or a link's label says.
    public static func plainText(_ inlines: [MarkdownInline]) -> String {
        inlines.map { inline -> String in
            switch inline {
            case let .text(s), let .code(s): return s
            case .softBreak, .lineBreak: return " "
            case .html: return ""
            case let .emphasis(c), let .strong(c), let .link(_, _, c), let .image(_, _, c):
                return plainText(c)
            }
        }.joined()
    }
}

/// The few libcmark calls contlab makes, in one place.
enum CommonMark {
    /// `CMARK_OPT_VALIDATE_UTF8` replaces invalid bytes with U+FFFD instead of passing them on.
    static let parseOptions = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8

    static func parse(_ markdown: String) -> OpaquePointer {
        var text = markdown
        return text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                cmark_parse_document($0.baseAddress, $0.count, parseOptions)
            }
        }
    }

    static func children(of node: OpaquePointer) -> [OpaquePointer] {
        var result: [OpaquePointer] = []
        var child = cmark_node_first_child(node)
        while let current = child {
            result.append(current)
            child = cmark_node_next(current)
        }
        return result
    }

    static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    /// A container's blocks. Below `MarkdownDocument.maximumDepth` a quote or list adds no
    /// level: its blocks join its parent's.
    static func blocks(in node: OpaquePointer, depth: Int) -> [MarkdownBlock] {
        children(of: node).flatMap { child -> [MarkdownBlock] in
            let nests = [CMARK_NODE_BLOCK_QUOTE, CMARK_NODE_LIST, CMARK_NODE_CUSTOM_BLOCK].contains(
                cmark_node_get_type(child))
            if nests && depth >= MarkdownDocument.maximumDepth {
                if cmark_node_get_type(child) == CMARK_NODE_LIST {
                    return children(of: child).flatMap { blocks(in: $0, depth: depth) }
                }
                return blocks(in: child, depth: depth)
            }
            return block(child, depth: depth).map { [$0] } ?? []
        }
    }

    static func block(_ node: OpaquePointer, depth: Int) -> MarkdownBlock? {
        switch cmark_node_get_type(node) {
        case CMARK_NODE_PARAGRAPH:
            return .paragraph(inlines(of: node))
        case CMARK_NODE_HEADING:
            return .heading(level: Int(cmark_node_get_heading_level(node)), inlines(of: node))
        case CMARK_NODE_BLOCK_QUOTE:
            return .blockQuote(blocks(in: node, depth: depth + 1))
        case CMARK_NODE_LIST:
            let ordered = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST
            let delimiter: Character = cmark_node_get_list_delim(node) == CMARK_PAREN_DELIM ? ")" : "."
            let items = children(of: node).map { blocks(in: $0, depth: depth + 1) }
            return .list(
                ordered: ordered, start: ordered ? Int(cmark_node_get_list_start(node)) : 0,
                delimiter: delimiter, tight: cmark_node_get_list_tight(node) != 0, items: items)
        case CMARK_NODE_CODE_BLOCK:
            return .codeBlock(
                info: string(cmark_node_get_fence_info(node)),
                code: string(cmark_node_get_literal(node)))
        case CMARK_NODE_HTML_BLOCK:
            return .htmlBlock(string(cmark_node_get_literal(node)))
        case CMARK_NODE_THEMATIC_BREAK:
            return .thematicBreak
        case CMARK_NODE_CUSTOM_BLOCK:
            // Only made by programs that build trees, never by the parser; keep its contents.
            let inner = blocks(in: node, depth: depth + 1)
            return inner.isEmpty ? nil : .blockQuote(inner)
        default:
            return nil
        }
    }

    /// A node's inlines. Emphasis nested past `MarkdownDocument.maximumDepth` (two thousand `*`
    /// make a thousand levels) keeps its text and drops the deeper styles.
    static func inlines(of node: OpaquePointer, depth: Int = 0) -> [MarkdownInline] {
        children(of: node).flatMap { child -> [MarkdownInline] in
            let type = cmark_node_get_type(child)
            let styles = [CMARK_NODE_EMPH, CMARK_NODE_STRONG, CMARK_NODE_CUSTOM_INLINE].contains(type)
            if styles && depth >= MarkdownDocument.maximumDepth { return inlines(of: child, depth: depth) }
            return inline(child, depth: depth).map { [$0] } ?? []
        }
    }

    static func inline(_ node: OpaquePointer, depth: Int) -> MarkdownInline? {
        let inner = { inlines(of: node, depth: depth + 1) }
        switch cmark_node_get_type(node) {
        case CMARK_NODE_TEXT: return .text(string(cmark_node_get_literal(node)))
        case CMARK_NODE_SOFTBREAK: return .softBreak
        case CMARK_NODE_LINEBREAK: return .lineBreak
        case CMARK_NODE_CODE: return .code(string(cmark_node_get_literal(node)))
        case CMARK_NODE_HTML_INLINE: return .html(string(cmark_node_get_literal(node)))
        case CMARK_NODE_EMPH: return .emphasis(inner())
        case CMARK_NODE_STRONG: return .strong(inner())
        case CMARK_NODE_LINK:
            return .link(url: string(cmark_node_get_url(node)), title: string(cmark_node_get_title(node)), inner())
        case CMARK_NODE_IMAGE:
            return .image(
                url: string(cmark_node_get_url(node)), title: string(cmark_node_get_title(node)), alt: inner())
        case CMARK_NODE_CUSTOM_INLINE: return .emphasis(inner())
        default: return nil
        }
    }

    /// Whether a soft break stands between two wide (CJK) characters.
    static func joinsChinese(_ softBreak: OpaquePointer) -> Bool {
        func edge(_ node: OpaquePointer?, last: Bool) -> Character? {
            guard let node else { return nil }
            switch cmark_node_get_type(node) {
            case CMARK_NODE_TEXT, CMARK_NODE_CODE:
                let text = string(cmark_node_get_literal(node))
                return last ? text.last : text.first
            case CMARK_NODE_EMPH, CMARK_NODE_STRONG, CMARK_NODE_LINK:
                return edge(last ? cmark_node_last_child(node) : cmark_node_first_child(node), last: last)
            default:
                return nil
            }
        }
        guard let before = edge(cmark_node_previous(softBreak), last: true),
            let after = edge(cmark_node_next(softBreak), last: false)
        else { return false }
        return TextWrapper.isWide(before) && TextWrapper.isWide(after)
    }

    /// libcmark's HTML for `markdown`, in its safe mode (raw HTML and `javascript:` links are
    /// left out). `rewriteURL` may change each link's destination first, e.g. to point links
    /// between lessons (`stage2-namespaces.md`) at the exported pages.
    static func html(_ markdown: String, rewriteURL: (String) -> String? = { _ in nil }) -> String {
        let root = parse(markdown)
        defer { cmark_node_free(root) }
        var joins: [OpaquePointer] = []
        let iterator = cmark_iter_new(root)
        while cmark_iter_next(iterator) != CMARK_EVENT_DONE {
            guard cmark_iter_get_event_type(iterator) == CMARK_EVENT_ENTER,
                let node = cmark_iter_get_node(iterator)
            else { continue }
            switch cmark_node_get_type(node) {
            case CMARK_NODE_LINK:
                if let replacement = rewriteURL(string(cmark_node_get_url(node))) {
                    cmark_node_set_url(node, replacement)
                }
            case CMARK_NODE_SOFTBREAK where joinsChinese(node):
                joins.append(node)
            default:
                break
            }
        }
        cmark_iter_free(iterator)
        // A line end inside a paragraph becomes a space in HTML; between two Chinese characters
        // that space is a visible gap, so those soft breaks are removed (after the walk, which
        // must not see the tree change under it).
        for node in joins {
            cmark_node_unlink(node)
            cmark_node_free(node)
        }
        guard let rendered = cmark_render_html(root, CMARK_OPT_DEFAULT) else { return "" }
        defer { free(rendered) }
        return String(cString: rendered)
    }
}
