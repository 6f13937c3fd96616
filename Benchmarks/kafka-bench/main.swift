import Kafka
print(Librdkafka.version)
