import Foundation
import Kafka
#if canImport(Glibc)
import Glibc
#endif

/// Reads a partition's raw record batches and keeps only committed records.
///
/// Tansu's Fetch responses carry an empty aborted-transactions list, so librdkafka's
/// `read_committed` consumer hands out aborted records there. This reader sends its own Fetch
/// (version 4, read_uncommitted) and applies the transaction markers itself: records of a
/// transactional batch are kept when their producer's next control batch is a commit, dropped
/// when it is an abort, and left out while still open. It talks to the first bootstrap broker,
/// which must lead the partition (true of a one-node Tansu).
public struct CommittedLogReader: Sendable {
    /// What reading a partition found.
    public struct Log: Sendable {
        /// Committed records (transactional and not), in offset order.
        public var committed: [KafkaRecord]
        /// Records of aborted transactions.
        public var abortedCount: Int
        /// Records of transactions neither committed nor aborted yet.
        public var openCount: Int
        /// The partition's high watermark when read.
        public var highWatermark: Int64
    }

    let host: String
    let port: Int

    /// A reader for the first broker of a `host:port` list.
    public init(bootstrapServers: String) throws {
        let first = bootstrapServers.split(separator: ",").first.map(String.init) ?? bootstrapServers
        guard let colon = first.lastIndex(of: ":"), let port = Int(first[first.index(after: colon)...]) else {
            throw TestBrokerError("cannot parse broker address \(bootstrapServers)")
        }
        var host = String(first[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        self.host = host
        self.port = port
    }

    /// Reads `partition` of `topic` from its start to its high watermark.
    public func read(topic: String, partition: Int32) throws -> Log {
        let connection = try BrokerConnection(host: host, port: port)
        defer { connection.close() }
        var log = Log(committed: [], abortedCount: 0, openCount: 0, highWatermark: 0)
        var open: [Int64: [KafkaRecord]] = [:]
        var offset: Int64 = 0
        var correlation: Int32 = 0
        while true {
            correlation += 1
            let response = try connection.roundTrip(Self.fetchRequest(topic: topic, partition: partition, offset: offset, correlation: correlation))
            let fetched = try Self.parseFetchResponse(response, correlation: correlation)
            log.highWatermark = fetched.highWatermark
            var decoder = ByteDecoder(fetched.records)
            var progressed = false
            while let batch = try RecordBatch.next(from: &decoder, topic: topic, partition: partition) {
                let next = batch.baseOffset + Int64(batch.lastOffsetDelta) + 1
                guard next > offset else { continue }
                progressed = true
                offset = next
                if batch.isControl {
                    let records = open.removeValue(forKey: batch.producerID) ?? []
                    if batch.controlType == 1 { log.committed.append(contentsOf: records) } else { log.abortedCount += records.count }
                } else if batch.isTransactional {
                    open[batch.producerID, default: []].append(contentsOf: batch.records)
                } else {
                    log.committed.append(contentsOf: batch.records)
                }
            }
            if offset >= fetched.highWatermark { break }
            if !progressed { throw TestBrokerError("fetch at offset \(offset) of \(topic)[\(partition)] returned no complete batch") }
        }
        log.openCount = open.values.reduce(0) { $0 + $1.count }
        log.committed.sort { $0.offset < $1.offset }
        return log
    }

    static func fetchRequest(topic: String, partition: Int32, offset: Int64, correlation: Int32) -> [UInt8] {
        var body = ByteEncoder()
        body.int16(1)  // api key: Fetch
        body.int16(4)  // api version
        body.int32(correlation)
        body.string("committed-log-reader")
        body.int32(-1)  // replica id
        body.int32(100)  // max wait ms
        body.int32(1)  // min bytes
        body.int32(16 << 20)  // max bytes
        body.int8(0)  // read_uncommitted: everything up to the high watermark, markers included
        body.int32(1)
        body.string(topic)
        body.int32(1)
        body.int32(partition)
        body.int64(offset)
        body.int32(8 << 20)  // partition max bytes
        var framed = ByteEncoder()
        framed.int32(Int32(body.bytes.count))
        return framed.bytes + body.bytes
    }

    static func parseFetchResponse(_ bytes: [UInt8], correlation: Int32) throws -> (highWatermark: Int64, records: ArraySlice<UInt8>) {
        var decoder = ByteDecoder(bytes[...])
        guard try decoder.int32() == correlation else { throw TestBrokerError("fetch: correlation id mismatch") }
        _ = try decoder.int32()  // throttle
        guard try decoder.int32() == 1 else { throw TestBrokerError("fetch: expected one topic") }
        _ = try decoder.string()
        guard try decoder.int32() == 1 else { throw TestBrokerError("fetch: expected one partition") }
        _ = try decoder.int32()
        let errorCode = try decoder.int16()
        guard errorCode == 0 else { throw TestBrokerError("fetch: partition error \(errorCode)") }
        let highWatermark = try decoder.int64()
        _ = try decoder.int64()  // last stable offset
        let aborted = try decoder.int32()
        for _ in 0..<max(0, aborted) {
            _ = try decoder.int64()
            _ = try decoder.int64()
        }
        let size = try decoder.int32()
        let records = size > 0 ? try decoder.bytes(Int(size)) : []
        return (highWatermark, records)
    }
}

/// One record batch (magic 2) of a Fetch response.
struct RecordBatch {
    var baseOffset: Int64
    var lastOffsetDelta: Int32
    var producerID: Int64
    var isTransactional: Bool
    var isControl: Bool
    var controlType: Int16
    var records: [KafkaRecord]

    /// The next whole batch, or nil at the end (a truncated last batch counts as the end).
    static func next(from decoder: inout ByteDecoder, topic: String, partition: Int32) throws -> RecordBatch? {
        guard decoder.remaining >= 12 else { return nil }
        let baseOffset = try decoder.int64()
        let length = try decoder.int32()
        guard length > 0, decoder.remaining >= Int(length) else { return nil }
        var batch = ByteDecoder(try decoder.bytes(Int(length)))
        _ = try batch.int32()  // partition leader epoch
        let magic = try batch.int8()
        guard magic == 2 else { throw TestBrokerError("record batch magic \(magic) is not supported") }
        _ = try batch.int32()  // crc
        let attributes = try batch.int16()
        guard attributes & 0x7 == 0 else { throw TestBrokerError("compressed record batches are not supported") }
        let lastOffsetDelta = try batch.int32()
        let baseTimestamp = try batch.int64()
        _ = try batch.int64()  // max timestamp
        let producerID = try batch.int64()
        _ = try batch.int16()  // producer epoch
        _ = try batch.int32()  // base sequence
        let count = try batch.int32()
        var result = RecordBatch(
            baseOffset: baseOffset, lastOffsetDelta: lastOffsetDelta, producerID: producerID,
            isTransactional: attributes & 0x10 != 0, isControl: attributes & 0x20 != 0, controlType: -1, records: []
        )
        for _ in 0..<max(0, count) {
            _ = try batch.varint()  // record length
            _ = try batch.int8()  // attributes
            let timestampDelta = try batch.varint()
            let offsetDelta = try batch.varint()
            let key = try batch.nullableBytes()
            let value = try batch.nullableBytes()
            var headers: [KafkaHeader] = []
            for _ in 0..<max(0, try batch.varint()) {
                let name = String(decoding: try batch.nullableBytes() ?? [], as: UTF8.self)
                headers.append(KafkaHeader(name: name, value: try batch.nullableBytes()))
            }
            if result.isControl {
                var keyDecoder = ByteDecoder((key ?? [])[...])
                _ = try keyDecoder.int16()  // version
                result.controlType = try keyDecoder.int16()
                continue
            }
            result.records.append(
                KafkaRecord(
                    topic: topic, partition: partition, offset: baseOffset + offsetDelta,
                    key: key, value: value, headers: headers, timestampMilliseconds: baseTimestamp + timestampDelta
                )
            )
        }
        return result
    }
}

/// A blocking TCP connection speaking Kafka's size-prefixed frames.
struct BrokerConnection {
    let fd: Int32

    init(host: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestBrokerError("socket() failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = FreePort.loopback(port: port)
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw TestBrokerError("cannot connect to \(host):\(port)")
        }
    }

    func roundTrip(_ request: [UInt8]) throws -> [UInt8] {
        try request.withUnsafeBytes { buffer in
            var sent = 0
            while sent < buffer.count {
                let n = send(fd, buffer.baseAddress?.advanced(by: sent), buffer.count - sent, 0)
                guard n > 0 else { throw TestBrokerError("send failed") }
                sent += n
            }
        }
        var sizeDecoder = ByteDecoder(try receive(4)[...])
        return try receive(Int(try sizeDecoder.int32()))
    }

    private func receive(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress?.advanced(by: received), count - received, 0) }
            guard n > 0 else { throw TestBrokerError("connection closed or timed out while reading") }
            received += n
        }
        return bytes
    }

    func close() { Glibc.close(fd) }
}

/// Big-endian and varint encoding of Kafka's protocol.
struct ByteEncoder {
    var bytes: [UInt8] = []
    mutating func int8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    mutating func int16(_ value: Int16) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func int32(_ value: Int32) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func int64(_ value: Int64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func string(_ value: String) {
        int16(Int16(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }
}

/// Big-endian and varint decoding of Kafka's protocol.
struct ByteDecoder {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var remaining: Int { bytes.count }

    mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count >= count else { throw TestBrokerError("truncated response") }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let raw = try bytes(MemoryLayout<T>.size)
        return raw.reduce(T.zero) { ($0 << 8) | T(truncatingIfNeeded: $1) }
    }

    mutating func int8() throws -> Int8 { Int8(bitPattern: try integer(UInt8.self)) }
    mutating func int16() throws -> Int16 { Int16(bitPattern: try integer(UInt16.self)) }
    mutating func int32() throws -> Int32 { Int32(bitPattern: try integer(UInt32.self)) }
    mutating func int64() throws -> Int64 { Int64(bitPattern: try integer(UInt64.self)) }

    mutating func string() throws -> String {
        let length = try int16()
        return length < 0 ? "" : String(decoding: try bytes(Int(length)), as: UTF8.self)
    }

    /// A zigzag varint, as record fields use.
    mutating func varint() throws -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try integer(UInt8.self)
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            guard shift < 64 else { throw TestBrokerError("varint too long") }
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    /// Varint-length bytes; length -1 is null.
    mutating func nullableBytes() throws -> [UInt8]? {
        let length = try varint()
        return length < 0 ? nil : Array(try bytes(Int(length)))
    }
}
