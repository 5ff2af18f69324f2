import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority made for one test, and a server certificate it
/// signed for `localhost` and `127.0.0.1`, written as PEM files in `folder`.
struct TestCertificates: Sendable {
    /// The CA's certificate: what a client trusts (`--ca-file`).
    let authorityFile: String
    /// The server's certificate chain (`--tls-certificate`).
    let serverCertificateFile: String
    /// The server's private key (`--tls-key`).
    let serverKeyFile: String

    /// Makes a new CA named `name` and a server certificate, in `folder`.
    static func make(in folder: ScratchFolder, name: String = "Oxpecker Test CA") throws -> TestCertificates {
        let now = Date()
        let authorityKey = P256.Signing.PrivateKey()
        let authorityName = try DistinguishedName { CommonName(name) }
        let authority = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PrivateKey(authorityKey).publicKey,
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: authorityName, subject: authorityName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: Certificate.PrivateKey(authorityKey))
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PrivateKey(serverKey).publicKey,
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: authorityName,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: Certificate.PrivateKey(authorityKey))
        let certificates = TestCertificates(
            authorityFile: folder.path("\(name.filter(\.isLetter))-ca.pem"), serverCertificateFile: folder.path("server.pem"),
            serverKeyFile: folder.path("server-key.pem"))
        try authority.serializeAsPEM().pemString.write(toFile: certificates.authorityFile, atomically: true, encoding: .utf8)
        try server.serializeAsPEM().pemString.write(toFile: certificates.serverCertificateFile, atomically: true, encoding: .utf8)
        try serverKey.pemRepresentation.write(toFile: certificates.serverKeyFile, atomically: true, encoding: .utf8)
        return certificates
    }
}
