// OpenSSL plumbing for common/pki: error text, PEM parsing and writing (see openssl_util.h).

#include "common/pki/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace ck::pki::internal {

std::string DrainOpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

ck::Status OpenSslError(std::string_view what) {
  std::string detail = DrainOpenSslErrors();
  std::string message(what);
  if (!detail.empty()) message += ": " + detail;
  return ck::Internal(std::move(message));
}

namespace {

BioPtr ReadBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

ck::Result<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n < 0) return OpenSslError("reading memory BIO");
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

ck::Result<PkeyPtr> ParsePrivateKey(const std::string& pem) {
  BioPtr bio = ReadBio(pem);
  if (!bio) return OpenSslError("BIO_new_mem_buf");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    std::string detail = DrainOpenSslErrors();
    return ck::Invalid("not a PEM private key" + (detail.empty() ? "" : " (" + detail + ")"));
  }
  return key;
}

ck::Result<X509Ptr> ParseCert(const std::string& pem) {
  BioPtr bio = ReadBio(pem);
  if (!bio) return OpenSslError("BIO_new_mem_buf");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    std::string detail = DrainOpenSslErrors();
    return ck::Invalid("not a PEM certificate" + (detail.empty() ? "" : " (" + detail + ")"));
  }
  return cert;
}

ck::Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslError("BIO_new");
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3.
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

ck::Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslError("BIO_new");
  if (PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslError("PEM_write_bio_X509");
  return BioContents(bio.get());
}

}  // namespace ck::pki::internal
