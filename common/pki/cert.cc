// Keys and certificates: generation, signing, inspection and verification (see pki.h).

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cctype>
#include <ctime>

#include "common/pki/openssl_util.h"
#include "common/pki/pki.h"

namespace ck::pki {
namespace {

using internal::BasicConstraintsPtr;
using internal::BignumPtr;
using internal::BioPtr;
using internal::EkuPtr;
using internal::GeneralNamesPtr;
using internal::OpenSslError;
using internal::PkeyPtr;
using internal::X509ExtPtr;
using internal::X509Ptr;

ck::Result<PkeyPtr> GenerateKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating an EC P-256 key");
  return key;
}

bool IsDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '*') {
      return false;
    }
  }
  return true;
}

ck::Status ValidateSpec(const CertSpec& spec) {
  if (spec.common_name.empty()) return ck::Invalid("certificate spec: common_name is empty");
  for (const std::string& dns : spec.dns_names) {
    if (!IsDnsName(dns)) return ck::Invalid("certificate spec: bad DNS name \"" + dns + "\"");
  }
  for (const std::string& ip : spec.ip_addresses) {
    ASN1_OCTET_STRING* parsed = a2i_IPADDRESS(ip.c_str());
    if (parsed == nullptr) {
      internal::DrainOpenSslErrors();
      return ck::Invalid("certificate spec: bad IP address \"" + ip + "\"");
    }
    ASN1_OCTET_STRING_free(parsed);
  }
  if (spec.validity.count() <= 0) return ck::Invalid("certificate spec: validity must be positive");
  return ck::Status::Ok();
}

// 128 random bits from OpenSSL's CSPRNG (RFC 5280 allows up to 20 octets; CA/B asks for >= 64
// bits).
ck::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  BignumPtr bn;
  do {
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslError("RAND_bytes");
    bn.reset(BN_bin2bn(bytes, sizeof(bytes), nullptr));
    if (!bn) return OpenSslError("BN_bin2bn");
  } while (BN_is_zero(bn.get()));
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("BN_to_ASN1_INTEGER");
  }
  return ck::Status::Ok();
}

ck::Status AdjustTime(ASN1_TIME* t, std::chrono::seconds from_now) {
  long long secs = from_now.count();
  int days = static_cast<int>(secs / 86400);
  long rest = static_cast<long>(secs % 86400);
  if (X509_time_adj_ex(t, days, rest, nullptr) == nullptr) return OpenSslError("X509_time_adj_ex");
  return ck::Status::Ok();
}

ck::Status AddNameEntry(X509_NAME* name, const char* field, const std::string& value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return OpenSslError(std::string("adding subject ") + field);
  }
  return ck::Status::Ok();
}

// Adds an extension from OpenSSL's config syntax ("critical,CA:TRUE"); `value` is always a
// constant here, never user input, so there is nothing to escape.
ck::Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext) return OpenSslError(std::string("building extension ") + OBJ_nid2sn(nid));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError("X509_add_ext");
  return ck::Status::Ok();
}

// subjectAltName built as GENERAL_NAMES directly, so names never pass through a config parser.
ck::Status AddSubjectAltNames(X509* cert, const CertSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) return ck::Status::Ok();
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslError("sk_GENERAL_NAME_new_null");
  for (const std::string& dns : spec.dns_names) {
    GENERAL_NAME* gen = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (gen == nullptr || ia5 == nullptr ||
        ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      GENERAL_NAME_free(gen);
      ASN1_IA5STRING_free(ia5);
      return OpenSslError("building a DNS subjectAltName");
    }
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), gen) <= 0) {
      GENERAL_NAME_free(gen);
      return OpenSslError("sk_GENERAL_NAME_push");
    }
  }
  for (const std::string& ip : spec.ip_addresses) {
    GENERAL_NAME* gen = GENERAL_NAME_new();
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (gen == nullptr || octets == nullptr) {
      GENERAL_NAME_free(gen);
      ASN1_OCTET_STRING_free(octets);
      return OpenSslError("building an IP subjectAltName");
    }
    GENERAL_NAME_set0_value(gen, GEN_IPADD, octets);
    if (sk_GENERAL_NAME_push(names.get(), gen) <= 0) {
      GENERAL_NAME_free(gen);
      return OpenSslError("sk_GENERAL_NAME_push");
    }
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("adding subjectAltName");
  }
  return ck::Status::Ok();
}

// Builds and signs one certificate for `subject_key`. A null issuer means self-signed.
ck::Result<std::string> BuildCert(const CertSpec& spec, bool is_ca, EVP_PKEY* subject_key,
                                  X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpenSslError("X509_set_version");
  CK_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  CK_RETURN_IF_ERROR(AdjustTime(X509_getm_notBefore(cert.get()), spec.not_before_offset));
  CK_RETURN_IF_ERROR(
      AdjustTime(X509_getm_notAfter(cert.get()), spec.not_before_offset + spec.validity));

  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const std::string& org : spec.organizations) {
    CK_RETURN_IF_ERROR(AddNameEntry(subject, "O", org));
  }
  CK_RETURN_IF_ERROR(AddNameEntry(subject, "CN", spec.common_name));
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert)) != 1) {
    return OpenSslError("X509_set_issuer_name");
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return OpenSslError("X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, cert.get(), nullptr, nullptr, 0);
  if (is_ca) {
    CK_RETURN_IF_ERROR(
        AddConfExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE"));
    CK_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_key_usage,
                                        "critical,digitalSignature,keyCertSign,cRLSign"));
  } else {
    CK_RETURN_IF_ERROR(
        AddConfExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
    // EC keys sign (ECDHE-ECDSA); keyEncipherment applies only to RSA key transport.
    CK_RETURN_IF_ERROR(
        AddConfExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  }
  if (spec.server_auth || spec.client_auth) {
    std::string eku;
    if (spec.server_auth) eku = "serverAuth";
    if (spec.client_auth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
    CK_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_ext_key_usage, eku.c_str()));
  }
  // The subject key identifier must exist before a self-signed AKI can copy it.
  CK_RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  CK_RETURN_IF_ERROR(
      AddConfExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  CK_RETURN_IF_ERROR(AddSubjectAltNames(cert.get(), spec));

  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) return OpenSslError("X509_sign");
  return internal::CertToPem(cert.get());
}

std::string Asn1ToUtf8(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

std::vector<std::string> NameEntries(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    out.push_back(Asn1ToUtf8(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))));
  }
  return out;
}

std::string FirstNameEntry(const X509_NAME* name, int nid) {
  std::vector<std::string> all = NameEntries(name, nid);
  return all.empty() ? "" : all.front();
}

ck::Result<std::chrono::system_clock::time_point> ToTimePoint(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return OpenSslError("ASN1_TIME_to_tm");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string IpToString(const ASN1_OCTET_STRING* octets) {
  char buf[INET6_ADDRSTRLEN] = {};
  const unsigned char* data = ASN1_STRING_get0_data(octets);
  int len = ASN1_STRING_length(octets);
  if (len == 4) inet_ntop(AF_INET, data, buf, sizeof(buf));
  if (len == 16) inet_ntop(AF_INET6, data, buf, sizeof(buf));
  return buf;
}

}  // namespace

ck::Result<std::string> GenerateKeyPem() {
  CK_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey());
  return internal::PrivateKeyToPem(key.get());
}

ck::Result<std::string> PublicKeyPem(const std::string& key_pem) {
  CK_ASSIGN_OR_RETURN(PkeyPtr key, internal::ParsePrivateKey(key_pem));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslError("BIO_new");
  if (PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return OpenSslError("PEM_write_bio_PUBKEY");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

ck::Result<KeyAndCert> CreateCA(const CertSpec& spec) {
  CK_ASSIGN_OR_RETURN(std::string key_pem, GenerateKeyPem());
  return CreateCAWithKey(spec, key_pem);
}

ck::Result<KeyAndCert> CreateCAWithKey(const CertSpec& spec, const std::string& key_pem) {
  CK_RETURN_IF_ERROR(ValidateSpec(spec));
  CK_ASSIGN_OR_RETURN(PkeyPtr key, internal::ParsePrivateKey(key_pem));
  CK_ASSIGN_OR_RETURN(std::string cert_pem,
                      BuildCert(spec, /*is_ca=*/true, key.get(), nullptr, key.get()));
  CK_ASSIGN_OR_RETURN(std::string normalized_key, internal::PrivateKeyToPem(key.get()));
  return KeyAndCert{std::move(normalized_key), std::move(cert_pem)};
}

ck::Result<KeyAndCert> IssueCert(const CertSpec& spec, const KeyAndCert& ca) {
  CK_RETURN_IF_ERROR(ValidateSpec(spec));
  auto ca_cert = internal::ParseCert(ca.cert_pem);
  if (!ca_cert.ok()) return ca_cert.status().WithPrefix("CA certificate");
  auto ca_key = internal::ParsePrivateKey(ca.key_pem);
  if (!ca_key.ok()) return ca_key.status().WithPrefix("CA key");
  if (X509_check_private_key(ca_cert->get(), ca_key->get()) != 1) {
    internal::DrainOpenSslErrors();
    return ck::Invalid("CA key does not match the CA certificate");
  }
  CK_ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey());
  CK_ASSIGN_OR_RETURN(std::string cert_pem,
                      BuildCert(spec, spec.is_ca, key.get(), ca_cert->get(), ca_key->get()));
  CK_ASSIGN_OR_RETURN(std::string key_pem, internal::PrivateKeyToPem(key.get()));
  return KeyAndCert{std::move(key_pem), std::move(cert_pem)};
}

ck::Result<CertInfo> InspectCert(const std::string& cert_pem) {
  CK_ASSIGN_OR_RETURN(X509Ptr cert, internal::ParseCert(cert_pem));
  CertInfo info;
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  info.subject_cn = FirstNameEntry(subject, NID_commonName);
  info.organizations = NameEntries(subject, NID_organizationName);
  info.issuer_cn = FirstNameEntry(X509_get_issuer_name(cert.get()), NID_commonName);

  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names.get(), i);
      if (gen->type == GEN_DNS) info.dns_names.push_back(Asn1ToUtf8(gen->d.dNSName));
      if (gen->type == GEN_IPADD) info.ip_addresses.push_back(IpToString(gen->d.iPAddress));
    }
  }
  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_basic_constraints, nullptr, nullptr)));
  info.is_ca = bc && bc->ca;
  EkuPtr eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert.get(), NID_ext_key_usage, nullptr, nullptr)));
  if (eku) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
      int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), i));
      if (nid == NID_server_auth) info.server_auth = true;
      if (nid == NID_client_auth) info.client_auth = true;
    }
  }
  CK_ASSIGN_OR_RETURN(info.not_before, ToTimePoint(X509_get0_notBefore(cert.get())));
  CK_ASSIGN_OR_RETURN(info.not_after, ToTimePoint(X509_get0_notAfter(cert.get())));

  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  if (!serial) return OpenSslError("ASN1_INTEGER_to_BN");
  char* hex = BN_bn2hex(serial.get());
  if (hex == nullptr) return OpenSslError("BN_bn2hex");
  info.serial_hex = hex;
  OPENSSL_free(hex);
  return info;
}

ck::Status CheckKeyMatchesCert(const std::string& key_pem, const std::string& cert_pem) {
  CK_ASSIGN_OR_RETURN(PkeyPtr key, internal::ParsePrivateKey(key_pem));
  CK_ASSIGN_OR_RETURN(X509Ptr cert, internal::ParseCert(cert_pem));
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()) != 1) {
    internal::DrainOpenSslErrors();
    return ck::Invalid("private key does not match the certificate");
  }
  return ck::Status::Ok();
}

ck::Status VerifyCert(const std::string& cert_pem, const std::string& ca_cert_pem) {
  CK_ASSIGN_OR_RETURN(X509Ptr cert, internal::ParseCert(cert_pem));
  CK_ASSIGN_OR_RETURN(X509Ptr ca, internal::ParseCert(ca_cert_pem));
  internal::X509StorePtr store(X509_STORE_new());
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx) return OpenSslError("X509_STORE_new");
  if (X509_STORE_add_cert(store.get(), ca.get()) != 1) return OpenSslError("X509_STORE_add_cert");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslError("X509_STORE_CTX_init");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    internal::DrainOpenSslErrors();
    return ck::Invalid(std::string("certificate does not verify: ") +
                       X509_verify_cert_error_string(err));
  }
  return ck::Status::Ok();
}

}  // namespace ck::pki
