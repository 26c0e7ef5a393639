/// A value kept behind one reference: a layer holds its prepared buffers in one, so reading them in every pass
/// retains a single object instead of each buffer of a copied struct. Members read through, as `p.weight`.
@dynamicMemberLookup
final class Reference<Value> {
    let value: Value

    init(_ value: Value) { self.value = value }

    subscript<Member>(dynamicMember member: KeyPath<Value, Member>) -> Member { value[keyPath: member] }
}
