import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// Renders the console's pages from the Mustache templates of ``Templates``: every
/// `{{value}}` is HTML-escaped; the pages use no triple mustaches.
///
/// ```swift
/// let renderer = try PageRenderer()
/// return renderer.page("home", HomePage(…))
/// ```
struct PageRenderer: Sendable {
    private let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in Templates.all {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// The page `template` rendered with `model`, as UTF-8 HTML.
    func page(_ template: String, _ model: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(model, withTemplate: template) ?? "<!doctype html><meta charset=\"utf-8\"><p>No template \(template).</p>"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that says why a request was refused.
    func refusal(status: HTTPResponse.Status, title: String, message: String) -> Response {
        page("refusal", RefusalPage(title: title, message: message, status: "\(status.code)"), status: status)
    }

    /// The rendered text of `template` (tests, and pages that embed one in another).
    func text(_ template: String, _ model: Any) -> String {
        library.render(model, withTemplate: template) ?? ""
    }
}

/// The model of the refusal page.
struct RefusalPage {
    let title: String
    let message: String
    let status: String
}
