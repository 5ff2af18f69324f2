import NIOSSL

/// The certificate and key the server serves HTTPS with. With them the
/// listener speaks TLS only: a plain-HTTP request on the port fails the
/// handshake and is never served.
///
/// ```swift
/// configuration.tls = TLSSettings(certificateChainFile: "server.pem", privateKeyFile: "server-key.pem")
/// ```
public struct TLSSettings: Sendable, Hashable {
    /// PEM: the server's certificate first, then any intermediate certificates.
    public var certificateChainFile: String
    /// PEM: the certificate's private key (unencrypted; keep the file readable by the server's user only).
    public var privateKeyFile: String

    public init(certificateChainFile: String, privateKeyFile: String) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
    }

    /// NIOSSL's server configuration: TLS 1.2 or newer, the files loaded now so a bad one stops the start.
    ///
    /// - Throws: ``ConfigurationError`` naming the file that does not load.
    func serverConfiguration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChainFile)
        } catch {
            throw ConfigurationError("TLS: cannot read the certificate chain '\(certificateChainFile)': \(error)")
        }
        guard !chain.isEmpty else { throw ConfigurationError("TLS: '\(certificateChainFile)' holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw ConfigurationError("TLS: cannot read the private key '\(privateKeyFile)': \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
