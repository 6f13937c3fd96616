import Crdkafka

/// The librdkafka library loaded at run time.
public enum Librdkafka {
    /// The loaded librdkafka's version string, such as "2.8.0".
    public static var version: String { String(cString: rd_kafka_version_str()) }
}
