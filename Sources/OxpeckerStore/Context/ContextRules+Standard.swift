extension ContextRules {
    /// The rules Oxpecker ships with, declared in one place. A bank overrides any
    /// part of them with a JSON document (``overriding(with:)``); `oxpecker rules`
    /// prints them.
    public static let standard = ContextRules(
        unrecordedConsent: [
            // Opt-in: no marketing, sharing or third-party offers without a grant.
            "marketing": .denied, "data_sharing": .denied, "third_party_offers": .denied,
            // Service insight on the bank's own data, until the customer withdraws it.
            "profiling": .allowed, "analytics": .allowed,
        ],
        purposes: [
            "marketing": Purpose(consent: "marketing", offer: true),
            "third_party_offers": Purpose(consent: "third_party_offers", offer: true),
            // A person reaching out about the customer's situation: not an offer, but within the limits.
            "advice": Purpose(consent: nil, offer: false),
            "service": Purpose(consent: nil, offer: false),
            // Fraud and security alerts reach the customer whatever the hour or the budget.
            "security": Purpose(consent: nil, offer: false, urgent: true),
        ],
        defaultBudget: nil,
        defaultQuietHours: nil,
        onlyPreferredChannels: false,
        dismissalQuietDays: 30,
        complaintOpenDays: 30,
        lifeEventRecentDays: 365,
        complaintRecentDays: 180,
        continuityConversations: 3,
        conversationChannels: ["branch", "phone", "video", "email"],
        quietFactor: 3,
        quietMinimumActivities: 4,
        quietMinimumDays: 14,
        recurringPainCount: 3,
        recurringPainDays: 180,
        recurringPains: [
            RecurringPain(matches: ["late fee", "late payment"], suggestion: "offer autopay for the recurring bills", fixTopic: "autopay"),
            RecurringPain(
                matches: ["overdraft fee", "overdrawn"], suggestion: "offer a low-balance alert and an overdraft buffer",
                fixTopic: "low-balance alert"),
            RecurringPain(matches: ["card declined", "card blocked"], suggestion: "review the card limits with the customer", fixTopic: "card limit"),
        ],
        continuityBreak: 3,
        signalPurpose: "advice",
        signalChannel: "phone",
        lifeEvents: [
            "renovation": LifeEventMeaning(
                needs: ["liquidity"], avoid: ["investment offers", "term deposits"],
                meaning: "needs liquidity (a credit line, instant-access savings), not investment advice",
                nextStep: "ask how the renovation goes and whether they need a credit line or easier access to savings"),
            "home_purchase": LifeEventMeaning(
                needs: ["liquidity", "mortgage"], avoid: ["investment offers", "term deposits"],
                meaning: "needs liquidity and a mortgage, not investment advice",
                nextStep: "offer a mortgage conversation and check access to savings for the down payment"),
            "new_child": LifeEventMeaning(
                needs: ["protection", "savings"], meaning: "needs protection (insurance) and savings for the child",
                nextStep: "congratulate, then talk about life insurance and a savings plan for the child"),
            "retirement_near": LifeEventMeaning(
                needs: ["income_planning"], avoid: ["long lock-in products"], meaning: "needs income planning for retirement",
                nextStep: "offer a retirement income review"),
            "retirement": LifeEventMeaning(
                needs: ["income_planning"], avoid: ["long lock-in products"], meaning: "lives on retirement income now",
                nextStep: "check that pension payments arrive and the budget works"),
            "bereavement": LifeEventMeaning(
                needs: ["care"], avoid: ["offers of any kind"], meaning: "handle with care: no offers",
                nextStep: "a personal call from the advisor who knows them, to help with accounts and paperwork; no offers",
                careDays: 180),
            "illness": LifeEventMeaning(
                needs: ["care", "liquidity"], avoid: ["offers of any kind"], meaning: "handle with care: no offers; may need payment relief",
                nextStep: "ask whether payment relief or easier access to savings would help; no offers", careDays: 90),
            "job_loss": LifeEventMeaning(
                needs: ["liquidity", "payment_relief"], avoid: ["offers of any kind", "new credit"],
                meaning: "needs liquidity and maybe payment relief; no offers",
                nextStep: "ask whether payment relief or a budget review would help", careDays: 90),
            "job_change": LifeEventMeaning(
                needs: ["salary_account", "pension_transfer"], meaning: "may move salary and pension savings",
                nextStep: "check the salary account and pension transfer"),
            "marriage": LifeEventMeaning(
                needs: ["joint_finances"], meaning: "may want joint accounts and shared planning",
                nextStep: "congratulate, and offer a joint finances conversation"),
            "divorce": LifeEventMeaning(
                needs: ["care", "account_separation"], avoid: ["offers of any kind"],
                meaning: "handle with care: separating accounts and obligations; no offers",
                nextStep: "help separate accounts and obligations; no offers", careDays: 90),
            "relocation": LifeEventMeaning(
                needs: ["address_update"], meaning: "needs the address updated and maybe a nearer branch",
                nextStep: "confirm the new address and the nearest branch"),
            "business_start": LifeEventMeaning(
                needs: ["business_account", "liquidity"], meaning: "needs a business account and working capital",
                nextStep: "offer a business account conversation"),
            "study_start": LifeEventMeaning(
                needs: ["student_account"], meaning: "needs a student account and a budget", nextStep: "offer a student account"),
            "inheritance": LifeEventMeaning(
                needs: ["care", "wealth_planning"], avoid: ["offers during the care period"],
                meaning: "often follows a loss: care first, wealth planning later",
                nextStep: "a personal conversation; wealth planning only when the customer asks", careDays: 90),
        ])
}
