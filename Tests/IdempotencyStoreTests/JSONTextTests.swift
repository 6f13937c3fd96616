import Foundation
import Testing
@testable import IdempotencyStore

/// The hand-written JSON texts read the same as JSON, and through SQLite's `json_each`.
@Suite struct JSONTextTests {
    static let awkward = ["plain", "quote\"d", "back\\slash", "tab\tnew\nline\u{1}", "ünïcødé 📞", ""]

    @Test func anArrayOfStringsDecodesToTheSameStrings() throws {
        let decoded = try JSONDecoder().decode([String].self, from: Data(JSONText.array(Self.awkward).utf8))
        #expect(decoded == Self.awkward)
        #expect(JSONText.array([]) == "[]")
    }

    @Test func claimRowsCarryTheirPositionsOrOnlyTheId() throws {
        let text = JSONText.claimRows([
            ClaimRequest(externalId: "a\"b", position: InputPosition(topic: "events", partition: 3, offset: 9_000_000_000)),
            ClaimRequest(externalId: "c"),
        ])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[Any]])
        #expect(rows.count == 2)
        #expect(rows[0][0] as? String == "a\"b" && rows[0][1] as? String == "events")
        #expect((rows[0][2] as? NSNumber)?.intValue == 3 && (rows[0][3] as? NSNumber)?.int64Value == 9_000_000_000)
        #expect(rows[1].count == 1 && rows[1][0] as? String == "c")
    }

    @Test func awkwardIdsAreClaimedAndMarkedThroughSQLite() async throws {
        try await StoreKind.sqlite.withStore(now: { Date() }) { store in
            let position = InputPosition(topic: "ev\"ents", partition: 1, offset: 2)
            let claimed = try await store.claim(Self.awkward.map { ClaimRequest(externalId: $0, position: position) }, owner: "o", lease: .seconds(30))
            #expect(Set(claimed.keys) == Set(Self.awkward))
            #expect(claimed.values.allSatisfy { $0.claimPosition == position })
            try await store.markEmitted(externalIds: Self.awkward)
            #expect(try await store.lookup(externalIds: Self.awkward).values.allSatisfy(\.emitted))
        }
    }
}
