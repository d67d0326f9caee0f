import Foundation

/// One member of a tar archive, as layers use them: the path inside the layer (relative, no
/// leading `./`), what kind of file, its metadata and, for regular files, its bytes.
public struct TarEntry: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case file, directory, symlink, hardlink, characterDevice, blockDevice, fifo
    }

    public var path: String
    public var kind: Kind
    public var mode: UInt32 = 0o644
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var mtime: Int = 0
    /// The target of a symlink, or the earlier member a hardlink names.
    public var linkName: String = ""
    public var devMajor: UInt32 = 0
    public var devMinor: UInt32 = 0
    public var contents: [UInt8] = []

    public init(
        path: String, kind: Kind, mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int = 0,
        linkName: String = "", devMajor: UInt32 = 0, devMinor: UInt32 = 0, contents: [UInt8] = []
    ) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.linkName = linkName
        self.devMajor = devMajor
        self.devMinor = devMinor
        self.contents = contents
    }

    /// The final component of the path (a whiteout is recognised by it).
    public var name: String { String(path.split(separator: "/").last ?? "") }
}

/// Writes POSIX ustar with pax extended headers for what ustar cannot hold (long names, big ids),
/// the format Docker, containerd and umoci write.
public struct TarWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append(_ entry: TarEntry) {
        var path = entry.path
        if entry.kind == .directory && !path.hasSuffix("/") { path += "/" }
        var pax: [(String, String)] = []
        if path.utf8.count > 100 { pax.append(("path", path)) }
        if entry.linkName.utf8.count > 100 { pax.append(("linkpath", entry.linkName)) }
        if entry.uid > 0o7777777 { pax.append(("uid", String(entry.uid))) }
        if entry.gid > 0o7777777 { pax.append(("gid", String(entry.gid))) }
        if entry.contents.count > 0o77777777777 { pax.append(("size", String(entry.contents.count))) }
        if !pax.isEmpty {
            let body = pax.map(Self.paxRecord).joined()
            let header = Self.header(
                name: "PaxHeaders/" + String(path.suffix(80)), type: UInt8(ascii: "x"), mode: 0o644,
                uid: 0, gid: 0, size: body.utf8.count, mtime: 0, linkName: "", major: 0, minor: 0)
            bytes += header
            appendPadded(Array(body.utf8))
        }
        let type: UInt8
        switch entry.kind {
        case .file: type = UInt8(ascii: "0")
        case .hardlink: type = UInt8(ascii: "1")
        case .symlink: type = UInt8(ascii: "2")
        case .characterDevice: type = UInt8(ascii: "3")
        case .blockDevice: type = UInt8(ascii: "4")
        case .directory: type = UInt8(ascii: "5")
        case .fifo: type = UInt8(ascii: "6")
        }
        let size = entry.kind == .file ? entry.contents.count : 0
        bytes += Self.header(
            name: path, type: type, mode: entry.mode, uid: entry.uid, gid: entry.gid, size: size,
            mtime: entry.mtime, linkName: entry.linkName, major: entry.devMajor, minor: entry.devMinor)
        if entry.kind == .file { appendPadded(entry.contents) }
    }

    /// Two zero blocks end an archive.
    public mutating func finish() -> [UInt8] {
        bytes += [UInt8](repeating: 0, count: 1024)
        return bytes
    }

    mutating func appendPadded(_ data: [UInt8]) {
        bytes += data
        let rest = data.count % 512
        if rest != 0 { bytes += [UInt8](repeating: 0, count: 512 - rest) }
    }

    /// A pax record is "LENGTH KEY=VALUE\n" where LENGTH counts its own digits too.
    static func paxRecord(_ pair: (String, String)) -> String {
        let body = " \(pair.0)=\(pair.1)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length += 1 }
        return String(length) + body
    }

    static func header(
        name: String, type: UInt8, mode: UInt32, uid: UInt32, gid: UInt32, size: Int, mtime: Int,
        linkName: String, major: UInt32, minor: UInt32
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, byte) in text.utf8.prefix(width).enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            // Too big for the field: the pax header holds the real value, the field holds zero.
            let digits = String(value, radix: 8)
            put(
                digits.count < width ? String(repeating: "0", count: width - 1 - digits.count) + digits : "0",
                at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int(mode & 0o7777), at: 100, width: 8)
        octal(uid > 0o7777777 ? 0 : Int(uid), at: 108, width: 8)
        octal(gid > 0o7777777 ? 0 : Int(gid), at: 116, width: 8)
        octal(size > 0o77777777777 ? 0 : size, at: 124, width: 12)
        octal(max(0, mtime), at: 136, width: 12)
        block[156] = type
        put(linkName, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        if type == UInt8(ascii: "3") || type == UInt8(ascii: "4") {
            octal(Int(major), at: 329, width: 8)
            octal(Int(minor), at: 337, width: 8)
        }
        // The checksum is the sum of the header's bytes with its own field counted as spaces.
        for i in 148..<156 { block[i] = 0x20 }
        let sum = block.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: 6 - digits.count) + digits, at: 148, width: 6)
        block[154] = 0
        block[155] = 0x20
        return block
    }
}

/// Where a tar archive's bytes come from: an array in memory, or a layer blob inflated as it
/// is read.
public protocol ByteSource {
    /// Fill the start of `buffer` with the next bytes; returns how many, 0 only at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// How many bytes are left, when that is known without reading them (an array's).
    var remaining: Int? { get }
}

/// The bytes of an array as a `ByteSource`.
public struct ArraySource: ByteSource {
    let bytes: [UInt8]
    var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remaining: Int? { bytes.count - offset }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, bytes.count - offset)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + count])) }
        offset += count
        return count
    }
}

/// Reads ustar, pax (`x`, `g`) and GNU long-name (`L`, `K`) archives one member at a time.
/// A member's bytes are read only when asked for, a chunk at a time (`readContents`), so a
/// layer of any size goes to disk through one buffer. Member paths are returned as written;
/// `LayerPath.components` decides whether they are safe.
public final class TarStream<Source: ByteSource> {
    public private(set) var source: Source
    /// Bytes of the archive read so far.
    public private(set) var position = 0
    /// Where the current member's header starts and how many bytes it says it holds (messages).
    private var memberOffset = 0
    private var memberSize = 0
    /// The current member's bytes not read yet, then the zeros that pad it to a block.
    private var unread = 0
    private var padding = 0
    private var ended = false
    private let chunk: UnsafeMutableRawBufferPointer

    /// Pax headers and GNU long names are held in memory: more than this is no real archive.
    public static var metadataLimit: Int { 1 << 20 }

    public init(_ source: Source, chunkSize: Int = 256 << 10) {
        self.source = source
        chunk = .allocate(byteCount: max(chunkSize, 512), alignment: 16)
    }

    deinit { chunk.deallocate() }

    /// The next member, its contents not read yet; nil at the end-of-archive block (or where
    /// the bytes end).
    public func next() throws -> TarEntry? {
        var pax: [String: String] = [:]
        var longName: String?
        var longLink: String?
        while true {
            try skipRest()
            guard !ended, let block = try readHeader() else {
                ended = true
                return nil
            }
            let offset = position - 512
            if block.allSatisfy({ $0 == 0 }) {
                ended = true
                return nil
            }
            try TarReader.verifyChecksum(block, at: offset)
            let type = block[block.startIndex + 156]
            var size = try TarReader.number(block, 124, 12)
            if let paxSize = pax["size"], let value = Int(paxSize) { size = value }
            memberOffset = offset
            memberSize = size
            // Compared without adding: a size near Int.max must be refused, not overflow.
            guard size >= 0, size <= source.remaining ?? Int.max else { throw pastTheEnd() }
            unread = size
            padding = (512 - size % 512) % 512
            switch type {
            case UInt8(ascii: "x"):
                pax.merge(try TarReader.parsePax(try metadata("pax extended header"))) { $1 }
                continue
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "L"):
                longName = TarReader.cString(try metadata("GNU long name")[...])
                continue
            case UInt8(ascii: "K"):
                longLink = TarReader.cString(try metadata("GNU long link name")[...])
                continue
            default: break
            }
            return try TarReader.entry(block, type: type, pax: pax, longName: longName, longLink: longLink)
        }
    }

    /// The current member's bytes, a chunk at a time (each valid only during `body`).
    public func readContents(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while unread > 0 {
            let count = try source.read(
                into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<min(unread, chunk.count)]))
            guard count > 0 else { throw pastTheEnd() }
            unread -= count
            position += count
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
    }

    /// The current member's bytes in one array: for archives already in memory.
    public func contents() throws -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(min(unread, source.remaining ?? 0))
        try readContents { data.append(contentsOf: $0) }
        return data
    }

    /// Past the current member: its unread bytes, then its padding (which may be missing at
    /// the very end, as tar allows).
    private func skipRest() throws {
        try readContents { _ in }
        while padding > 0 && !ended {
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<padding]))
            if count == 0 { ended = true }
            padding -= count
            position += count
        }
        padding = 0
    }

    /// The next 512 bytes, or nil where fewer are left (a short last block is ignored).
    private func readHeader() throws -> ArraySlice<UInt8>? {
        let header = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<512])
        var filled = 0
        while filled < 512 {
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: header[filled...]))
            if count == 0 { break }
            filled += count
        }
        position += filled
        return filled == 512 ? Array(header)[...] : nil
    }

    private func metadata(_ what: String) throws -> [UInt8] {
        guard unread <= Self.metadataLimit else {
            throw ImageError.badTar(
                "member at byte \(memberOffset) is a \(what) of \(unread) bytes, more than "
                    + "the \(Self.metadataLimit >> 20) MiB this lab reads"
            )
        }
        return try contents()
    }

    private func pastTheEnd() -> ImageError {
        ImageError.badTar(
            "member at byte \(memberOffset) says it holds \(memberSize) bytes, past the end of the archive")
    }
}

/// Whole archives in memory, read through `TarStream`.
public enum TarReader {
    public static func entries(_ bytes: [UInt8]) throws -> [TarEntry] {
        let tar = TarStream(ArraySource(bytes))
        var result: [TarEntry] = []
        while var entry = try tar.next() {
            if entry.kind == .file { entry.contents = try tar.contents() }
            result.append(entry)
        }
        return result
    }

    /// The member a header describes (its contents left to the caller), with what pax headers
    /// and GNU long names before it said.
    static func entry(
        _ block: ArraySlice<UInt8>, type: UInt8, pax: [String: String], longName: String?, longLink: String?
    ) throws -> TarEntry {
        var path = cString(block, 0, 100)
        let prefix = cString(block, 345, 155)
        if block[block.startIndex + 257..<block.startIndex + 262].elementsEqual("ustar".utf8), !prefix.isEmpty {
            path = prefix + "/" + path
        }
        if let longName { path = longName }
        if let value = pax["path"] { path = value }
        var link = cString(block, 157, 100)
        if let longLink { link = longLink }
        if let value = pax["linkpath"] { link = value }
        let kind: TarEntry.Kind
        switch type {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = path.hasSuffix("/") ? .directory : .file
        case UInt8(ascii: "1"): kind = .hardlink
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default:
            throw ImageError.badTar(
                "member \"\(path)\" has type '\(Character(UnicodeScalar(type)))', which layers do not use")
        }
        var entry = TarEntry(path: path, kind: kind)
        entry.mode = UInt32(try number(block, 100, 8) & 0o7777)
        // Every number from the archive is checked before it becomes an id, a time or a
        // device number: a value out of range is refused by name, never a crash.
        func id(_ field: String, _ offset: Int) throws -> UInt32 {
            let text = pax[field]
            let value =
                try text.map { text -> Int in
                    guard let value = Int(text) else {
                        throw ImageError.badTar("member \"\(path)\": pax \(field) \"\(text)\" is not a whole number")
                    }
                    return value
                } ?? number(block, offset, 8)
            guard let id = UInt32(exactly: value) else {
                throw ImageError.badTar("member \"\(path)\": \(field) \(value) is out of range (0 to \(UInt32.max))")
            }
            return id
        }
        entry.uid = try id("uid", 108)
        entry.gid = try id("gid", 116)
        entry.mtime = try number(block, 136, 12)
        if let text = pax["mtime"] {
            // Seconds, with a fraction allowed; beyond ±2^62 no file system holds it.
            guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 0x1p62 else {
                throw ImageError.badTar("member \"\(path)\": pax mtime \"\(text)\" is not a time")
            }
            entry.mtime = Int(seconds)
        }
        entry.linkName = link
        if kind == .characterDevice || kind == .blockDevice {
            for (field, offset) in [("major", 329), ("minor", 337)] {
                let value = try number(block, offset, 8)
                guard let number = UInt32(exactly: value), number <= 0xfff_ffff else {
                    throw ImageError.badTar("member \"\(path)\": device \(field) \(value) is out of range")
                }
                if field == "major" { entry.devMajor = number } else { entry.devMinor = number }
            }
        }
        return entry
    }

    static func cString(_ block: ArraySlice<UInt8>, _ offset: Int, _ width: Int) -> String {
        cString(block[block.startIndex + offset..<block.startIndex + offset + width])
    }

    static func cString(_ field: ArraySlice<UInt8>) -> String {
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }

    /// Octal, NUL- or space-terminated; or GNU's base-256 with the top bit of the first byte set.
    static func number(_ block: ArraySlice<UInt8>, _ offset: Int, _ width: Int) throws -> Int {
        let field = block[block.startIndex + offset..<block.startIndex + offset + width]
        if let first = field.first, first & 0x80 != 0 {
            // GNU base-256: big-endian, the top bit of the first byte the marker (0xff: negative).
            guard first == 0x80 else { throw ImageError.badTar("a header field holds a negative base-256 number") }
            var value = 0
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else {
                    throw ImageError.badTar("a header field holds a base-256 number too big for 63 bits")
                }
                value = value << 8 | Int(byte)
            }
            return value
        }
        let text = cString(field).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let value = Int(text, radix: 8) else {
            throw ImageError.badTar("a header field holds \"\(text)\", which is not an octal number")
        }
        return value
    }

    static func verifyChecksum(_ block: ArraySlice<UInt8>, at offset: Int) throws {
        var sum = 0
        for (i, byte) in block.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(byte) }
        let recorded = try number(block, 148, 8)
        guard recorded == sum else {
            throw ImageError.badTar(
                "the header at byte \(offset) has checksum \(recorded) but adds up to \(sum): not a tar archive, or a "
                    + "damaged one"
            )
        }
    }

    static func parsePax(_ data: [UInt8]) throws -> [String: String] {
        var result: [String: String] = [:]
        var index = 0
        while index < data.count {
            // LENGTH counts the whole record, its own digits and the newline included: it must
            // reach past the space and end inside the data.
            guard let space = data[index...].firstIndex(of: 0x20),
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)),
                length > space - index + 1, length <= data.count - index
            else {
                throw ImageError.badTar(
                    "a pax extended header is malformed (a record's length does not match its text)")
            }
            let record = String(decoding: data[(space + 1)..<(index + length - 1)], as: UTF8.self)
            if let equals = record.firstIndex(of: "=") {
                result[String(record[..<equals])] = String(record[record.index(after: equals)...])
            }
            index += length
        }
        return result
    }
}
