/// What a pull must do to bring a device's holdings to the customers in its
/// scopes now (`Protocol/README.md`, "Scopes"): pure, the same for every backend.
struct Reconciliation: Equatable {
    /// Customers the device holds and may no longer see: purged, in id order.
    var leaving: [String]
    /// Customers the device may see and does not hold: sent whole, in id order,
    /// the one being sent (the cursor's `entering`) first.
    var entering: [String]

    /// Compares `visible` with `held`; `partial` is the customer the last page
    /// began to send whole (it goes on first, or is purged if it left meanwhile).
    init(visible: Set<String>, held: Set<String>, partial: String?) {
        leaving = held.subtracting(visible).sorted()
        entering = visible.subtracting(held).sorted()
        if let partial {
            if let index = entering.firstIndex(of: partial) {
                // Go on with the customer being sent.
                entering.remove(at: index)
                entering.insert(partial, at: 0)
            } else if !held.contains(partial) {
                leaving.append(partial)  // part of it was sent, and it left meanwhile
            }
        }
    }

    /// The holdings are already right.
    var isEmpty: Bool { leaving.isEmpty && entering.isEmpty }

    /// The most purge notices in one page (the protocol's max_list_items).
    static let purgesPerPage = 256
}
