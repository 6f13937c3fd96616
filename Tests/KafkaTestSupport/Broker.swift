// KafkaTestSupport
