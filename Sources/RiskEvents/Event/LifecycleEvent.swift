import ScoringAPI

/// An account lifecycle event read from the input topic and validated (schemas/lifecycle-event.schema.json).
public struct LifecycleEvent: Sendable, Hashable {
    /// The largest record value accepted, in bytes (64 KiB); larger values give `too-large`.
    public static let maximumSize = 64 * 1024
    /// The longest `externalId` accepted, in Unicode code points (as JSON Schema's `maxLength` counts).
    public static let maximumExternalIdLength = 128

    /// The caller's id for this event: the idempotency key (1 to 128 code points).
    public var externalId: String
    /// What happened to the account.
    public var accountLifecycleEvent: AccountLifecycleEvent
    /// The phone number, normalised to E.164 (`+` and digits).
    public var phoneNumber: PhoneNumber
    /// The phone number exactly as it was sent, before normalisation.
    public var originalPhoneNumber: String
    /// The account's id, when sent.
    public var accountId: String?
    /// The device's id, when sent.
    public var deviceId: String?
    /// The e-mail address, when sent (checked loosely: `local@domain`).
    public var emailAddress: String?
    /// The originating IP address, when sent (an IPv4 dotted quad or an IPv6 address).
    public var originatingIp: String?
    /// When the event happened, an RFC 3339 date-time string exactly as sent.
    public var occurredAt: String?

    /// Creates an event from already validated parts.
    public init(
        externalId: String,
        accountLifecycleEvent: AccountLifecycleEvent,
        phoneNumber: PhoneNumber,
        originalPhoneNumber: String? = nil,
        accountId: String? = nil,
        deviceId: String? = nil,
        emailAddress: String? = nil,
        originatingIp: String? = nil,
        occurredAt: String? = nil
    ) {
        self.externalId = externalId
        self.accountLifecycleEvent = accountLifecycleEvent
        self.phoneNumber = phoneNumber
        self.originalPhoneNumber = originalPhoneNumber ?? phoneNumber.e164
        self.accountId = accountId
        self.deviceId = deviceId
        self.emailAddress = emailAddress
        self.originatingIp = originatingIp
        self.occurredAt = occurredAt
    }

    /// The names of the fields an event has; other members are ignored.
    public static let fieldNames: Set<String> = [
        "externalId", "accountLifecycleEvent", "phoneNumber",
        "accountId", "deviceId", "emailAddress", "originatingIp", "occurredAt",
    ]

    /// Decodes and validates a record value; a nil value (a tombstone) is `invalid-json`. Never traps on any input.
    public static func decode(value: [UInt8]?) throws(ValidationError) -> LifecycleEvent {
        guard let value else { throw .invalidJSON("the record has no value (null)") }
        return try decode(value)
    }

    /// Decodes and validates a record value (the bytes are only read). Never traps on any input: the result is an
    /// event or a ``ValidationError`` whose `code` names the first problem found, checked in this order: size, UTF-8,
    /// JSON, object, then the fields in the order externalId, accountLifecycleEvent, phoneNumber, accountId, deviceId,
    /// emailAddress, originatingIp, occurredAt.
    public static func decode(_ bytes: [UInt8]) throws(ValidationError) -> LifecycleEvent {
        guard bytes.count <= maximumSize else { throw .tooLarge(size: bytes.count, limit: maximumSize) }
        guard JSONTokens.isValidUTF8(bytes) else { throw .invalidUTF8 }
        let members: [String: EventJSONReader.Member]
        do {
            switch try EventJSONReader.read(bytes, keeping: fieldNames) {
            case .object(let kept): members = kept
            case .notAnObject(let kind): throw ValidationError.notAnObject(found: kind.rawValue)
            }
        } catch let error as EventJSONReader.Failure {
            throw .invalidJSON("\(error.reason) at byte \(error.offset)")
        } catch let error as ValidationError {
            throw error
        } catch {
            throw .invalidJSON("\(error)")
        }
        return try validate(members)
    }

    private static func validate(_ members: [String: EventJSONReader.Member]) throws(ValidationError) -> LifecycleEvent {
        let externalId = try required("externalId", in: members)
        guard (1...maximumExternalIdLength).contains(externalId.unicodeScalars.count) else {
            throw .invalidValue(
                code: "invalid-external-id",
                "externalId must have 1 to \(maximumExternalIdLength) characters, it has \(externalId.unicodeScalars.count)"
            )
        }

        let eventName = try required("accountLifecycleEvent", in: members)
        // Compared byte for byte: String equality would also accept canonically equivalent spellings.
        guard let event = AccountLifecycleEvent.allCases.first(where: { $0.rawValue.utf8.elementsEqual(eventName.utf8) }) else {
            let allowed = AccountLifecycleEvent.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalidValue(
                code: "invalid-lifecycle-event",
                "accountLifecycleEvent must be one of \(allowed), found \"\(excerpt(eventName))\""
            )
        }

        let phoneText = try required("phoneNumber", in: members)
        let phoneNumber: PhoneNumber
        do {
            phoneNumber = try PhoneNumber(phoneText)
        } catch {
            throw .invalidValue(code: "invalid-phone-number", "phoneNumber is not an E.164 number: \(error)")
        }

        let accountId = try optional("accountId", in: members)
        let deviceId = try optional("deviceId", in: members)

        let emailAddress = try optional("emailAddress", in: members)
        if let emailAddress, !EventFieldRules.isEmailAddress(emailAddress) {
            throw .invalidValue(code: "invalid-email-address", "emailAddress must look like local@domain, without spaces or control characters")
        }

        let originatingIp = try optional("originatingIp", in: members)
        if let originatingIp, !EventFieldRules.isIPAddress(originatingIp) {
            throw .invalidValue(code: "invalid-originating-ip", "originatingIp must be an IPv4 or IPv6 address, found \"\(excerpt(originatingIp))\"")
        }

        let occurredAt = try optional("occurredAt", in: members)
        if let occurredAt, !EventFieldRules.isRFC3339DateTime(occurredAt) {
            throw .invalidValue(code: "invalid-occurred-at", "occurredAt must be an RFC 3339 date-time, found \"\(excerpt(occurredAt))\"")
        }

        return LifecycleEvent(
            externalId: externalId,
            accountLifecycleEvent: event,
            phoneNumber: phoneNumber,
            originalPhoneNumber: phoneText,
            accountId: accountId,
            deviceId: deviceId,
            emailAddress: emailAddress,
            originatingIp: originatingIp,
            occurredAt: occurredAt
        )
    }

    private static func required(_ name: String, in members: [String: EventJSONReader.Member]) throws(ValidationError) -> String {
        switch members[name] {
        case .string(let value): return value
        case .none, .null: throw .missingField(name)
        case .other(let kind): throw .invalidType(name, expected: "a string", found: kind.rawValue)
        }
    }

    private static func optional(_ name: String, in members: [String: EventJSONReader.Member]) throws(ValidationError) -> String? {
        switch members[name] {
        case .string(let value): return value
        case .none, .null: return nil
        case .other(let kind): throw .invalidType(name, expected: "a string or null", found: kind.rawValue)
        }
    }

    /// At most 40 characters of an input value, for messages.
    private static func excerpt(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(40)) + "…"
    }
}
