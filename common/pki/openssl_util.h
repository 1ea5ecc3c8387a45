// Internal to common/pki: owning handles for OpenSSL objects and PEM conversion, so that every
// early return frees what it allocated. Not part of the public API.
// Threading: stateless; OpenSSL 3 objects here are never shared between threads.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ck::pki::internal {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using BasicConstraintsPtr = std::unique_ptr<BASIC_CONSTRAINTS, Deleter<BASIC_CONSTRAINTS_free>>;
using EkuPtr = std::unique_ptr<EXTENDED_KEY_USAGE, Deleter<EXTENDED_KEY_USAGE_free>>;

// "<what>: <OpenSSL's queued error text>" as an Internal status; drains OpenSSL's error queue.
ck::Status OpenSslError(std::string_view what);
// Drains OpenSSL's error queue into one line ("" when empty).
std::string DrainOpenSslErrors();

ck::Result<PkeyPtr> ParsePrivateKey(const std::string& pem);
ck::Result<X509Ptr> ParseCert(const std::string& pem);
ck::Result<std::string> PrivateKeyToPem(EVP_PKEY* key);  // PKCS#8
ck::Result<std::string> CertToPem(X509* cert);

}  // namespace ck::pki::internal
