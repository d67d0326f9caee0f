import ContlabCore
import Foundation

/// A blob file read a chunk at a time into one buffer, hashed as it goes, so its digest and
/// size are known once the last chunk has been read.
final class BlobFile {
    let path: String
    private let fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var hasher = Digest.Hasher()

    init(path: String, chunkSize: Int) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw SystemCallError("open(\"\(path)\", O_RDONLY)", errno: errno) }
        self.path = path
        buffer = .allocate(byteCount: max(chunkSize, 1), alignment: 16)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// Bytes read so far.
    var count: Int { hasher.count }

    /// The next chunk, valid until the next call; nil at the end of the file.
    func next() throws -> UnsafeRawBufferPointer? {
        // A layer of gigabytes takes a while: Ctrl-C stops it here, between chunks.
        try Interruption.check()
        var n: Int
        repeat { n = read(fd, buffer.baseAddress, buffer.count) } while n < 0 && errno == EINTR
        guard n >= 0 else { throw SystemCallError("read(\"\(path)\")", errno: errno) }
        if n == 0 { return nil }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        hasher.update(chunk)
        return chunk
    }

    /// Read (and hash) the rest of the file.
    func drain() throws { while try next() != nil {} }

    func digest() -> Digest { hasher.finalize() }
}

/// A layer blob as the bytes of its tar: read from the file, inflated when the blob is gzip'd,
/// and hashed as the tar reader takes them, for the diff_id check at the end. A class, so the
/// store can finish reading (and hashing) it after the tar reader is done with it.
final class LayerSource: ByteSource {
    let file: BlobFile
    private let inflater: Gzip.Inflater?
    private var hasher = Digest.Hasher()
    /// A plain tar's chunk not handed out yet.
    private var pending = UnsafeRawBufferPointer(start: nil, count: 0)

    init(file: BlobFile, inflater: Gzip.Inflater?) {
        self.file = file
        self.inflater = inflater
    }

    var remaining: Int? { nil }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try inflater.map { try inflate($0, into: buffer) } ?? copy(into: buffer)
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        return count
    }

    private func inflate(_ inflater: Gzip.Inflater, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = try inflater.inflate(into: buffer)
            if count > 0 || inflater.finished { return count }
            if inflater.needsInput {
                guard let chunk = try file.next() else { throw ImageError.compression(Gzip.Inflater.endsEarly) }
                inflater.give(chunk)
            }
        }
    }

    private func copy(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pending.isEmpty {
            guard let chunk = try file.next() else { return 0 }
            pending = chunk
        }
        let count = min(buffer.count, pending.count)
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: pending[0..<count]))
        pending = UnsafeRawBufferPointer(rebasing: pending[count...])
        return count
    }

    /// Read the rest of the tar (the diff_id covers what follows the end-of-archive blocks too).
    func drain() throws {
        try withUnsafeTemporaryAllocation(byteCount: 64 << 10, alignment: 16) { buffer in
            while try read(into: buffer) > 0 {}
        }
    }

    /// The uncompressed bytes' digest: the diff_id they have.
    func digest() -> Digest { hasher.finalize() }
}

extension ImageStore {
    /// Unpack a layer blob under `applier`'s root as it is read: chunk by chunk from the file,
    /// through zlib and the tar reader, to each file's bytes on disk; memory stays a few
    /// buffers however big the layer is. The blob's digest and size, and the uncompressed
    /// tar's diff_id, are known only at the end, so they are checked then: when they, or
    /// anything before them, fail, what was written under the root is the caller's to remove.
    public func applyLayer(_ layer: Descriptor, diffID: Digest, image: String, with applier: LayerApplier) throws {
        let what = "image \(image) layer \(layer.digest.short)"
        let compressed: Bool
        switch layer.mediaType {
        case MediaType.layerGzip, MediaType.dockerLayerGzip: compressed = true
        case MediaType.layerTar: compressed = false
        case MediaType.layerZstd:
            throw ImageError.unsupported(
                "\(what) is zstd-compressed; this lab reads gzip and plain tar layers (convert it with skopeo copy "
                    + "--dest-compress-format gzip)"
            )
        default:
            throw ImageError.unsupported(
                "\(what) has media type \(layer.mediaType), which is not a layer this lab can read")
        }
        let file: BlobFile
        do { file = try BlobFile(path: blobPath(layer.digest), chunkSize: chunkSize) } catch {
            throw ImageError.missingBlob(layer.digest, what: what)
        }
        let source = LayerSource(file: file, inflater: compressed ? try Gzip.Inflater(limit: layerLimit) : nil)
        var failure: Error?
        do {
            try applier.apply(TarStream(source, chunkSize: chunkSize))
            try source.drain()
        } catch {
            failure = error
        }
        // A blob that does not match its name explains whatever went wrong reading it, so its
        // digest comes first; it costs only reading the rest of the (compressed) file.
        do { try file.drain() } catch { throw failure ?? error }
        let found = file.digest()
        guard found == layer.digest else { throw ImageError.tampered(what: what, expected: layer.digest, found: found) }
        guard file.count == layer.size else {
            throw ImageError.sizeMismatch(what: what, expected: layer.size, found: file.count)
        }
        switch failure {
        case nil: break
        case ImageError.compression(let why)?: throw ImageError.compression("\(what): \(why)")
        case ImageError.badTar(let why)?: throw ImageError.badTar("\(what): \(why)")
        case let error?: throw error
        }
        let diff = source.digest()
        guard diff == diffID else {
            throw ImageError.tampered(
                what: "\(what) (uncompressed, the config's diff_id)", expected: diffID, found: diff)
        }
    }
}
