import OxpeckerProtocol

/// One round of reconciliation of a subscription, done a slice of customers per
/// pull page, so that a page costs O(page) however many customers changed.
///
/// A round brings the device's holdings to the customers it sees as of epoch
/// `target` (the membership epoch when the round began). It walks its
/// candidates in key order, at most ``customersPerSlice`` at a time:
/// - **incremental** (the subscription was reconciled before, with these token
///   scopes): the `membership_change` rows after the last reconciled epoch, up to
///   `target`, in (epoch, customer) order: only they can differ;
/// - **full** (a new subscription, or the token's scopes changed): every customer
///   the device sees or holds, in id order.
///
/// `after` is where the round stands: the slice after it comes next. A slice is
/// passed once its purges and entering customers were all sent and the device
/// confirmed the page (the progress travels in the page's pending answer, like
/// the holdings, so a lost answer is computed again); a slice with nothing to
/// send is passed at once. Customers whose membership changes during the round
/// have a `membership_change` after `target`: the next round compares them.
struct ReconcileRound: Equatable, Sendable {
    /// The epoch the round reconciles up to.
    var target: Int64
    /// The token scopes it reconciles for (``SQLiteSubscriptions/scopesKey``).
    var scopes: String
    /// Whether it compares every visible and held customer.
    var full: Bool
    /// Incremental: the last (epoch, customer) passed. Full: the last customer passed (`afterEpoch` unused).
    var afterEpoch: Int64
    var afterCustomer: String

    /// The most candidates compared in one slice (also the protocol's limit of purge notices in a page).
    static let customersPerSlice = Reconciliation.purgesPerPage

    /// A new round up to `epoch`: incremental from `reconciledEpoch` when the last
    /// reconciliation had these scopes and `membership_change` covers every change
    /// since (`changesFrom`), else full.
    init(epoch: Int64, scopes: String, reconciledEpoch: Int64, reconciledScopes: String, changesFrom: Int64) {
        target = epoch
        self.scopes = scopes
        full = !(reconciledScopes == scopes && reconciledEpoch >= changesFrom)
        afterEpoch = full ? 0 : reconciledEpoch
        afterCustomer = ""
    }

    /// The round past one more slice, whose last key is `epoch` (incremental) and `customer`.
    func passing(epoch: Int64, customer: String) -> ReconcileRound {
        var next = self
        next.afterEpoch = full ? 0 : epoch
        next.afterCustomer = customer
        return next
    }

    /// The round as stored (`subscription.round`, `pending_answer.round`).
    var text: String {
        JSONValue.object([
            "target": .integer(target), "scopes": .string(scopes), "full": .bool(full),
            "after_epoch": .integer(afterEpoch), "after_customer": .string(afterCustomer),
        ]).canonicalText
    }

    /// A stored round; nil for none or a form this version does not read (the round starts again).
    init?(text: String?) {
        guard let text, let value = try? JSONValue(parsing: text),
            let target = value["target"]?.integerValue, let scopes = value["scopes"]?.stringValue, let full = value["full"]?.boolValue,
            let afterEpoch = value["after_epoch"]?.integerValue, let afterCustomer = value["after_customer"]?.stringValue
        else { return nil }
        self.target = target
        self.scopes = scopes
        self.full = full
        self.afterEpoch = afterEpoch
        self.afterCustomer = afterCustomer
    }

    /// What an answer of the round records, confirmed with it: the round done (the
    /// subscription reconciled up to its target), or where the round stands.
    struct Progress: Equatable, Sendable {
        var reconciledEpoch: Int64?
        var reconciledScopes: String?
        var roundText: String?

        /// After a page of `slice` of `round`: a slice whose purges and entering customers
        /// were all sent is passed (the last one ends the round); else the slice comes again.
        init(round: ReconcileRound, slice: Slice, complete: Bool) {
            if complete, slice.isLast {
                reconciledEpoch = round.target
                reconciledScopes = round.scopes
            } else {
                roundText = (complete ? slice.next : round).text
            }
        }
    }

    /// What one slice is: its candidates compared, and whether it was the round's last.
    struct Slice {
        var visible: Set<String>
        var held: Set<String>
        /// The round past this slice.
        var next: ReconcileRound
        /// No candidate is left after it.
        var isLast: Bool
    }

    /// The boundary of a full round's slice, from the next visible and the next held
    /// customers after `afterCustomer` (each at most ``customersPerSlice``, in id order):
    /// a list that was cut short bounds the slice at its last element (candidates above it
    /// may be missing from the other list's answer).
    static func fullSlice(visible: [String], held: [String], of round: ReconcileRound) -> Slice {
        let bounds = [visible, held].filter { $0.count >= customersPerSlice }.compactMap(\.last)
        guard let bound = bounds.min() else {
            return Slice(visible: Set(visible), held: Set(held), next: round, isLast: true)
        }
        return Slice(
            visible: Set(visible.filter { $0 <= bound }), held: Set(held.filter { $0 <= bound }),
            next: round.passing(epoch: 0, customer: bound), isLast: false)
    }
}
