import OxpeckerProtocol

/// The add-wins set rule, pure (an observed-remove set): every add is tagged
/// with its timestamp; a remove names the add tags it saw. An element is in the
/// set while one of its adds has not been removed, so an add made concurrently
/// with a remove (one the remove did not see) survives it: add wins.
///
/// The state is a function of the set of operations merged, whatever their
/// order or repetition: commutative, associative, idempotent.
public struct AddWinsSet: Sendable, Hashable {
    /// Per element, its add tags and whether each was removed.
    public private(set) var tags: [String: [HybridTimestamp: Bool]] = [:]

    public init() {}

    /// Records an add of `element` tagged `tag`.
    public mutating func add(_ element: String, tag: HybridTimestamp) {
        if tags[element, default: [:]][tag] == nil {
            tags[element, default: [:]][tag] = false
        }
    }

    /// Records a remove of `element` that saw the adds `observed`.
    public mutating func remove(_ element: String, observed: [HybridTimestamp]) {
        for tag in observed {
            tags[element, default: [:]][tag] = true
        }
    }

    /// Takes in every operation of another set.
    public mutating func merge(_ other: AddWinsSet) {
        for (element, otherTags) in other.tags {
            for (tag, removed) in otherTags {
                let mine = tags[element, default: [:]][tag] ?? false
                tags[element, default: [:]][tag] = mine || removed
            }
        }
    }

    /// The elements in the set, sorted.
    public var elements: [String] {
        tags.filter { $0.value.values.contains(false) }.keys.sorted()
    }

    /// The add tags of `element` not yet removed: what a local remove must name.
    public func liveTags(of element: String) -> [HybridTimestamp] {
        (tags[element] ?? [:]).filter { !$0.value }.keys.sorted()
    }
}
