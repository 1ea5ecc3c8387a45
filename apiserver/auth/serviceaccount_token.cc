#include "apiserver/auth/serviceaccount_token.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "apiserver/auth/base64url.h"
#include "common/base/strings.h"

namespace ck::apiserver {
namespace {

using Json = nlohmann::json;

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// The JWS algorithm a key signs with, "" when the key cannot sign JWTs here.
std::string AlgorithmOf(EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) return "RS256";
  if (id != EVP_PKEY_EC) return "";
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1) return "";
  std::string_view g(group, len);
  if (g == "prime256v1" || g == "P-256") return "ES256";
  if (g == "secp384r1" || g == "P-384") return "ES384";
  if (g == "secp521r1" || g == "P-521") return "ES512";
  return "";
}

const EVP_MD* DigestOf(std::string_view alg) {
  if (alg == "RS256" || alg == "ES256") return EVP_sha256();
  if (alg == "ES384") return EVP_sha384();
  if (alg == "ES512") return EVP_sha512();
  return nullptr;
}

// Bytes of r and of s in the JOSE form of an ECDSA signature (RFC 7518 §3.4).
int EcCoordinateBytes(std::string_view alg) {
  if (alg == "ES256") return 32;
  if (alg == "ES384") return 48;
  return 66;  // ES512 (P-521)
}

Result<std::string> DerPublicKey(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return Internal("encoding the public key: " + OpenSslErrors());
  std::string out(reinterpret_cast<char*>(der), size_t(n));
  OPENSSL_free(der);
  return out;
}

// upstream's keyIDFromPublicKey: base64url(SHA-256(DER SubjectPublicKeyInfo)).
Result<std::string> KeyIdOf(EVP_PKEY* key) {
  CK_ASSIGN_OR_RETURN(std::string der, DerPublicKey(key));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

// Only the public half of `key` (so a private key given to the verifier is not kept).
Result<PkeyPtr> PublicOnly(EVP_PKEY* key) {
  CK_ASSIGN_OR_RETURN(std::string der, DerPublicKey(key));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  PkeyPtr pub(d2i_PUBKEY(nullptr, &p, long(der.size())));
  if (!pub) return Internal("decoding the public key: " + OpenSslErrors());
  return pub;
}

Result<std::string> Sign(EVP_PKEY* key, std::string_view alg, std::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, DigestOf(alg), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Internal("signing the token: " + OpenSslErrors());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Internal("signing the token: " + OpenSslErrors());
  }
  sig.resize(len);
  if (alg[0] == 'R') return sig;
  // OpenSSL gives DER ECDSA-Sig-Value; JOSE wants fixed-width big-endian r || s.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  EcdsaSigPtr es(d2i_ECDSA_SIG(nullptr, &p, long(sig.size())));
  if (!es) return Internal("decoding the ECDSA signature: " + OpenSslErrors());
  int n = EcCoordinateBytes(alg);
  std::string out(size_t(2 * n), '\0');
  if (BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), reinterpret_cast<unsigned char*>(out.data()), n) != n ||
      BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), reinterpret_cast<unsigned char*>(out.data()) + n, n) != n) {
    return Internal("encoding the ECDSA signature");
  }
  return out;
}

bool VerifySignature(EVP_PKEY* key, std::string_view alg, std::string_view input, std::string_view sig) {
  std::string der;
  if (alg[0] == 'E') {
    size_t n = size_t(EcCoordinateBytes(alg));
    if (sig.size() != 2 * n) return false;
    EcdsaSigPtr es(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), int(n), nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + n, int(n), nullptr);
    if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return false;
    }
    unsigned char* buf = nullptr;
    int len = i2d_ECDSA_SIG(es.get(), &buf);
    if (len <= 0) return false;
    der.assign(reinterpret_cast<char*>(buf), size_t(len));
    OPENSSL_free(buf);
    sig = der;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, DigestOf(alg), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();
  return ok;
}

Json RefJson(const BoundObjectRef& r) { return Json{{"name", r.name}, {"uid", r.uid}}; }

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Go's %q of a []string: ["a" "b"].
std::string QuoteList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ' ';
    AppendQuoted(out, v[i]);
  }
  return out + "]";
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

struct Parts {
  std::string_view header, payload, signature, signing_input;
};

std::optional<Parts> SplitJws(std::string_view token) {
  size_t a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) return std::nullopt;
  return Parts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1), token.substr(0, b)};
}

std::optional<Json> DecodeJsonSegment(std::string_view segment) {
  std::optional<std::string> raw = Base64UrlDecode(segment);
  if (!raw) return std::nullopt;
  Json j = Json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// A string member; false when present but not a string.
bool GetString(const Json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

// A NumericDate member (go-jose accepts integers and floats, truncated); false when malformed.
bool GetNumericDate(const Json& j, const char* key, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return true;
  }
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (!std::isfinite(d) || d > 9.0e15 || d < -9.0e15) return false;
    *out = int64_t(d);
    return true;
  }
  return false;
}

bool GetRef(const Json& j, const char* key, std::optional<BoundObjectRef>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_object()) return false;
  BoundObjectRef r;
  if (!GetString(*it, "name", &r.name) || !GetString(*it, "uid", &r.uid)) return false;
  *out = std::move(r);
  return true;
}

std::optional<ServiceAccountClaims> ParseClaims(const Json& j) {
  ServiceAccountClaims c;
  if (!GetString(j, "iss", &c.issuer) || !GetString(j, "sub", &c.subject) || !GetString(j, "jti", &c.jti) ||
      !GetNumericDate(j, "exp", &c.expiry) || !GetNumericDate(j, "nbf", &c.not_before) ||
      !GetNumericDate(j, "iat", &c.issued_at)) {
    return std::nullopt;
  }
  if (auto it = j.find("aud"); it != j.end() && !it->is_null()) {
    // RFC 7519 §4.1.3: a single string or an array of strings.
    if (it->is_string()) {
      c.audiences.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const Json& a : *it) {
        if (!a.is_string()) return std::nullopt;
        c.audiences.push_back(a.get<std::string>());
      }
    } else {
      return std::nullopt;
    }
  }
  auto k = j.find("kubernetes.io");
  if (k != j.end() && !k->is_null()) {
    if (!k->is_object() || !GetString(*k, "namespace", &c.namespace_)) return std::nullopt;
    std::optional<BoundObjectRef> sa;
    if (!GetRef(*k, "serviceaccount", &sa) || !GetRef(*k, "pod", &c.pod) || !GetRef(*k, "secret", &c.secret) ||
        !GetRef(*k, "node", &c.node)) {
      return std::nullopt;
    }
    if (sa) {
      c.service_account_name = sa->name;
      c.service_account_uid = sa->uid;
    }
  }
  return c;
}

}  // namespace

std::string ServiceAccountUsername(std::string_view ns, std::string_view name) {
  return "system:serviceaccount:" + std::string(ns) + ":" + std::string(name);
}

bool SplitServiceAccountUsername(std::string_view user, std::string* ns, std::string* name) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (user.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = user.substr(kPrefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return false;
  if (rest.find(':', colon + 1) != std::string_view::npos) return false;
  *ns = std::string(rest.substr(0, colon));
  *name = std::string(rest.substr(colon + 1));
  return true;
}

struct TokenIssuer::Key {
  PkeyPtr pkey;
};

TokenIssuer::~TokenIssuer() = default;

Result<std::unique_ptr<TokenIssuer>> TokenIssuer::Create(std::string_view private_key_pem, std::string issuer) {
  if (issuer.empty()) return Invalid("service account issuer must not be empty");
  BioPtr bio(BIO_new_mem_buf(private_key_pem.data(), int(private_key_pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    ERR_clear_error();
    return Invalid("service account signing key: no RSA or ECDSA private key in the PEM data");
  }
  std::string alg = AlgorithmOf(key.get());
  if (alg.empty()) return Invalid("service account signing key: must be RSA or ECDSA P-256/P-384/P-521");
  auto out = std::unique_ptr<TokenIssuer>(new TokenIssuer());
  CK_ASSIGN_OR_RETURN(out->key_id_, KeyIdOf(key.get()));
  out->key_ = std::make_unique<Key>(Key{std::move(key)});
  out->issuer_ = std::move(issuer);
  out->alg_ = std::move(alg);
  return out;
}

Result<std::string> TokenIssuer::Issue(const ServiceAccountClaims& c) const {
  Json header = {{"alg", alg_}, {"kid", key_id_}};
  Json k8s = {{"namespace", c.namespace_},
              {"serviceaccount", RefJson({c.service_account_name, c.service_account_uid})}};
  if (c.pod) k8s["pod"] = RefJson(*c.pod);
  if (c.secret) k8s["secret"] = RefJson(*c.secret);
  if (c.node) k8s["node"] = RefJson(*c.node);
  Json payload = {{"iss", issuer_}, {"sub", c.subject}, {"aud", c.audiences}, {"kubernetes.io", std::move(k8s)}};
  if (c.expiry) payload["exp"] = c.expiry;
  if (c.issued_at) payload["iat"] = c.issued_at;
  if (c.not_before) payload["nbf"] = c.not_before;
  if (!c.jti.empty()) payload["jti"] = c.jti;
  std::string input = Base64UrlEncode(Dump(header)) + "." + Base64UrlEncode(Dump(payload));
  CK_ASSIGN_OR_RETURN(std::string sig, Sign(key_->pkey.get(), alg_, input));
  return input + "." + Base64UrlEncode(sig);
}

struct TokenVerifier::Keys {
  struct Entry {
    PkeyPtr pkey;
    std::string alg;
  };
  std::vector<Entry> entries;
};

TokenVerifier::~TokenVerifier() = default;

size_t TokenVerifier::key_count() const { return keys_->entries.size(); }

Result<std::unique_ptr<TokenVerifier>> TokenVerifier::Create(const std::vector<std::string>& key_pems,
                                                             std::vector<std::string> issuers,
                                                             std::vector<std::string> api_audiences) {
  if (issuers.empty()) return Invalid("--service-account-issuer: at least one issuer is required");
  auto out = std::unique_ptr<TokenVerifier>(new TokenVerifier());
  out->keys_ = std::make_unique<Keys>();
  for (size_t i = 0; i < key_pems.size(); ++i) {
    const std::string& pem = key_pems[i];
    BioPtr bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
    size_t found = 0;
    for (;;) {
      char* name = nullptr;
      char* header = nullptr;
      unsigned char* data = nullptr;
      long len = 0;
      if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
      std::string_view type(name);
      const unsigned char* p = data;
      PkeyPtr key;
      if (type == "PUBLIC KEY") {
        key.reset(d2i_PUBKEY(nullptr, &p, len));
      } else if (type == "RSA PUBLIC KEY") {
        key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
      } else if (type == "CERTIFICATE") {
        X509Ptr cert(d2i_X509(nullptr, &p, len));
        if (cert) key.reset(X509_get_pubkey(cert.get()));
      } else if (type == "PRIVATE KEY" || type == "RSA PRIVATE KEY" || type == "EC PRIVATE KEY") {
        PkeyPtr priv(d2i_AutoPrivateKey(nullptr, &p, len));
        if (priv) {
          Result<PkeyPtr> pub = PublicOnly(priv.get());
          if (pub.ok()) key = std::move(*pub);
        }
      }
      OPENSSL_free(name);
      OPENSSL_free(header);
      OPENSSL_free(data);
      if (!key) continue;  // other blocks (EC PARAMETERS, ...) are skipped, as upstream does
      std::string alg = AlgorithmOf(key.get());
      if (alg.empty()) continue;
      out->keys_->entries.push_back({std::move(key), std::move(alg)});
      ++found;
    }
    ERR_clear_error();
    if (found == 0) {
      return Invalid("service account key #" + std::to_string(i + 1) +
                     ": data does not contain any valid RSA or ECDSA public keys");
    }
  }
  if (out->keys_->entries.empty()) return Invalid("--service-account-key-file: at least one key is required");
  out->issuers_ = std::move(issuers);
  out->api_audiences_ = std::move(api_audiences);
  return out;
}

Result<std::unique_ptr<TokenVerifier>> TokenVerifier::FromFiles(const std::vector<std::string>& paths,
                                                                std::vector<std::string> issuers,
                                                                std::vector<std::string> api_audiences) {
  std::vector<std::string> pems;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    if (!in) return Invalid("--service-account-key-file: cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    pems.push_back(ss.str());
  }
  Result<std::unique_ptr<TokenVerifier>> v = Create(pems, std::move(issuers), std::move(api_audiences));
  if (!v.ok()) {
    std::string m = v.status().message();
    // Name the file instead of its position.
    for (size_t i = 0; i < paths.size(); ++i) {
      std::string tag = "service account key #" + std::to_string(i + 1) + ":";
      if (m.rfind(tag, 0) == 0) return Invalid("--service-account-key-file " + paths[i] + ":" + m.substr(tag.size()));
    }
    return v.status();
  }
  return v;
}

bool TokenVerifier::HasAcceptedIssuer(std::string_view token) const {
  std::optional<Parts> parts = SplitJws(token);
  if (!parts) return false;
  std::optional<Json> payload = DecodeJsonSegment(parts->payload);
  if (!payload) return false;
  std::string iss;
  if (!GetString(*payload, "iss", &iss)) return false;
  return Contains(issuers_, iss);
}

Result<ServiceAccountClaims> TokenVerifier::Verify(std::string_view token, WallTime now,
                                                   const std::vector<std::string>& audiences,
                                                   std::vector<std::string>* matched) const {
  std::optional<Parts> parts = SplitJws(token);
  if (!parts) return Unauthorized("token is malformed: not a JWS in compact form");
  std::optional<Json> header = DecodeJsonSegment(parts->header);
  if (!header) return Unauthorized("token is malformed: the header is not base64url JSON");
  std::string alg;
  if (!GetString(*header, "alg", &alg) || alg.empty()) return Unauthorized("token is malformed: no alg in the header");
  if (header->contains("crit")) return Unauthorized("token uses unsupported critical header parameters");
  if (alg != "RS256" && alg != "ES256" && alg != "ES384" && alg != "ES512") {
    return Unauthorized("unexpected signature algorithm \"" + alg + "\"; expected one of [RS256 ES256 ES384 ES512]");
  }
  std::optional<Json> payload = DecodeJsonSegment(parts->payload);
  if (!payload) return Unauthorized("token is malformed: the payload is not base64url JSON");
  std::optional<ServiceAccountClaims> claims = ParseClaims(*payload);
  if (!claims) return Unauthorized("token is malformed: claims have the wrong types");
  if (!Contains(issuers_, claims->issuer)) {
    return Unauthorized("token issuer \"" + claims->issuer + "\" is not accepted");
  }
  std::optional<std::string> sig = Base64UrlDecode(parts->signature);
  if (!sig) return Unauthorized("token is malformed: the signature is not base64url");
  bool verified = false;
  for (const Keys::Entry& k : keys_->entries) {
    if (k.alg == alg && VerifySignature(k.pkey.get(), alg, parts->signing_input, *sig)) {
      verified = true;
      break;
    }
  }
  if (!verified) return Unauthorized("token signature is invalid (no " + alg + " key verifies it)");

  // Audiences: a token without aud is for the API audiences (upstream's legacy rule).
  const std::vector<std::string>& requested = audiences.empty() ? api_audiences_ : audiences;
  const std::vector<std::string>& token_auds = claims->audiences.empty() ? api_audiences_ : claims->audiences;
  std::vector<std::string> common;
  for (const std::string& a : token_auds) {
    if (Contains(requested, a) && !Contains(common, a)) common.push_back(a);
  }
  if (common.empty() && !requested.empty()) {
    return Unauthorized("token audiences " + QuoteList(token_auds) + " is invalid for the target audiences " +
                        QuoteList(requested));
  }

  // go-jose's Claims.Validate with DefaultLeeway, in its order; exp is required.
  const auto at = [](int64_t s) { return WallTime(std::chrono::seconds(s)); };
  if (claims->not_before && now + kServiceAccountTokenLeeway < at(claims->not_before)) {
    return Unauthorized("service account token is not valid yet");
  }
  if (claims->expiry == 0 || now - kServiceAccountTokenLeeway > at(claims->expiry)) {
    return Unauthorized("service account token has expired");
  }
  if (claims->issued_at && now + kServiceAccountTokenLeeway < at(claims->issued_at)) {
    return Unauthorized("service account token is issued in the future");
  }
  if (claims->namespace_.empty() || claims->service_account_name.empty()) {
    return Unauthorized("service account token claims could not be validated: no kubernetes.io namespace or serviceaccount");
  }
  if (matched) *matched = std::move(common);
  return std::move(*claims);
}

Status ValidateBoundObjects(const ServiceAccountClaims& c, const ObjectUidLookup& lookup) {
  const std::string& ns = c.namespace_;
  std::optional<std::string> sa = lookup("serviceaccounts", ns, c.service_account_name);
  if (!sa) return Unauthorized("serviceaccounts \"" + c.service_account_name + "\" not found");
  if (*sa != c.service_account_uid) {
    return Unauthorized("service account UID (" + *sa + ") does not match claim (" + c.service_account_uid + ")");
  }
  if (c.secret) {
    std::optional<std::string> uid = lookup("secrets", ns, c.secret->name);
    if (!uid) return Unauthorized("service account token has been invalidated");
    if (*uid != c.secret->uid) {
      return Unauthorized("secret UID (" + *uid + ") does not match service account secret ref claim (" + c.secret->uid +
                          ")");
    }
  }
  if (c.pod) {
    std::optional<std::string> uid = lookup("pods", ns, c.pod->name);
    if (!uid) return Unauthorized("service account token has been invalidated");
    if (*uid != c.pod->uid) {
      return Unauthorized("pod UID (" + *uid + ") does not match service account pod ref claim (" + c.pod->uid + ")");
    }
  } else if (c.node) {
    // A pod-bound token only informs about its node; a node-bound token needs the node.
    std::optional<std::string> uid = lookup("nodes", "", c.node->name);
    if (!uid) return Unauthorized("service account token has been invalidated");
    if (*uid != c.node->uid) {
      return Unauthorized("node UID (" + *uid + ") does not match service account node ref claim (" + c.node->uid + ")");
    }
  }
  return Status::Ok();
}

}  // namespace ck::apiserver
