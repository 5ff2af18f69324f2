import OxpeckerProtocol

/// The add-wins set rule, pure (an observed-remove set): every add is tagged
/// with its timestamp; a remove names the add tags it saw. An element is in the
/// set while one of its adds has not been removed, so an add made concurrently
/// with a remove (one the remove did not see) survives it: add wins.
///
/// A removal is remembered even for an add not seen yet, and of two removals of
/// one tag the earliest stamp is kept, so the state is a function of the set of
/// operations merged, whatever their order or repetition: commutative,
/// associative, idempotent.
public struct AddWinsSet: Sendable, Hashable {
    /// One add tag of an element: whether, and since which removal, it is removed.
    public struct Tag: Sendable, Hashable {
        /// The stamp of the earliest removal that named this tag; nil while it stands.
        public var removed: HybridTimestamp?

        public init(removed: HybridTimestamp? = nil) { self.removed = removed }
    }

    /// Per element, its add tags.
    public private(set) var tags: [String: [HybridTimestamp: Tag]] = [:]

    public init() {}

    /// Puts back a tag as it was stored (for loading a state), whatever is known of it.
    public mutating func restore(_ element: String, tag: HybridTimestamp, removed: HybridTimestamp?) {
        tags[element, default: [:]][tag] = Tag(removed: removed)
    }

    /// Records an add of `element` tagged `tag`; returns whether the tag was new.
    @discardableResult
    public mutating func add(_ element: String, tag: HybridTimestamp) -> Bool {
        guard tags[element]?[tag] == nil else { return false }
        tags[element, default: [:]][tag] = Tag()
        return true
    }

    /// Records a remove of `element`, stamped `stamp`, that saw the adds `observed`;
    /// returns the tags whose stored removal changed.
    @discardableResult
    public mutating func remove(_ element: String, observed: [HybridTimestamp], at stamp: HybridTimestamp) -> [HybridTimestamp] {
        var changed: [HybridTimestamp] = []
        for tag in observed {
            let current = tags[element]?[tag]
            if let removed = current?.removed, removed <= stamp { continue }
            tags[element, default: [:]][tag] = Tag(removed: stamp)
            changed.append(tag)
        }
        return changed
    }

    /// Takes in every operation of another set.
    public mutating func merge(_ other: AddWinsSet) {
        for (element, otherTags) in other.tags {
            for (tag, state) in otherTags {
                if let removed = state.removed { remove(element, observed: [tag], at: removed) } else { add(element, tag: tag) }
            }
        }
    }

    /// The stamp of the removal of `element`'s add `tag`, as stored; nil while it stands or is unknown.
    public func removal(of element: String, tag: HybridTimestamp) -> HybridTimestamp? {
        tags[element]?[tag]?.removed
    }

    /// The elements in the set, sorted.
    public var elements: [String] {
        tags.filter { $0.value.values.contains { $0.removed == nil } }.keys.sorted()
    }

    /// The add tags of `element` not yet removed: what a local remove must name.
    public func liveTags(of element: String) -> [HybridTimestamp] {
        (tags[element] ?? [:]).filter { $0.value.removed == nil }.keys.sorted()
    }
}
