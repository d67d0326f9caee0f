import CZlib
import Foundation

/// gzip through zlib: layers are stored as gzip'd tar (`application/vnd.oci.image.layer.v1.tar+gzip`).
public enum Gzip {
    /// Compress with no file name and a zero timestamp in the header, so the same tar gives the
    /// same blob and the same digest every time.
    public static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for a gzip wrapper rather than a zlib one.
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else {
            throw ImageError.compression("deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf -> Int32 in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw ImageError.compression("deflate returned \(status)") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    public static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b }

    /// The most bytes a layer may decompress to, unless `CONTLAB_LAYER_LIMIT` says otherwise
    /// (bytes, or with k/M/G): a gzip bomb (1 GiB of zeros fits in 1 MiB) is refused at the
    /// limit instead of taking the machine's memory. Layers here are megabytes; a distribution's
    /// whole root is a few hundred.
    public static let defaultLimit = 2 << 30

    public static func limit(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        guard let text = environment["CONTLAB_LAYER_LIMIT"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return defaultLimit
        }
        let units: [Character: Int] = [
            "k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30
        ]
        if let unit = text.last.flatMap({ units[$0] }), let number = Int(text.dropLast()), number > 0 {
            return number.multipliedReportingOverflow(by: unit).overflow ? Int.max : number * unit
        }
        return Int(text).flatMap { $0 > 0 ? $0 : nil } ?? defaultLimit
    }

    public static func decompress(_ input: [UInt8], limit: Int = Gzip.limit()) throws -> [UInt8] {
        let inflater = try Inflater(limit: limit)
        var output: [UInt8] = []
        output.reserveCapacity(min(input.count * 3, limit))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        try input.withUnsafeBytes { inBuf in
            inflater.give(inBuf)
            while !inflater.finished {
                let produced = try chunk.withUnsafeMutableBytes { try inflater.inflate(into: $0) }
                output.append(contentsOf: chunk[0..<produced])
                if produced == 0 && inflater.needsInput && !inflater.finished {
                    throw ImageError.compression(Inflater.endsEarly)
                }
            }
        }
        return output
    }

    /// gzip inflated a piece at a time: compressed bytes go in as they are read, and each call
    /// fills the caller's buffer, so a layer of any size passes through a few buffers of memory.
    /// A class, because zlib keeps a pointer back to its `z_stream`: it must not move.
    public final class Inflater {
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        public let limit: Int
        /// Uncompressed bytes produced so far.
        public private(set) var produced = 0
        /// The gzip stream's end was reached (its length and CRC checked by zlib).
        public private(set) var finished = false

        static let endsEarly = "the gzip data ends early"

        public init(limit: Int = Gzip.limit()) throws {
            self.limit = limit
            stream.initialize(to: z_stream())
            // windowBits 15 + 16: a gzip wrapper, not a zlib one. If this fails, deinit still
            // runs (every property is set) and frees the stream; inflateEnd refuses it unharmed.
            guard inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw ImageError.compression("inflateInit2 failed")
            }
        }

        deinit {
            inflateEnd(stream)
            stream.deallocate()
        }

        /// All the input given so far has been used.
        public var needsInput: Bool { stream.pointee.avail_in == 0 }

        /// The next compressed bytes. zlib reads them in place: they must stay where they are,
        /// unchanged, until `needsInput`.
        public func give(_ input: UnsafeRawBufferPointer) {
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
        }

        /// Inflate into `output`; returns how many bytes it holds now. 0 with `needsInput` asks
        /// for more input (zlib may still hold output from earlier input: call this first).
        public func inflate(into output: UnsafeMutableRawBufferPointer) throws -> Int {
            guard !finished, let base = output.baseAddress, output.count > 0 else { return 0 }
            stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(min(output.count, Int(UInt32.max)))
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            let count = min(output.count, Int(UInt32.max)) - Int(stream.pointee.avail_out)
            // Z_BUF_ERROR: no progress, which with room for output means the input ran out.
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && needsInput) else {
                throw ImageError.compression("the gzip data is damaged (inflate returned \(status))")
            }
            guard count <= limit - produced else {
                throw ImageError.compression(
                    "it decompresses to more than \(limit >> 20) MiB (a gzip bomb, or a layer bigger than this lab "
                        + "expects); to allow more, set CONTLAB_LAYER_LIMIT, e.g. CONTLAB_LAYER_LIMIT=8G"
                )
            }
            produced += count
            finished = status == Z_STREAM_END
            return count
        }
    }
}
