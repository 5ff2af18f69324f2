import OxpeckerProtocol

/// Where a bank's own scoring model plugs in. Oxpecker works without one: the
/// brief and the signals come from the declared rules alone. A model given to
/// ``StoreReader/brief(of:at:rules:model:)`` or ``StoreReader/signals(in:at:rules:model:)``
/// adds its insights, each with the records it read; it is asked only for
/// customers whose data may be used for profiling (``ConsentPurpose/profiling``),
/// and every contact it proposes still goes through the contact gate.
///
/// ```swift
/// struct ChurnScore: CustomerInsightModel {
///     let name = "churn-2026"
///     func insights(for context: CustomerContext, at time: Instant) -> [ModelInsight] {
///         context.contacts.count > 20 ? [ModelInsight(text: "contact fatigue", nextStep: "pause campaigns", sources: [])] : []
///     }
/// }
/// ```
public protocol CustomerInsightModel: Sendable {
    /// The model's name, shown with its insights.
    var name: String { get }
    /// What the model concludes about one customer at `time`. Must be a function of
    /// its inputs, so that every replica gives the same answer.
    func insights(for context: CustomerContext, at time: Instant) -> [ModelInsight]
}

/// One conclusion of a bank's model about a customer.
public struct ModelInsight: Sendable, Hashable {
    /// What the model concludes, for a person.
    public var text: String
    /// What to do about it; an insight with a next step is also a signal.
    public var nextStep: String?
    /// The records it comes from.
    public var sources: [SourceRef]

    public init(text: String, nextStep: String? = nil, sources: [SourceRef]) {
        self.text = text
        self.nextStep = nextStep
        self.sources = sources
    }
}
