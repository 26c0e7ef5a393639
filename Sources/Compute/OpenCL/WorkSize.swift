/// Up to three work sizes (global or local) of a kernel launch, stored inline: written as an array literal, without
/// allocating an array.
struct WorkSize: ExpressibleByArrayLiteral, Equatable {
    private var sizes: (Int, Int, Int) = (1, 1, 1)
    /// Dimensions in use, 1 to 3.
    let count: Int

    init(arrayLiteral elements: Int...) {
        precondition((1...3).contains(elements.count), "1 to 3 work dimensions")
        count = elements.count
        for (d, size) in elements.enumerated() { self[d] = size }
    }

    subscript(_ d: Int) -> Int {
        get { d == 0 ? sizes.0 : d == 1 ? sizes.1 : sizes.2 }
        set {
            switch d {
            case 0: sizes.0 = newValue
            case 1: sizes.1 = newValue
            default: sizes.2 = newValue
            }
        }
    }

    /// The product of the sizes in use: the work items of a local size.
    var elementCount: Int { (0..<count).reduce(1) { $0 * self[$1] } }

    /// Calls `body` with the sizes as contiguous `size_t` values (the first ``count`` of them are in use).
    func withSizes<Result>(_ body: (UnsafePointer<Int>) -> Result) -> Result {
        withUnsafeBytes(of: sizes) { body($0.baseAddress!.assumingMemoryBound(to: Int.self)) }
    }

    static func == (a: WorkSize, b: WorkSize) -> Bool {
        a.count == b.count && (0..<a.count).allSatisfy { a[$0] == b[$0] }
    }
}
