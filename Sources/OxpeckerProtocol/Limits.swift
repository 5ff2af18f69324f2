/// Limits every peer enforces on what it accepts, declared once.
public enum Limits {
    /// The longest note text, in characters.
    public static let noteTextCharacters = 20_000
    /// The longest short text in a record (author, source, topic), in characters.
    public static let shortTextCharacters = 200
}
