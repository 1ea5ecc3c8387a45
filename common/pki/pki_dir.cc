// The PKI folder `ck pki` writes (DESIGN.md §7): which files, with which identities, and the
// keep-or-reissue rule that makes re-running safe (see WritePkiFiles in pki.h).

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/base/strings.h"
#include "common/pki/pki.h"

namespace ck::pki {
namespace {

using std::chrono::hours;

constexpr auto kCaValidity = hours(24 * 3650);   // 10 years, as kubeadm
constexpr auto kLeafValidity = hours(24 * 365);  // 1 year, as kubeadm
constexpr mode_t kSecretMode = 0600;
constexpr mode_t kPublicMode = 0644;

// --- Files -----------------------------------------------------------------------------------

std::string PathOf(const PkiOptions& options, const std::string& name) {
  return (std::filesystem::path(options.dir) / name).string();
}

std::string ErrnoText(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

// The file's bytes, nullopt if it does not exist.
ck::Result<std::optional<std::string>> ReadFileIfExists(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return ck::Unavailable(ErrnoText("opening", path));
  }
  std::string data;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) data.append(buf, static_cast<size_t>(n));
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return ck::Unavailable(ErrnoText("reading", path));
  }
  return std::optional<std::string>(std::move(data));
}

// Writes through a temporary file in the same folder, so a reader sees the old file or the new
// one, never half of one. With no_replace the final step is link(2), which fails if the name
// exists: the CA can never be overwritten, even by two runs racing.
ck::Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode,
                           bool no_replace) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) return ck::Unavailable(ErrnoText("creating", tmp));
  bool ok = fchmod(fd, mode) == 0;
  for (size_t off = 0; ok && off < data.size();) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  std::string error = ok ? "" : ErrnoText("writing", tmp);
  close(fd);
  if (ok && no_replace) {
    if (link(tmp.c_str(), path.c_str()) != 0) {
      error = errno == EEXIST ? path + " appeared while writing it; not replacing it"
                              : ErrnoText("linking", path);
      ok = false;
    }
  } else if (ok && rename(tmp.c_str(), path.c_str()) != 0) {
    error = ErrnoText("renaming to", path);
    ok = false;
  }
  if (no_replace || !ok) unlink(tmp.c_str());
  if (!ok) return ck::Unavailable(error);
  return ck::Status::Ok();
}

// A kept private key must not stay readable by others.
ck::Status TightenMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return ck::Unavailable(ErrnoText("stat", path));
  if ((st.st_mode & 0777) != kSecretMode && chmod(path.c_str(), kSecretMode) != 0) {
    return ck::Unavailable(ErrnoText("chmod", path));
  }
  return ck::Status::Ok();
}

// --- What to issue ---------------------------------------------------------------------------

CertSpec CaSpec() {
  CertSpec spec;
  spec.common_name = "kubernetes-ca";
  spec.is_ca = true;
  spec.validity = kCaValidity;
  return spec;
}

CertSpec ClientSpec(std::string cn, std::vector<std::string> orgs = {}) {
  CertSpec spec;
  spec.common_name = std::move(cn);
  spec.organizations = std::move(orgs);
  spec.client_auth = true;
  spec.validity = kLeafValidity;
  return spec;
}

CertSpec ServerSpec(std::string cn, std::vector<std::string> orgs, std::vector<std::string> dns,
                    std::vector<std::string> ips) {
  CertSpec spec;
  spec.common_name = std::move(cn);
  spec.organizations = std::move(orgs);
  spec.dns_names = std::move(dns);
  spec.ip_addresses = std::move(ips);
  spec.server_auth = true;
  spec.validity = kLeafValidity;
  return spec;
}

struct Issued {
  std::string name;  // file stem: NAME.crt + NAME.key, or NAME.kubeconfig
  CertSpec spec;
};

// Serving and client certificates written as .crt/.key pairs.
std::vector<Issued> CertFiles(const PkiOptions& options, const std::string& service_ip) {
  std::vector<Issued> out;
  out.push_back(
      {"apiserver", ServerSpec("kube-apiserver", {},
                               {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                "kubernetes.default.svc.cluster.local", "apiserver", "localhost"},
                               {"127.0.0.1", service_ip})});
  // The apiserver's client identity towards kubelets (logs, exec); kubeadm's name and group.
  out.push_back({"apiserver-kubelet-client",
                 ClientSpec("kube-apiserver-kubelet-client", {"system:masters"})});
  for (int i = 1; i <= options.nodes; ++i) {
    out.push_back(
        {"kubelet-" + NodeName(i),
         ServerSpec("system:node:" + NodeName(i), {"system:nodes"}, {NodeName(i)}, {NodeIp(i)})});
  }
  return out;
}

// Client identities written as kubeconfigs; CN = user, O = groups, as RBAC's defaults expect.
std::vector<Issued> KubeconfigFiles(const PkiOptions& options) {
  std::vector<Issued> out;
  out.push_back({"admin", ClientSpec("kubernetes-admin", {"system:masters"})});
  out.push_back({"scheduler", ClientSpec("system:kube-scheduler")});
  out.push_back({"controller-manager", ClientSpec("system:kube-controller-manager")});
  out.push_back({"kube-proxy", ClientSpec("system:kube-proxy")});
  for (int i = 1; i <= options.nodes; ++i) {
    out.push_back(
        {"kubelet-" + NodeName(i), ClientSpec("system:node:" + NodeName(i), {"system:nodes"})});
  }
  return out;
}

// --- Keep or reissue -------------------------------------------------------------------------

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// True if `pair` is what IssueCert(spec, ca) would make now, up to keys, serials and times.
bool StillMatches(const KeyAndCert& pair, const CertSpec& spec, const KeyAndCert& ca) {
  auto info = InspectCert(pair.cert_pem);
  if (!info.ok()) return false;
  return info->subject_cn == spec.common_name && info->organizations == spec.organizations &&
         Sorted(info->dns_names) == Sorted(spec.dns_names) &&
         Sorted(info->ip_addresses) == Sorted(spec.ip_addresses) && info->is_ca == spec.is_ca &&
         info->server_auth == spec.server_auth && info->client_auth == spec.client_auth &&
         VerifyCert(pair.cert_pem, ca.cert_pem).ok() &&
         CheckKeyMatchesCert(pair.key_pem, pair.cert_pem).ok();
}

class PkiWriter {
 public:
  explicit PkiWriter(const PkiOptions& options) : options_(options) {}

  ck::Result<PkiReport> Run() {
    CK_ASSIGN_OR_RETURN(std::string service_ip, FirstServiceIp(options_.service_cidr));
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) return ck::Unavailable("creating " + options_.dir + ": " + ec.message());

    CK_ASSIGN_OR_RETURN(KeyAndCert ca, EnsureCa());
    CK_RETURN_IF_ERROR(EnsureServiceAccountKey());
    for (const Issued& cert : CertFiles(options_, service_ip)) {
      CK_RETURN_IF_ERROR(EnsureCertPair(cert, ca));
    }
    for (const Issued& user : KubeconfigFiles(options_)) {
      CK_RETURN_IF_ERROR(EnsureKubeconfig(user, ca));
    }
    return report_;
  }

 private:
  ck::Result<std::optional<std::string>> Read(const std::string& name) {
    return ReadFileIfExists(PathOf(options_, name));
  }

  ck::Status Write(const std::string& name, const std::string& data, mode_t mode,
                   bool no_replace = false) {
    CK_RETURN_IF_ERROR(WriteFileAtomic(PathOf(options_, name), data, mode, no_replace));
    report_.written.push_back(name);
    return ck::Status::Ok();
  }

  ck::Status Keep(const std::string& name, bool secret) {
    if (secret) CK_RETURN_IF_ERROR(TightenMode(PathOf(options_, name)));
    report_.kept.push_back(name);
    return ck::Status::Ok();
  }

  // The CA is never replaced: a wrong or half CA stops the run before anything is written.
  ck::Result<KeyAndCert> EnsureCa() {
    CK_ASSIGN_OR_RETURN(auto cert, Read("ca.crt"));
    CK_ASSIGN_OR_RETURN(auto key, Read("ca.key"));
    const std::string where = " in " + options_.dir;
    if (cert && !key) {
      return ck::Conflict("ca.crt exists without ca.key" + where +
                          "; restore ca.key, or remove ca.crt to make a new CA");
    }
    if (!cert && !key) {
      CK_ASSIGN_OR_RETURN(KeyAndCert ca, CreateCA(CaSpec()));
      CK_RETURN_IF_ERROR(Write("ca.key", ca.key_pem, kSecretMode, /*no_replace=*/true));
      CK_RETURN_IF_ERROR(Write("ca.crt", ca.cert_pem, kPublicMode, /*no_replace=*/true));
      return ca;
    }
    if (!cert) {
      // A run stopped between the two writes, or ca.crt was lost: self-sign the same key again.
      auto ca = CreateCAWithKey(CaSpec(), *key);
      if (!ca.ok()) return ck::Conflict("ca.key" + where + ": " + ca.status().message());
      CK_RETURN_IF_ERROR(Keep("ca.key", /*secret=*/true));
      CK_RETURN_IF_ERROR(Write("ca.crt", ca->cert_pem, kPublicMode, /*no_replace=*/true));
      return KeyAndCert{*key, ca->cert_pem};
    }
    KeyAndCert ca{*key, *cert};
    auto info = InspectCert(ca.cert_pem);
    if (!info.ok()) return ck::Conflict("ca.crt" + where + ": " + info.status().message());
    if (!info->is_ca) return ck::Conflict("ca.crt" + where + " is not a CA certificate");
    if (info->not_after <= std::chrono::system_clock::now()) {
      return ck::Conflict("ca.crt" + where +
                          " has expired; remove ca.crt and ca.key to make a new CA");
    }
    ck::Status match = CheckKeyMatchesCert(ca.key_pem, ca.cert_pem);
    if (!match.ok()) return ck::Conflict("ca.key" + where + ": " + match.message());
    CK_RETURN_IF_ERROR(Keep("ca.key", /*secret=*/true));
    CK_RETURN_IF_ERROR(Keep("ca.crt", /*secret=*/false));
    return ca;
  }

  // sa.key signs every ServiceAccount token, so it is never replaced; sa.pub is derived from it.
  ck::Status EnsureServiceAccountKey() {
    CK_ASSIGN_OR_RETURN(auto key, Read("sa.key"));
    std::string key_pem;
    if (key) {
      key_pem = *key;
      CK_RETURN_IF_ERROR(Keep("sa.key", /*secret=*/true));
    } else {
      CK_ASSIGN_OR_RETURN(key_pem, GenerateKeyPem());
      CK_RETURN_IF_ERROR(Write("sa.key", key_pem, kSecretMode, /*no_replace=*/true));
    }
    auto pub = PublicKeyPem(key_pem);
    if (!pub.ok()) {
      return ck::Conflict("sa.key in " + options_.dir + ": " + pub.status().message() +
                          "; remove it to make a new one (existing tokens stop working)");
    }
    CK_ASSIGN_OR_RETURN(auto existing, Read("sa.pub"));
    if (existing && *existing == *pub) return Keep("sa.pub", /*secret=*/false);
    return Write("sa.pub", *pub, kPublicMode);
  }

  ck::Status EnsureCertPair(const Issued& issued, const KeyAndCert& ca) {
    const std::string crt = issued.name + ".crt", key = issued.name + ".key";
    CK_ASSIGN_OR_RETURN(auto crt_data, Read(crt));
    CK_ASSIGN_OR_RETURN(auto key_data, Read(key));
    if (crt_data && key_data && StillMatches({*key_data, *crt_data}, issued.spec, ca)) {
      CK_RETURN_IF_ERROR(Keep(key, /*secret=*/true));
      return Keep(crt, /*secret=*/false);
    }
    auto pair = IssueCert(issued.spec, ca);
    if (!pair.ok()) return pair.status().WithPrefix(crt);
    // Key first: a run stopped in between leaves a mismatched pair, which the next run replaces.
    CK_RETURN_IF_ERROR(Write(key, pair->key_pem, kSecretMode));
    return Write(crt, pair->cert_pem, kPublicMode);
  }

  ck::Status EnsureKubeconfig(const Issued& issued, const KeyAndCert& ca) {
    const std::string file = issued.name + ".kubeconfig";
    CK_ASSIGN_OR_RETURN(auto existing, Read(file));
    if (existing) {
      auto parsed = ParseKubeconfig(*existing);
      if (parsed.ok() && parsed->current_context == "clearkube" &&
          parsed->server == options_.server && parsed->ca_pem == ca.cert_pem &&
          StillMatches(parsed->client, issued.spec, ca)) {
        return Keep(file, /*secret=*/true);
      }
    }
    auto client = IssueCert(issued.spec, ca);
    if (!client.ok()) return client.status().WithPrefix(file);
    // Kubeconfigs hold a private key, so they are as secret as one (kubeadm writes them 0600).
    return Write(file, Kubeconfig(options_.server, ca.cert_pem, *client), kSecretMode);
  }

  const PkiOptions& options_;
  PkiReport report_;
};

}  // namespace

std::string NodeName(int i) { return "node-" + std::to_string(i); }
std::string NodeIp(int i) { return "127.0.1." + std::to_string(i); }

ck::Result<std::string> FirstServiceIp(const std::string& cidr) {
  const std::string quoted = "\"" + cidr + "\"";
  if (cidr.find(':') != std::string::npos) {
    return ck::Invalid(quoted + " is IPv6; only IPv4 service ranges are supported");
  }
  size_t slash = cidr.find('/');
  in_addr addr{};
  std::optional<int64_t> prefix = slash == std::string::npos
                                      ? std::nullopt
                                      : ck::ParseInt(std::string_view(cidr).substr(slash + 1));
  if (!prefix || inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &addr) != 1) {
    return ck::Invalid(quoted + " is not an IPv4 CIDR such as 10.96.0.0/12");
  }
  if (*prefix < 12 || *prefix > 30) {
    return ck::Invalid(quoted + ": the prefix must be between /12 and /30");
  }
  uint32_t mask = ~uint32_t{0} << (32 - *prefix);
  uint32_t first = (ntohl(addr.s_addr) & mask) + 1;
  in_addr out{htonl(first)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &out, buf, sizeof(buf));
  return std::string(buf);
}

ck::Status ValidatePkiOptions(const PkiOptions& options) {
  if (options.dir.empty()) return ck::Invalid("--dir: is required");
  if (options.nodes < 1 || options.nodes > kMaxNodes) {
    return ck::Invalid("--nodes: must be between 1 and " + std::to_string(kMaxNodes) + ", got " +
                       std::to_string(options.nodes));
  }
  auto ip = FirstServiceIp(options.service_cidr);
  if (!ip.ok()) return ip.status().WithPrefix("--service-cidr");
  const std::string_view scheme = "https://";
  bool printable = std::all_of(options.server.begin(), options.server.end(),
                               [](char c) { return c > ' ' && c != 0x7f; });
  if (!options.server.starts_with(scheme) || options.server.size() == scheme.size() || !printable) {
    return ck::Invalid("--server: must be an https:// URL such as https://127.0.0.1:6443, got \"" +
                       options.server + "\"");
  }
  return ck::Status::Ok();
}

ck::Result<PkiReport> WritePkiFiles(const PkiOptions& options) {
  CK_RETURN_IF_ERROR(ValidatePkiOptions(options));
  return PkiWriter(options).Run();
}

ck::Status WritePki(const PkiOptions& options) { return WritePkiFiles(options).status(); }

}  // namespace ck::pki
