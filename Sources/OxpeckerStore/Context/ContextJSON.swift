import OxpeckerProtocol

// The JSON forms of the gates' answers, as `oxpecker may-contact --json` and
// `oxpecker signals --json` print them: snake_case keys, every key always present.

extension ContactRequest {
    public var json: JSONValue {
        [
            "channel": .string(channel.rawValue), "purpose": .string(purpose), "topic": topic.map(JSONValue.string) ?? .null,
            "at": .string(at.description),
        ]
    }
}

extension GateReason {
    public var json: JSONValue {
        [
            "check": .string(check.rawValue), "verdict": .string(verdict.rawValue), "blocks": .bool(blocks), "message": .string(message),
            "sources": .array(sources.map(\.json)),
        ]
    }
}

extension ContactDecision {
    public var json: JSONValue {
        [
            "customer": .string(customer.rawValue), "allowed": .bool(allowed), "request": request.json,
            "reasons": .array(reasons.map(\.json)),
        ]
    }
}

extension ConsentVerdict {
    public var json: JSONValue {
        [
            "purpose": .string(purpose), "allowed": .bool(allowed), "basis": .string(basis.rawValue), "reason": .string(reason),
            "sources": .array(sources.map(\.json)),
        ]
    }
}
