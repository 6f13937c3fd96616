import Kafka
import Testing
@testable import RiskPipeline

@Suite struct ClaimLedgerTests {
    static let p0 = TopicPartition(topic: "in", partition: 0)
    static let p1 = TopicPartition(topic: "in", partition: 1)

    static func holding(_ id: String, _ work: UInt64, _ partition: TopicPartition = p0) -> ClaimHolding {
        ClaimHolding(externalId: id, work: work, partition: partition)
    }

    @Test func aClaimHeldByTwoRecordsEndsWithTheLast() {
        var ledger = ClaimLedger()
        ledger.hold(Self.holding("a", 1))
        ledger.hold(Self.holding("a", 2, Self.p1))
        #expect(ledger.finish([(Self.holding("a", 1), .none)]).isEmpty)
        #expect(ledger.isHeld("a"))
        #expect(ledger.finish([(Self.holding("a", 2, Self.p1), .none)]) == ClaimLedger.Ending(released: ["a"]))
        #expect(!ledger.isHeld("a") && ledger.heldIDs.isEmpty)
    }

    @Test func eachOutcomeEndsTheClaimItsOwnWay() {
        var ledger = ClaimLedger()
        for (id, work) in [("emitted", 1), ("dead", 2), ("nothing", 3)] as [(String, UInt64)] { ledger.hold(Self.holding(id, work)) }
        let ending = ledger.finish([
            (Self.holding("emitted", 1), .emitted), (Self.holding("dead", 2), .deadLettered), (Self.holding("nothing", 3), .none),
        ])
        // Marking an id emitted ends its claim in the store: nothing more to say of it.
        #expect(ending == ClaimLedger.Ending(deadLettered: ["dead"], released: ["nothing"]))
    }

    @Test func aScoredEventWinsOverADeadLetterOfTheSameId() {
        var ledger = ClaimLedger()
        ledger.hold(Self.holding("a", 1))
        ledger.hold(Self.holding("a", 2))
        #expect(ledger.finish([(Self.holding("a", 1), .deadLettered)]).isEmpty)
        #expect(ledger.finish([(Self.holding("a", 2), .emitted)]).isEmpty)
    }

    @Test func anUnknownOrRepeatedFinishChangesNothing() {
        var ledger = ClaimLedger()
        ledger.hold(Self.holding("a", 1))
        #expect(ledger.finish([(Self.holding("a", 9), .none), (Self.holding("b", 1), .none)]).isEmpty)
        #expect(ledger.finish([(Self.holding("a", 1), .none)]) == ClaimLedger.Ending(released: ["a"]))
        #expect(ledger.finish([(Self.holding("a", 1), .none)]).isEmpty)
    }

    @Test func aRevocationReleasesOnlyClaimsHeldSolelyOnItsPartitions() {
        var ledger = ClaimLedger()
        ledger.hold(Self.holding("only-p0", 1))
        ledger.hold(Self.holding("both", 2))
        ledger.hold(Self.holding("both", 3, Self.p1))
        ledger.hold(Self.holding("only-p1", 4, Self.p1))
        #expect(ledger.abandon([Self.p0]) == ClaimLedger.Ending(released: ["only-p0"]))
        #expect(Set(ledger.heldIDs) == ["both", "only-p1"])
        #expect(ledger.finish([(Self.holding("both", 3, Self.p1), .none)]) == ClaimLedger.Ending(released: ["both"]))
    }

    @Test func theSessionsEndReleasesEverythingButKeepsDeadLetters() {
        var ledger = ClaimLedger()
        ledger.hold(Self.holding("a", 1))
        ledger.hold(Self.holding("b", 2))
        ledger.hold(Self.holding("b", 3))
        _ = ledger.finish([(Self.holding("b", 2), .deadLettered)])
        let ending = ledger.abandonAll()
        #expect(ending.released == ["a"] && ending.deadLettered == ["b"])
        #expect(ledger.heldIDs.isEmpty)
    }

    @Test func lostClaimsAreForgottenWithoutAnEnding() {
        var ledger = ClaimLedger()
        ledger.hold(Self.holding("a", 1))
        ledger.lost(["a"])
        #expect(!ledger.isHeld("a"))
        #expect(ledger.finish([(Self.holding("a", 1), .none)]).isEmpty)
        #expect(ledger.abandonAll().isEmpty)
    }
}
