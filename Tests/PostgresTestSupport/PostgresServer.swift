// PostgresTestSupport
