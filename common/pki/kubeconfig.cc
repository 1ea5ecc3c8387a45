// Kubeconfig writing and reading (see pki.h). The layout is the one kubeadm writes, so kubectl
// and client-go read it unchanged.

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include "common/pki/pki.h"

namespace ck::pki {
namespace {

constexpr const char* kName = "clearkube";

std::string Base64Encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

ck::Result<std::string> Base64Decode(const std::string& field, std::string in) {
  // kubectl accepts base64 with line breaks; EVP_DecodeBlock does not.
  std::erase_if(in, [](char c) { return c == '\n' || c == '\r' || c == ' '; });
  if (in.size() % 4 != 0) return ck::Invalid(field + ": not base64 (length)");
  std::string out(3 * in.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return ck::Invalid(field + ": not base64");
  // EVP_DecodeBlock counts the zero bytes that stand for '=' padding.
  size_t padding = 0;
  if (!in.empty() && in.back() == '=') ++padding;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// The entry named `name` in a kubeconfig list such as `clusters`, or an undefined node.
YAML::Node FindNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  for (const YAML::Node& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name) return entry;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// A required base64 `*-data` field, decoded.
ck::Result<std::string> DataField(const YAML::Node& node, const std::string& field) {
  std::string encoded = node[field].as<std::string>("");
  if (encoded.empty()) return ck::Invalid("kubeconfig: no " + field);
  auto decoded = Base64Decode(field, std::move(encoded));
  if (!decoded.ok()) return decoded.status().WithPrefix("kubeconfig");
  return decoded;
}

ck::Result<KubeconfigData> ParseKubeconfigOrThrow(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  if (!root.IsMap()) return ck::Invalid("kubeconfig: not a YAML map");
  KubeconfigData data;
  if (!root["current-context"]) return ck::Invalid("kubeconfig: no current-context");
  data.current_context = root["current-context"].as<std::string>();
  YAML::Node context = FindNamed(root["contexts"], data.current_context);
  if (!context || !context["context"]) {
    return ck::Invalid("kubeconfig: context \"" + data.current_context + "\" not found");
  }
  std::string cluster_name = context["context"]["cluster"].as<std::string>("");
  std::string user_name = context["context"]["user"].as<std::string>("");
  YAML::Node cluster = FindNamed(root["clusters"], cluster_name)["cluster"];
  if (!cluster) return ck::Invalid("kubeconfig: cluster \"" + cluster_name + "\" not found");
  YAML::Node user = FindNamed(root["users"], user_name)["user"];
  if (!user) return ck::Invalid("kubeconfig: user \"" + user_name + "\" not found");

  data.server = cluster["server"].as<std::string>("");
  if (data.server.empty()) return ck::Invalid("kubeconfig: cluster has no server");
  CK_ASSIGN_OR_RETURN(data.ca_pem, DataField(cluster, "certificate-authority-data"));
  CK_ASSIGN_OR_RETURN(data.client.cert_pem, DataField(user, "client-certificate-data"));
  CK_ASSIGN_OR_RETURN(data.client.key_pem, DataField(user, "client-key-data"));
  return data;
}

}  // namespace

std::string Kubeconfig(const std::string& server, const std::string& ca_pem,
                       const KeyAndCert& client) {
  auto info = InspectCert(client.cert_pem);
  std::string user = info.ok() && !info->subject_cn.empty() ? info->subject_cn : kName;

  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << kName;
  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "server" << YAML::Value << server;
  out << YAML::Key << "certificate-authority-data" << YAML::Value << Base64Encode(ca_pem);
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << kName;
  out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cluster" << YAML::Value << kName;
  out << YAML::Key << "user" << YAML::Value << user;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "current-context" << YAML::Value << kName;
  out << YAML::Key << "preferences" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << user;
  out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "client-certificate-data" << YAML::Value << Base64Encode(client.cert_pem);
  out << YAML::Key << "client-key-data" << YAML::Value << Base64Encode(client.key_pem);
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

ck::Result<KubeconfigData> ParseKubeconfig(const std::string& yaml) {
  try {
    return ParseKubeconfigOrThrow(yaml);
  } catch (const YAML::Exception& e) {
    return ck::Invalid(std::string("kubeconfig: ") + e.what());
  }
}

}  // namespace ck::pki
