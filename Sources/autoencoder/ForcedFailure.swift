/// A test aid: makes one rank of a training job fail at the end of one epoch, as a device fault or a bad file
/// would, so that tests can check that a failing rank ends the whole job and leaves rank 0's last checkpoint
/// intact. `AUTOENCODERKIT_FAIL_RANK=R` and `AUTOENCODERKIT_FAIL_EPOCH=E` (both needed) make rank R throw
/// ``RunError/forcedFailure(rank:epoch:)`` once epoch E has finished; unset, nothing happens.
struct ForcedFailure {
    static let rankVariable = "AUTOENCODERKIT_FAIL_RANK"
    static let epochVariable = "AUTOENCODERKIT_FAIL_EPOCH"

    let rank: Int
    let epoch: Int

    /// The failure `environment` asks for, or nil when either variable is unset or not an integer.
    init?(environment: [String: String]) {
        guard let rank = environment[Self.rankVariable].flatMap({ Int($0) }),
              let epoch = environment[Self.epochVariable].flatMap({ Int($0) }) else { return nil }
        self.rank = rank
        self.epoch = epoch
    }

    /// Throws when this is the rank and the epoch asked for.
    func check(rank: Int, epoch: Int) throws {
        if rank == self.rank && epoch == self.epoch { throw RunError.forcedFailure(rank: rank, epoch: epoch) }
    }
}
