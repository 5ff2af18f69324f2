import ArgumentParser
import Foundation
import OxpeckerServer

/// `serve`'s options for HTTPS and for JWTs from an identity provider; each
/// falls back to its environment variable.
struct SecurityOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve HTTPS with this PEM certificate chain (env OXPECKER_TLS_CERTIFICATE); needs --tls-key.", valueName: "pem"))
    var tlsCertificate: String?
    @Option(help: ArgumentHelp("The PEM private key of --tls-certificate (env OXPECKER_TLS_KEY).", valueName: "pem"))
    var tlsKey: String?

    @Option(help: ArgumentHelp("Accept JWTs from this issuer, the `iss` claim (env OXPECKER_JWT_ISSUER).", valueName: "issuer"))
    var jwtIssuer: String?
    @Option(help: ArgumentHelp("The `aud` a JWT must name (env OXPECKER_JWT_AUDIENCE).", valueName: "audience"))
    var jwtAudience: String?
    @Option(help: ArgumentHelp("A JWKS file with the issuer's public keys (env OXPECKER_JWT_JWKS_FILE).", valueName: "file"))
    var jwtJwksFile: String?
    @Option(help: ArgumentHelp("A PEM public key (P-256/384/521 or RSA) of the issuer (env OXPECKER_JWT_PUBLIC_KEY_FILE).", valueName: "pem"))
    var jwtPublicKey: String?
    @Option(help: ArgumentHelp("A file holding an HS256 secret of 32 bytes or more (env OXPECKER_JWT_HMAC_SECRET_FILE).", valueName: "file"))
    var jwtHmacSecretFile: String?
    @Option(help: ArgumentHelp("The claim holding a JWT caller's scopes (env OXPECKER_JWT_SCOPES_CLAIM).", valueName: "claim"))
    var jwtScopesClaim: String = ProcessInfo.processInfo.environment["OXPECKER_JWT_SCOPES_CLAIM"] ?? "oxpecker_scopes"

    /// The option's value, else the environment variable's; nil when neither is set or it is empty.
    private func value(_ option: String?, _ variable: String) -> String? {
        [option, ProcessInfo.processInfo.environment[variable]].compactMap { $0 }.first { !$0.isEmpty }
    }

    private var certificate: String? { value(tlsCertificate, "OXPECKER_TLS_CERTIFICATE") }
    private var key: String? { value(tlsKey, "OXPECKER_TLS_KEY") }
    private var issuer: String? { value(jwtIssuer, "OXPECKER_JWT_ISSUER") }
    private var audience: String? { value(jwtAudience, "OXPECKER_JWT_AUDIENCE") }
    private var jwksFile: String? { value(jwtJwksFile, "OXPECKER_JWT_JWKS_FILE") }
    private var publicKeyFile: String? { value(jwtPublicKey, "OXPECKER_JWT_PUBLIC_KEY_FILE") }
    private var hmacSecretFile: String? { value(jwtHmacSecretFile, "OXPECKER_JWT_HMAC_SECRET_FILE") }

    func validate() throws {
        if (certificate == nil) != (key == nil) { throw ValidationError("give both --tls-certificate and --tls-key, or neither") }
        let keys = [jwksFile, publicKeyFile, hmacSecretFile].compactMap { $0 }
        if issuer != nil || audience != nil || !keys.isEmpty {
            guard issuer != nil, audience != nil, !keys.isEmpty else {
                throw ValidationError(
                    "to accept JWTs give --jwt-issuer, --jwt-audience and a key (--jwt-jwks-file, --jwt-public-key or --jwt-hmac-secret-file)")
            }
        }
    }

    /// The TLS settings asked for, or nil for plain HTTP.
    var tls: TLSSettings? {
        guard let certificate, let key else { return nil }
        return TLSSettings(certificateChainFile: certificate, privateKeyFile: key)
    }

    /// A warning when the server would listen beyond this machine without TLS.
    func plainHTTPWarning(host: String) -> String? {
        guard tls == nil, !(host == "localhost" || host == "::1" || host.hasPrefix("127.")) else { return nil }
        return "serving plain HTTP on \(host): bearer tokens and customer data cross the network in clear; "
            + "give --tls-certificate and --tls-key, or keep a TLS proxy in front on this host"
    }

    /// The JWT settings asked for, with the key files read; nil when JWTs are not accepted.
    func jwt() throws -> JWTSettings? {
        guard let issuer, let audience else { return nil }
        var settings = JWTSettings(issuer: issuer, audience: audience, scopesClaim: jwtScopesClaim)
        if let jwksFile { settings.jwks = [try Self.read(jwksFile, "--jwt-jwks-file")] }
        if let publicKeyFile { settings.publicKeysPEM = [try Self.read(publicKeyFile, "--jwt-public-key")] }
        if let hmacSecretFile {
            settings.hmacSecrets = [try Self.read(hmacSecretFile, "--jwt-hmac-secret-file").trimmingCharacters(in: .whitespacesAndNewlines)]
        }
        return settings
    }

    private static func read(_ path: String, _ option: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ValidationError("\(option): cannot read '\(path)': \(error.localizedDescription)")
        }
    }
}
