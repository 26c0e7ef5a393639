import Foundation
import Autoencoders
import Testing

@Suite struct ScheduleTests {
    @Test func linearWarmUpRisesThenHolds() {
        let schedule = KLSchedule.linear(steps: 100)
        #expect(schedule.weight(step: 0, totalSteps: 400, beta: 2) == 0)
        #expect(abs(schedule.weight(step: 25, totalSteps: 400, beta: 2) - 0.5) < 1e-12)
        #expect(schedule.weight(step: 100, totalSteps: 400, beta: 2) == 2)
        #expect(schedule.weight(step: 5000, totalSteps: 400, beta: 2) == 2)
    }

    @Test func cyclicalRisesInEachCycleThenHolds() {
        // 4 cycles over 400 steps, rising over the first half of each
        let schedule = KLSchedule.cyclical(cycles: 4, ratio: 0.5)
        #expect(schedule.weight(step: 0, totalSteps: 400, beta: 1) == 0)
        #expect(abs(schedule.weight(step: 25, totalSteps: 400, beta: 1) - 0.5) < 1e-12)
        #expect(schedule.weight(step: 50, totalSteps: 400, beta: 1) == 1)
        #expect(schedule.weight(step: 99, totalSteps: 400, beta: 1) == 1)
        #expect(schedule.weight(step: 100, totalSteps: 400, beta: 1) == 0)
        #expect(abs(schedule.weight(step: 125, totalSteps: 400, beta: 1) - 0.5) < 1e-12)
        #expect(schedule.weight(step: 399, totalSteps: 400, beta: 1) == 1)
    }

    /// The cycles follow the run's length: the same step of a run twice as long is half as far into its cycle.
    @Test func cyclicalStretchesWithTheRun() {
        let schedule = KLSchedule.cyclical(cycles: 2, ratio: 1)
        #expect(schedule.weight(step: 50, totalSteps: 200, beta: 1) == 0.5)
        #expect(schedule.weight(step: 50, totalSteps: 400, beta: 1) == 0.25)
    }

    /// A config written before the cycles took the trainer's length (with its frozen `totalSteps`) still reads.
    @Test func anOlderCyclicalScheduleStillDecodes() throws {
        let old = #"{"cyclical":{"cycles":4,"ratio":0.5,"totalSteps":800}}"#
        #expect(try JSONDecoder().decode(KLSchedule.self, from: Data(old.utf8)) == .cyclical(cycles: 4, ratio: 0.5))
    }

    @Test func parsesSchedulesAndRejectsNonsense() throws {
        #expect(try KLSchedule(parsing: "none") == .constant)
        #expect(try KLSchedule(parsing: "linear:500") == .linear(steps: 500))
        #expect(try KLSchedule(parsing: "cyclical:4:0.5") == .cyclical(cycles: 4, ratio: 0.5))
        for bad in ["linear", "linear:-3", "cyclical:0:0.5", "cyclical:4:1.5", "sometimes"] {
            #expect(throws: ScheduleError.self) { try KLSchedule(parsing: bad) }
        }
        #expect(try LearningRateSchedule(parsing: "cosine") == .cosine(minimum: 0))
        #expect(try LearningRateSchedule(parsing: "step:10:0.5") == .step(every: 10, gamma: 0.5))
        #expect(throws: ScheduleError.self) { try LearningRateSchedule(parsing: "step:0:0.5") }
    }

    @Test func capacityRisesToItsMaximum() {
        let capacity = CapacitySchedule(maximum: 25, steps: 1000, gamma: 100)
        #expect(capacity.capacity(step: 0) == 0)
        #expect(capacity.capacity(step: 500) == 12.5)
        #expect(capacity.capacity(step: 2000) == 25)
    }

    @Test func learningRateSchedules() {
        #expect(LearningRateSchedule.constant.rate(base: 0.1, step: 50, totalSteps: 100, epoch: 3) == 0.1)
        #expect(abs(LearningRateSchedule.step(every: 2, gamma: 0.5).rate(base: 0.1, step: 0, totalSteps: 100, epoch: 5) - 0.025) < 1e-15)
        let cosine = LearningRateSchedule.cosine(minimum: 0.01)
        #expect(cosine.rate(base: 0.1, step: 0, totalSteps: 101, epoch: 0) == 0.1)
        #expect(abs(cosine.rate(base: 0.1, step: 50, totalSteps: 101, epoch: 0) - 0.055) < 1e-12)
        #expect(abs(cosine.rate(base: 0.1, step: 100, totalSteps: 101, epoch: 0) - 0.01) < 1e-12)
    }
}
