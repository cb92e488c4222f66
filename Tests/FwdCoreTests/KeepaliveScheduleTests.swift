import Testing

@testable import FwdCore

@Suite struct KeepaliveScheduleTests {
  /// Walks a schedule against a server that never replies: keepalives at 15 and 30 s of
  /// silence, loss at 45 s, with the waits in between.
  @Test func silentServerIsLostAfterCountIntervals() {
    var schedule = KeepaliveSchedule(intervalSeconds: 15, countMax: 3)
    let received: UInt64 = 100_000
    #expect(schedule.decide(now: received, lastReceive: received) == .wait(15_000))
    #expect(schedule.decide(now: received + 15_000, lastReceive: received) == .send)
    schedule.noteSent(at: received + 15_000)
    #expect(schedule.decide(now: received + 20_000, lastReceive: received) == .wait(10_000))
    #expect(schedule.decide(now: received + 30_000, lastReceive: received) == .send)
    schedule.noteSent(at: received + 30_000)
    #expect(schedule.decide(now: received + 40_000, lastReceive: received) == .wait(5_000))
    #expect(schedule.decide(now: received + 45_000, lastReceive: received) == .lost(silence: 45_000))
  }

  /// Traffic from the server starts the count again.
  @Test func answerResetsTheCount() {
    var schedule = KeepaliveSchedule(intervalSeconds: 15, countMax: 3)
    schedule.noteSent(at: 15_000)
    schedule.noteSent(at: 30_000)
    #expect(schedule.decide(now: 44_000, lastReceive: 30_050) == .wait(1_050))
    #expect(schedule.decide(now: 60_000, lastReceive: 30_050) == .send)
  }

  /// With ServerAliveCountMax 1 the single keepalive gets 1 s for its reply, so an idle but
  /// healthy server is not dropped the moment the first keepalive goes out.
  @Test func singleKeepaliveGetsTimeForItsAnswer() {
    var schedule = KeepaliveSchedule(intervalSeconds: 60, countMax: 1)
    #expect(schedule.lossAfter == 61_000)
    #expect(schedule.decide(now: 60_000, lastReceive: 0) == .send)
    schedule.noteSent(at: 60_000)
    #expect(schedule.decide(now: 60_200, lastReceive: 0) == .wait(800))
    #expect(schedule.decide(now: 60_300, lastReceive: 60_250) == .wait(60_000 - 50))
    #expect(schedule.decide(now: 61_000, lastReceive: 0) == .lost(silence: 61_000))
  }

  /// A 1 s interval, the tightest ssh allows, stays within interval x count + 2 s.
  @Test func shortIntervalBounds() {
    let three = KeepaliveSchedule(intervalSeconds: 1, countMax: 3)
    #expect(three.lossAfter == 3_000)
    let one = KeepaliveSchedule(intervalSeconds: 1, countMax: 1)
    #expect(one.lossAfter == 2_000)
  }

  /// Values below 1 from the configuration are raised to 1 rather than firing at once.
  @Test func zeroValuesAreRaised() {
    let schedule = KeepaliveSchedule(intervalSeconds: 0, countMax: 0)
    #expect(schedule.interval == 1_000)
    #expect(schedule.countMax == 1)
  }

  /// A receive time ahead of the clock reading (another thread stamped it) is no silence.
  @Test func receiveAfterNowIsNoSilence() {
    let schedule = KeepaliveSchedule(intervalSeconds: 5, countMax: 2)
    #expect(schedule.decide(now: 1_000, lastReceive: 1_010) == .wait(5_010))
  }
}
