// Test-only helpers for apiserver/auth tests: an RSA key made with OpenSSL (common/pki makes EC
// keys only) and a certificate a CA issued with a validity that has already ended.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <string>

#include "common/base/check.h"
#include "common/pki/pki.h"

namespace ck::apiserver::testing {

// A new RSA private key (PKCS#8 PEM).
inline std::string NewRsaKeyPem(unsigned bits = 2048) {
  EVP_PKEY* key = EVP_RSA_gen(bits);
  CK_CHECK(key != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  CK_CHECK(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, size_t(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

inline std::string NewEcKeyPem() {
  Result<std::string> k = pki::GenerateKeyPem();
  CK_CHECK(k.ok()) << k.status().ToString();
  return *k;
}

inline std::string PublicPem(const std::string& key_pem) {
  Result<std::string> p = pki::PublicKeyPem(key_pem);
  CK_CHECK(p.ok()) << p.status().ToString();
  return *p;
}

inline pki::KeyAndCert MustCA(const std::string& cn) {
  pki::CertSpec s;
  s.common_name = cn;
  Result<pki::KeyAndCert> ca = pki::CreateCA(s);
  CK_CHECK(ca.ok()) << ca.status().ToString();
  return *ca;
}

// A client certificate for `cn` in groups `orgs`; `expired` makes one valid from 2 days ago to
// 1 day ago.
inline pki::KeyAndCert MustClientCert(const pki::KeyAndCert& ca, const std::string& cn,
                                      std::vector<std::string> orgs = {}, bool expired = false) {
  pki::CertSpec s;
  s.common_name = cn;
  s.organizations = std::move(orgs);
  s.client_auth = true;
  if (expired) {
    s.not_before_offset = std::chrono::hours(-48);
    s.validity = std::chrono::hours(24);
  }
  Result<pki::KeyAndCert> c = pki::IssueCert(s, ca);
  CK_CHECK(c.ok()) << c.status().ToString();
  return *c;
}

}  // namespace ck::apiserver::testing
