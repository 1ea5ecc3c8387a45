// Kubeconfig loading (see config.h). common/pki's ParseKubeconfig reads only the -data form that
// `ck pki` writes; components also get kubeconfigs with file paths and tokens, so the full
// client-go subset is read here with yaml-cpp.

#include "common/client/rest/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "common/base/strings.h"

namespace ck::client {
namespace {

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable("error reading " + path);
  return ss.str();
}

// The entry named `name` in a kubeconfig list such as `clusters`, or an undefined node.
YAML::Node FindNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  for (const YAML::Node& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>("") == name) return entry;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string Scalar(const YAML::Node& node, const char* field) {
  YAML::Node v = node[field];
  if (!v || !v.IsScalar()) return "";
  return v.as<std::string>("");
}

// A credential given either inline (`<field>-data`, base64) or as a file (`<field>`).
Result<std::string> Credential(const YAML::Node& node, const std::string& field,
                               const std::string& base_dir) {
  std::string data = Scalar(node, (field + "-data").c_str());
  if (!data.empty()) {
    std::string out;
    if (!DecodeBase64(TrimSpace(data), &out)) return Invalid(field + "-data: not base64");
    return out;
  }
  std::string file = Scalar(node, field.c_str());
  if (file.empty()) return std::string();
  Result<std::string> content = ReadWholeFile(Resolve(base_dir, file));
  if (!content.ok()) return content.status().WithPrefix(field);
  return content;
}

Result<RestConfig> ParseOrThrow(const std::string& yaml, const std::string& base_dir,
                                const std::string& context_name) {
  YAML::Node root = YAML::Load(yaml);
  if (!root.IsMap()) return Invalid("not a YAML map");
  std::string name = context_name.empty() ? Scalar(root, "current-context") : context_name;
  if (name.empty()) return Invalid("no current-context");
  YAML::Node context = FindNamed(root["contexts"], name)["context"];
  if (!context) return Invalid("context \"" + name + "\" not found");
  std::string cluster_name = Scalar(context, "cluster");
  std::string user_name = Scalar(context, "user");
  YAML::Node cluster = FindNamed(root["clusters"], cluster_name)["cluster"];
  if (!cluster) return Invalid("cluster \"" + cluster_name + "\" not found");

  RestConfig config;
  config.server = Scalar(cluster, "server");
  if (config.server.empty()) return Invalid("cluster \"" + cluster_name + "\" has no server");
  CK_ASSIGN_OR_RETURN(config.ca_pem, Credential(cluster, "certificate-authority", base_dir));
  config.tls_server_name = Scalar(cluster, "tls-server-name");
  config.insecure_skip_tls_verify = Scalar(cluster, "insecure-skip-tls-verify") == "true";

  // A context without a user is anonymous (kubectl allows it).
  if (!user_name.empty()) {
    YAML::Node user = FindNamed(root["users"], user_name)["user"];
    if (!user) return Invalid("user \"" + user_name + "\" not found");
    if (user["exec"] || user["auth-provider"]) {
      return Invalid("user \"" + user_name + "\": exec and auth-provider credentials are not supported");
    }
    CK_ASSIGN_OR_RETURN(config.cert_pem, Credential(user, "client-certificate", base_dir));
    CK_ASSIGN_OR_RETURN(config.key_pem, Credential(user, "client-key", base_dir));
    if (config.cert_pem.empty() != config.key_pem.empty()) {
      return Invalid("user \"" + user_name + "\": client certificate and key must be given together");
    }
    config.bearer_token = Scalar(user, "token");
    std::string token_file = Scalar(user, "tokenFile");
    if (!token_file.empty()) {
      config.bearer_token_file = Resolve(base_dir, token_file);
      Result<std::string> token = ReadWholeFile(config.bearer_token_file);
      if (!token.ok()) return token.status().WithPrefix("tokenFile");
    }
  }
  CK_RETURN_IF_ERROR(ParseServerUrl(config.server).status());
  return config;
}

}  // namespace

Result<RestConfig> ParseKubeconfig(const std::string& yaml, const std::string& base_dir,
                                   const std::string& context) {
  try {
    return ParseOrThrow(yaml, base_dir, context);
  } catch (const YAML::Exception& e) {
    return Invalid(e.what());
  }
}

Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  Result<std::string> yaml = ReadWholeFile(path);
  if (!yaml.ok()) return yaml.status().WithPrefix("kubeconfig");
  Result<RestConfig> config = ParseKubeconfig(*yaml, Dir(path), context);
  if (!config.ok()) return config.status().WithPrefix("kubeconfig " + path);
  return config;
}

std::string MakeUserAgent(const std::string& component, const std::string& version) {
#if defined(__x86_64__)
  constexpr const char* kArch = "amd64";
#elif defined(__aarch64__)
  constexpr const char* kArch = "arm64";
#else
  constexpr const char* kArch = "unknown";
#endif
  return component + "/" + version + " (linux/" + kArch + ") clearkube";
}

Result<ServerUrl> ParseServerUrl(const std::string& server) {
  ServerUrl url;
  std::string_view rest = server;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    url.tls = false;
    url.port = 80;
    rest.remove_prefix(7);
  } else {
    return Invalid("server \"" + server + "\": the scheme must be https:// or http://");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    url.path_prefix = std::string(prefix);
  }
  std::string_view port;
  if (authority.starts_with('[')) {  // [::1]:6443
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid("server \"" + server + "\": unterminated [");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Invalid("server \"" + server + "\": bad host");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return Invalid("server \"" + server + "\": no host");
  if (!port.empty() || authority.ends_with(':')) {
    std::optional<uint64_t> p = ParseUint(port);
    if (!p || *p == 0 || *p > 65535) return Invalid("server \"" + server + "\": bad port");
    url.port = static_cast<uint16_t>(*p);
  }
  return url;
}

}  // namespace ck::client
