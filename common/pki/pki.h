// The cluster's PKI: EC P-256 keys, X.509 certificates, kubeconfigs, and the folder `ck pki`
// writes.
//
// One CA (CN kubernetes-ca) signs every serving and client certificate; component identities follow
// kubeadm (CN = user, O = groups) so RBAC's default bindings apply unchanged. Everything is built
// with OpenSSL 3's EVP_PKEY and X509 APIs in memory and exchanged as PEM strings; only WritePki
// touches the disk. Certificate times are relative to the real wall clock because peers (OpenSSL,
// Go's kubectl) check them against the real clock too.
// Threading: every function is stateless and safe to call from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace ck::pki {

// What to put in a certificate. Issued certificates always carry basicConstraints, keyUsage,
// subjectKeyIdentifier and authorityKeyIdentifier; extendedKeyUsage follows
// server_auth/client_auth.
struct CertSpec {
  std::string common_name;
  std::vector<std::string> organizations;  // subject O, one RDN each (Kubernetes groups)
  std::vector<std::string> dns_names;      // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;   // subjectAltName IP entries: "127.0.0.1", "10.96.0.1"
  bool is_ca = false;
  bool server_auth = false;
  bool client_auth = false;
  std::chrono::seconds validity = std::chrono::hours(24 * 365);
  // notBefore relative to now; negative tolerates small clock skew. Tests use it to make certs
  // that are already expired (offset + validity < 0).
  std::chrono::seconds not_before_offset{-300};
};

// A private key (PKCS#8 PEM) and its certificate (PEM).
struct KeyAndCert {
  std::string key_pem;
  std::string cert_pem;
};

// A new self-signed CA certificate and key. The result is a CA whatever spec.is_ca says
// (basicConstraints CA:TRUE critical, keyUsage keyCertSign/cRLSign/digitalSignature).
// Fails with Invalid on an empty common_name or a bad IP address, Internal on an OpenSSL failure.
ck::Result<KeyAndCert> CreateCA(const CertSpec& spec);

// Like CreateCA, but self-signs an existing private key (PEM) instead of making a new one, so a CA
// whose certificate was lost keeps its key and every certificate the key signed stays valid.
ck::Result<KeyAndCert> CreateCAWithKey(const CertSpec& spec, const std::string& key_pem);

// A new key and a certificate for it signed by `ca`, with a random 128-bit serial number.
// Fails with Invalid on a bad spec or a CA that does not parse or whose key does not match its
// certificate, Internal on an OpenSSL failure.
ck::Result<KeyAndCert> IssueCert(const CertSpec& spec, const KeyAndCert& ca);

// A new EC P-256 private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
ck::Result<std::string> GenerateKeyPem();

// The SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----") of a private key; this is sa.pub.
ck::Result<std::string> PublicKeyPem(const std::string& key_pem);

// What a certificate says, read back from PEM.
struct CertInfo {
  std::string subject_cn;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // dotted quad for IPv4, RFC 5952 text for IPv6
  bool is_ca = false;
  bool server_auth = false;  // extendedKeyUsage serverAuth
  bool client_auth = false;  // extendedKeyUsage clientAuth
  std::chrono::system_clock::time_point not_before, not_after;
  std::string issuer_cn;
  std::string serial_hex;  // upper-case hex, no separators
};

// Parses the first certificate in `cert_pem`. Fails with Invalid if there is none.
ck::Result<CertInfo> InspectCert(const std::string& cert_pem);

// OK if `key_pem` is the private key of `cert_pem`'s public key; Invalid otherwise.
ck::Status CheckKeyMatchesCert(const std::string& key_pem, const std::string& cert_pem);

// OK if `cert_pem` chains to `ca_cert_pem` and is valid now (signature and validity period, like
// `openssl verify -CAfile`); Invalid with OpenSSL's reason otherwise.
ck::Status VerifyCert(const std::string& cert_pem, const std::string& ca_cert_pem);

// A kubeconfig (YAML, apiVersion v1, kind Config) with embedded -data credentials: cluster and
// context named "clearkube", current-context "clearkube", and a user named after the client
// certificate's CN (kubeadm's convention, e.g. "kubernetes-admin").
std::string Kubeconfig(const std::string& server, const std::string& ca_pem,
                       const KeyAndCert& client);

// The parts of a kubeconfig's current context that Clearkube components use.
struct KubeconfigData {
  std::string current_context;
  std::string server;
  std::string ca_pem;  // certificate-authority-data, decoded
  KeyAndCert client;   // client-key-data and client-certificate-data, decoded
};

// Reads the current context of a kubeconfig with embedded -data credentials. Fails with Invalid
// on YAML errors, a missing context, cluster or user, or -data fields that are not base64.
ck::Result<KubeconfigData> ParseKubeconfig(const std::string& yaml);

// The flags of `ck pki`.
struct PkiOptions {
  std::string dir;
  int nodes = 1;
  std::string service_cidr = "10.96.0.0/12";
  std::string server = "https://127.0.0.1:6443";
};

inline constexpr int kMaxNodes = 250;  // node IPs are 127.0.1.<i>

// OK if `options` can be written; otherwise Invalid with one line naming the flag, e.g.
// "--nodes: must be between 1 and 250, got 0".
ck::Status ValidatePkiOptions(const PkiOptions& options);

// What one WritePki run did, file names relative to options.dir, in writing order.
struct PkiReport {
  std::vector<std::string> written;  // created, or replaced because they no longer matched
  std::vector<std::string> kept;     // already there and still right
};

// Writes the cluster's PKI into options.dir (created if missing), as DESIGN.md §7 lists:
// ca.crt/key, apiserver.crt/key, apiserver-kubelet-client.crt/key, sa.key/pub,
// kubelet-node-<i>.crt/key, and admin, scheduler, controller-manager, kube-proxy and
// kubelet-node-<i> kubeconfigs. Re-running is safe:
//  - the CA is never replaced. An existing ca.crt + ca.key pair is used as is; a ca.key without
//    ca.crt gets a new self-signed ca.crt for the same key; a ca.crt without its ca.key, or a pair
//    that does not parse, does not match or has expired, fails with Conflict and nothing is
//    written;
//  - sa.key is never replaced (rotating it would invalidate every ServiceAccount token); a missing
//    sa.pub is derived from it again;
//  - every other file is kept while it still matches what this run would issue (signed by this CA,
//    key matches, same names and SANs, same server and embedded ca.crt, not expired) and re-issued
//    otherwise, so a run with more nodes adds only the new nodes' files and a run with another
//    --server rewrites only the kubeconfigs.
// Files are written atomically (temporary file + rename); private keys and kubeconfigs are 0600.
ck::Result<PkiReport> WritePkiFiles(const PkiOptions& options);

// WritePkiFiles without the report: what `ck pki` does.
ck::Status WritePki(const PkiOptions& options);

// The first host address of an IPv4 CIDR, which Kubernetes gives the `kubernetes` Service:
// "10.96.0.0/12" -> "10.96.0.1". Host bits in the address are ignored. Fails with Invalid for
// anything that is not an IPv4 CIDR with a prefix from /12 (kube-apiserver's largest service
// range) to /30, including IPv6.
ck::Result<std::string> FirstServiceIp(const std::string& cidr);

// The identities WritePki issues, for components and tests that need the same names.
std::string NodeName(int i);  // "node-<i>"
std::string NodeIp(int i);    // "127.0.1.<i>"

}  // namespace ck::pki
