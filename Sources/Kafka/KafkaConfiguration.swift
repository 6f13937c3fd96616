import Crdkafka
import Foundation

/// librdkafka settings for one client: typed common ones, and any property by its librdkafka name.
public struct KafkaConfiguration: Sendable, Equatable {
    /// Every property as librdkafka names it, such as `bootstrap.servers`.
    public var properties: [String: String]

    /// Settings with the given brokers and any extra librdkafka properties.
    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.properties = properties
        self.bootstrapServers = bootstrapServers
    }

    /// A librdkafka property by name; nil removes it.
    public subscript(property: String) -> String? {
        get { properties[property] }
        set { properties[property] = newValue }
    }

    /// `bootstrap.servers`: comma-separated `host:port` list.
    public var bootstrapServers: String {
        get { properties["bootstrap.servers"] ?? "" }
        set { properties["bootstrap.servers"] = newValue }
    }

    /// `client.id`, shown in broker logs and metrics.
    public var clientID: String? {
        get { properties["client.id"] }
        set { properties["client.id"] = newValue }
    }

    /// `group.id` of a consumer.
    public var groupID: String? {
        get { properties["group.id"] }
        set { properties["group.id"] = newValue }
    }

    /// `group.instance.id`: static membership, so that a restart within the session timeout does not rebalance.
    public var groupInstanceID: String? {
        get { properties["group.instance.id"] }
        set { properties["group.instance.id"] = newValue }
    }

    /// `transactional.id` of a transactional producer.
    public var transactionalID: String? {
        get { properties["transactional.id"] }
        set { properties["transactional.id"] = newValue }
    }

    /// Sets several properties at once, later values winning.
    public mutating func merge(_ other: [String: String]) {
        properties.merge(other) { _, new in new }
    }

    /// Parses `k=v,k=v` (as in the `KAFKA_PROPERTIES` setting) into properties.
    public static func parseProperties(_ text: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "="), equals != trimmed.startIndex else {
                throw KafkaError.binding("property '\(trimmed)' is not of the form name=value", code: RD_KAFKA_RESP_ERR__INVALID_ARG)
            }
            let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            result[name] = value
        }
        return result
    }

    /// Checks every property with librdkafka without creating a client.
    public func validate() throws {
        let conf = try makeNativeConfiguration()
        rd_kafka_conf_destroy(conf)
    }

    /// A new `rd_kafka_conf_t` holding these properties; the caller owns it.
    func makeNativeConfiguration() throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError.binding("rd_kafka_conf_new failed")
        }
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            var errstr = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let message = NativeClient.string(errstr)
                throw KafkaError(
                    code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                    message: message.isEmpty ? "invalid configuration property \"\(name)\"" : message
                )
            }
        }
        return conf
    }
}
