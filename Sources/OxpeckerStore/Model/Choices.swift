/// Where a customer is in the relationship.
public enum Stage: String, ChoiceValue {
    case prospect, onboarding, active, dormant, churned
}

/// Whether the customer prefers a person or self-service.
public enum ServicePreference: String, ChoiceValue {
    case human
    case selfService = "self_service"
    case noPreference = "no_preference"
}

/// A band of yearly income, coarse on purpose.
public enum IncomeBand: String, ChoiceValue {
    case low, lowerMiddle = "lower_middle", middle, upperMiddle = "upper_middle", high, veryHigh = "very_high"
}

/// A way to reach a customer.
public enum Channel: String, ChoiceValue {
    case phone, sms, email, push
    case inApp = "in_app"
    case branch, video, post
}

/// The period of a contact budget.
public enum BudgetPeriod: String, ChoiceValue {
    case day, week, month, quarter
}

/// What a consent is for.
public enum ConsentPurpose: String, ChoiceValue {
    case marketing, profiling
    case dataSharing = "data_sharing"
    case analytics
    case thirdPartyOffers = "third_party_offers"
}

/// A consent decision.
public enum ConsentStatus: String, ChoiceValue {
    case granted, withdrawn
}

/// A change in a customer's life that changes what they need.
public enum LifeEventType: String, ChoiceValue {
    case newChild = "new_child"
    case marriage, divorce
    case homePurchase = "home_purchase"
    case renovation, relocation
    case jobChange = "job_change"
    case jobLoss = "job_loss"
    case retirementNear = "retirement_near"
    case retirement
    case businessStart = "business_start"
    case bereavement
    case illness
    case studyStart = "study_start"
    case inheritance
}

/// How a proactive contact ended.
public enum ContactOutcome: String, ChoiceValue {
    case sent, shown, dismissed, accepted, declined, failed
}

/// The tone of a conversation, as the author judged it.
public enum Sentiment: String, ChoiceValue {
    case positive, neutral, negative, complaint
}
