import OxpeckerProtocol
import OxpeckerStore

/// A small, fast, seeded generator (SplitMix64), so every run writes the same data.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Made-up but realistic customer data: Czech names (with diacritics, so the
/// search index's accent folding is exercised), bank segments, note texts.
enum Workload {
    static func customerID(_ index: Int) -> CustomerID {
        let digits = String(index)
        return CustomerID(unchecked: "c-" + String(repeating: "0", count: max(0, 7 - digits.count)) + digits)
    }

    static let givenNames = [
        "Jana", "Petr", "Marie", "Jan", "Eva", "Tomáš", "Hana", "Martin", "Lucie", "Pavel", "Kateřina", "Jiří",
        "Lenka", "Josef", "Alena", "Lukáš", "Veronika", "Michal", "Tereza", "Jakub", "Zuzana", "David", "Barbora",
        "Ondřej", "Markéta", "Karel", "Monika", "Milan", "Petra", "Vojtěch",
    ]

    /// Common surnames: 60 % of customers carry one of these, evenly (about 1.2 % each, as Novák is in Czechia).
    static let commonSurnames = [
        "Novák", "Svoboda", "Novotný", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák", "Němec",
        "Marek", "Pospíšil", "Pokorný", "Hájek", "Král", "Jelínek", "Růžička", "Beneš", "Fiala", "Sedláček",
        "Doležal", "Zeman", "Kolář", "Navrátil", "Čermák", "Vaněk", "Urban", "Blažek", "Kříž", "Kovář",
        "Kratochvíl", "Bartoš", "Vlček", "Polák", "Musil", "Kopecký", "Šimek", "Konečný", "Malý", "Holub",
        "Štěpánek", "Čech", "Kadlec", "Staněk", "Dostál", "Soukup", "Šťastný", "Mareš", "Moravec", "Sýkora",
    ]

    private static let syllables = ["ko", "va", "lí", "ček", "ra", "mí", "sta", "ně", "bor", "zá", "ho", "vec", "dl", "pe", "ma"]

    static func surname(using rng: inout SeededGenerator) -> String {
        if Int.random(in: 0..<100, using: &rng) < 60 { return commonSurnames.randomElement(using: &rng)! }
        // The long tail: thousands of rarer surnames made of syllables.
        var name = ""
        for _ in 0..<Int.random(in: 2...3, using: &rng) { name += syllables.randomElement(using: &rng)! }
        return name.prefix(1).uppercased() + name.dropFirst()
    }

    static let segments = ["high_spender", "long_term_potential", "young_professional", "family", "senior", "student", "entrepreneur"]
    static let languages = ["cs", "cs", "cs", "en", "sk", "de", "en-GB"]
    static let advisors = (1...40).map { "advisor-\($0)" }
    static let interests = ["sailing", "hiking", "travel", "photography", "cooking", "cycling", "gardening", "chess", "theatre", "running"]

    static let noteTopics = [
        "asked about refinancing the mortgage before the fixation ends",
        "wants a savings plan for the children's education",
        "interested in the pension plan and the state contribution",
        "complained about card fees abroad; explained the travel package",
        "opening a business account for a new carpentry workshop",
        "asked to raise the credit card limit for the summer",
        "planning a home renovation, needs a loan offer",
        "asked about investment funds with low risk",
        "inheritance from a grandmother, wants advice on investing it",
        "moving to Brno next year, asked about branch transfer",
        "prefers to be contacted by email, not by phone",
        "unhappy with the mobile app login, reported the problem",
        "considering a competitor's mortgage offer, wants a better rate",
        "new child born, asked about a children's account",
        "lost job recently, asked to pause loan repayments",
        "retiring in two years, wants to review the pension savings",
        "asked about travel insurance for a family holiday",
        "bought a car, asked about car insurance",
        "student, asked about an account without fees",
        "asked how to set up standing orders for rent",
    ]
    static let noteEndings = ["Follow up next month.", "Sent the brochure.", "Booked a meeting at the branch.", "No action needed.", "Call back after the holidays."]

    static func noteText(using rng: inout SeededGenerator) -> String {
        "Customer " + noteTopics.randomElement(using: &rng)! + ". " + noteEndings.randomElement(using: &rng)!
    }

    static let stageReasons = [
        "salary account and a mortgage", "no transactions for a year", "new customer since spring", "left for a competitor",
        "uses only the savings account",
    ]
    static let lifestyles = ["outdoor, travels often", "busy parent, values speed", "careful saver", "tech-savvy, mobile only", "prefers the branch"]

    /// Ten single-valued field changes for one customer, as the store API takes them.
    /// Two of them are names, which also re-index the customer for search.
    static func fieldChanges(using rng: inout SeededGenerator) -> [(FieldDescriptor, JSONValue)] {
        let given = givenNames.randomElement(using: &rng)!
        let surname = surname(using: &rng)
        func field(_ name: String) -> FieldDescriptor { FieldCatalog.descriptor(named: name)! }
        return [
            (field("legal_name"), .string(given + " " + surname)),
            (field("preferred_name"), .string(given)),
            (field("language"), .string(languages.randomElement(using: &rng)!)),
            (field("segment"), .string(segments.randomElement(using: &rng)!)),
            (field("advisor"), .string(advisors.randomElement(using: &rng)!)),
            (field("stage"), .string(Stage.allCases.randomElement(using: &rng)!.rawValue)),
            (field("income_band"), .string(IncomeBand.allCases.randomElement(using: &rng)!.rawValue)),
            (field("service_preference"), .string(ServicePreference.allCases.randomElement(using: &rng)!.rawValue)),
            (field("stage_reason"), .string(stageReasons.randomElement(using: &rng)!)),
            (field("lifestyle"), .string(lifestyles.randomElement(using: &rng)!)),
        ]
    }
}
