import Hummingbird

/// Counts and times every request by method, matched route and status (the
/// route as registered, like `/v1/push`, so unknown paths cannot grow the
/// label set: they count as `NotFound`).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, since: start)
            return response
        } catch {
            record(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        metrics.requestFinished(
            method: request.method.rawValue, route: context.endpointPath ?? "NotFound", status: status, duration: ContinuousClock.now - start)
    }
}
