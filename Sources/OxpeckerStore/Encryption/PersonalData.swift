/// Which profile fields and sets hold personal data: an encrypted store keeps
/// their values sealed. Every field of ``FieldCatalog`` is in exactly one of the
/// two lists (a test checks it), so a new field must be classified to build.
///
/// What stays clear is what the store filters and decides by without reading a
/// customer's personal data: the stage, the advisor, the segment, the contact
/// preferences the contact gate reads, the scopes.
enum PersonalData {
    /// Fields whose values are sealed in an encrypted store.
    static let fields: Set<String> = [
        "legal_name", "birth_date", "tax_residence", "preferred_name", "income_band", "stage_reason",
        "heard_of_us_via", "first_impression", "effort_to_reach_us", "alternatives_considered", "alternatives_liked",
        "first_transaction", "special_requests", "liked", "disliked", "leave_reason", "lifestyle", "personality_notes",
        "interests", "tags",
    ]

    /// Fields kept clear: the store reads them to filter, gate contacts and scope.
    static let clearFields: Set<String> = [
        "created_at", "language", "segment", "advisor", "stage", "left_because_of_us", "preferred_channels",
        "service_preference", "quiet_hours", "contact_budget", "do_not_contact", "scopes",
    ]
}
