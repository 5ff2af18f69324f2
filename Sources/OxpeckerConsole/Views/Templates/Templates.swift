/// The console's templates, by name, embedded in the binary so the console needs
/// no file at run time. `header` and `footer` are partials every page includes.
enum Templates {
    static let all: [String: String] = [
        "header": LayoutTemplates.header,
        "footer": LayoutTemplates.footer,
        "refusal": LayoutTemplates.refusal,
        "home": HomeTemplate.text,
        "customer": CustomerTemplate.text,
        "conflicts": ConflictsTemplate.text,
        "sync": SyncTemplate.text,
        "signals": SignalsTemplate.text,
    ]
}
