// VolumeManager: see volume_manager.h. Each volume kind builds a payload (configMap, secret,
// downwardAPI, projected) written by AtomicWrite, or prepares a directory (emptyDir) or checks a
// host path (hostPath). Upstream: pkg/volume/{emptydir,hostpath,configmap,secret,downwardapi,
// projected}, pkg/kubelet/token/token_manager.go, makeMounts in pkg/kubelet/kubelet_pods.go.
#include "kubelet/volume/volume_manager.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "kubelet/env/environment.h"
#include "kubelet/volume/atomic_writer.h"

namespace ck::kubelet {
namespace {

namespace corev1 = k8s::io::api::core::v1;
namespace authv1 = k8s::io::api::authentication::v1;
namespace fs = std::filesystem;

constexpr int kDefaultMode = 0644;           // upstream defaultMode 420
constexpr int64_t kDefaultTokenSeconds = 3600;  // ServiceAccountTokenProjection default
constexpr auto kMaxTokenTtl = std::chrono::hours(24);

// The kind of a volume as upstream names its plugin directory ("kubernetes.io~configmap"), or ""
// when the volume has no directory under the pod (hostPath) or is not supported.
std::string PluginDir(const corev1::Volume& v) {
  if (v.volumesource().has_emptydir()) return "kubernetes.io~empty-dir";
  if (v.volumesource().has_configmap()) return "kubernetes.io~configmap";
  if (v.volumesource().has_secret()) return "kubernetes.io~secret";
  if (v.volumesource().has_downwardapi()) return "kubernetes.io~downward-api";
  if (v.volumesource().has_projected()) return "kubernetes.io~projected";
  return "";
}

// Data volumes the kubelet always mounts read-only (ReadOnlyAPIDataVolumes).
bool IsApiDataVolume(const corev1::Volume& v) {
  return v.volumesource().has_configmap() || v.volumesource().has_secret() || v.volumesource().has_downwardapi() || v.volumesource().has_projected();
}

std::string JoinErrors(const std::vector<std::string>& errors) {
  // utilerrors.NewAggregate: one error as itself, several as "[a, b]".
  if (errors.size() == 1) return errors[0];
  return "[" + Join(errors, ", ") + "]";
}

std::string NotFoundMessage(std::string_view kind, const std::string& name) {
  return std::string(kind) + " \"" + name + "\" not found";
}

// Keys of a configMap (data and binaryData) or secret as one map.
std::map<std::string, std::string> ConfigMapData(const corev1::ConfigMap& cm) {
  std::map<std::string, std::string> out(cm.data().begin(), cm.data().end());
  for (const auto& [k, v] : cm.binarydata()) out[k] = v;
  return out;
}
std::map<std::string, std::string> SecretData(const corev1::Secret& s) {
  return std::map<std::string, std::string>(s.data().begin(), s.data().end());
}

// configmap.MakePayload / secret.MakePayload: every key, or the listed items.
Status AddKeys(const std::map<std::string, std::string>& data,
               const google::protobuf::RepeatedPtrField<corev1::KeyToPath>& items, int default_mode, bool optional,
               std::string_view missing_key_message, Payload* payload) {
  if (items.empty()) {
    for (const auto& [k, v] : data) (*payload)[k] = FileProjection{v, default_mode};
    return Status::Ok();
  }
  for (const auto& item : items) {
    auto it = data.find(item.key());
    if (it == data.end()) {
      if (optional) continue;
      return NotFound(std::string(missing_key_message) + item.key());
    }
    (*payload)[item.path()] = FileProjection{it->second, item.has_mode() ? item.mode() : default_mode};
  }
  return Status::Ok();
}

EnvContext DownwardContext(const corev1::Pod& pod, const VolumeDeps& deps) {
  EnvContext c;
  c.node_name = pod.spec().nodename();
  c.pod_ip = pod.status().podip();
  for (const auto& ip : pod.status().podips()) c.pod_ips.push_back(ip.ip());
  c.host_ip = pod.status().hostip();
  c.node_allocatable_cpu = deps.node_allocatable_cpu;
  c.node_allocatable_memory = deps.node_allocatable_memory;
  c.config_map = deps.config_map;
  c.secret = deps.secret;
  return c;
}

Status AddDownwardItems(const corev1::Pod& pod, const VolumeDeps& deps,
                        const google::protobuf::RepeatedPtrField<corev1::DownwardAPIVolumeFile>& items,
                        int default_mode, Payload* payload) {
  EnvContext context = DownwardContext(pod, deps);
  std::vector<std::string> errors;
  for (const auto& item : items) {
    Result<std::string> value = std::string();
    if (item.has_fieldref()) {
      value = PodFieldValue(pod, item.fieldref(), context);
    } else if (item.has_resourcefieldref()) {
      value = ContainerResourceValue(pod, nullptr, item.resourcefieldref(), context);
    }
    if (!value.ok()) {
      errors.push_back(value.status().message());
      continue;
    }
    (*payload)[item.path()] = FileProjection{*value, item.has_mode() ? item.mode() : default_mode};
  }
  if (!errors.empty()) return Internal(JoinErrors(errors));
  return Status::Ok();
}

// hostPath type checks, as upstream's checkTypeInternal.
Status CheckHostPath(const corev1::HostPathVolumeSource& hp) {
  const std::string& path = hp.path();
  const std::string type = hp.type();
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  auto fail = [&](std::string_view what) {
    return Invalid("hostPath type check failed: " + path + " is not a " + std::string(what));
  };
  if (type.empty()) return Status::Ok();
  if (type == "DirectoryOrCreate" || type == "Directory") {
    if (!exists && type == "DirectoryOrCreate") {
      std::error_code ec;
      fs::create_directories(path, ec);
      if (ec) return Internal("mkdir " + path + ": " + ec.message());
      ::chmod(path.c_str(), 0755);
      return Status::Ok();
    }
    if (!exists || !S_ISDIR(st.st_mode)) return fail("directory");
    return Status::Ok();
  }
  if (type == "FileOrCreate" || type == "File") {
    if (!exists && type == "FileOrCreate") {
      int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) return Internal("create " + path + ": " + std::strerror(errno));
      ::close(fd);
      return Status::Ok();
    }
    if (!exists || !S_ISREG(st.st_mode)) return fail("file");
    return Status::Ok();
  }
  if (type == "Socket") return exists && S_ISSOCK(st.st_mode) ? Status::Ok() : fail("socket file");
  if (type == "CharDevice") return exists && S_ISCHR(st.st_mode) ? Status::Ok() : fail("character device");
  if (type == "BlockDevice") return exists && S_ISBLK(st.st_mode) ? Status::Ok() : fail("block device");
  return Invalid(type + " is an invalid volume type");
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  // FTW_PHYS reports symlinks as links: remove() unlinks the link, never its target.
  if (::remove(path) != 0 && errno != ENOENT) return -1;
  return 0;
}

// realpath, or "" when it fails.
std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return "";
  return buf;
}

bool Within(const std::string& path, const std::string& base) {
  return path == base || (path.size() > base.size() && path.compare(0, base.size(), base) == 0 &&
                          (base.back() == '/' || path[base.size()] == '/'));
}

}  // namespace

VolumeManager::VolumeManager(VolumeDeps deps) : deps_(std::move(deps)) {
  CK_CHECK(deps_.clock != nullptr) << "VolumeDeps.clock is required";
  CK_CHECK(!deps_.root_dir.empty()) << "VolumeDeps.root_dir is required";
}

Status VolumeManager::SetUpPod(const corev1::Pod& pod) {
  Status first;
  for (const auto& volume : pod.spec().volumes()) {
    Status s = SetUpVolume(pod, volume);
    if (!s.ok()) {
      s = Status(s.code(), "MountVolume.SetUp failed for volume \"" + volume.name() + "\" : " + s.message());
      CK_LOG_WARNING("Volume set-up failed", "pod", api::ObjectKey(pod.metadata()), "volume", volume.name(),
                     "err", s.message());
      if (first.ok()) first = s;
    }
  }
  return first;
}

Status VolumeManager::SetUpVolume(const corev1::Pod& pod, const corev1::Volume& volume) {
  const std::string& ns = pod.metadata().namespace_();
  const std::string plugin = PluginDir(volume);
  if (volume.volumesource().has_hostpath()) return CheckHostPath(volume.volumesource().hostpath());
  if (plugin.empty()) return Invalid("volume kind not supported on this node");
  const std::string dir = deps_.root_dir + "/pods/" + pod.metadata().uid() + "/volumes/" + plugin + "/" + volume.name();

  if (volume.volumesource().has_emptydir()) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Internal("mkdir " + dir + ": " + ec.message());
    // emptyDir is world-writable, as upstream (containers may run as any user).
    if (::chmod(dir.c_str(), 0777) != 0) return Internal("chmod " + dir + ": " + std::strerror(errno));
    return Status::Ok();
  }

  Payload payload;
  if (volume.volumesource().has_configmap()) {
    const auto& src = volume.volumesource().configmap();
    const std::string& name = src.localobjectreference().name();
    int mode = src.has_defaultmode() ? src.defaultmode() : kDefaultMode;
    Result<corev1::ConfigMap> cm = deps_.config_map ? deps_.config_map(ns, name) : Result<corev1::ConfigMap>(NotFound(""));
    if (!cm.ok()) {
      if (cm.status().code() != Code::kNotFound) return cm.status();
      if (!src.optional()) return NotFound(NotFoundMessage("configmap", name));
    } else {
      CK_RETURN_IF_ERROR(AddKeys(ConfigMapData(*cm), src.items(), mode, src.optional(),
                                 "configmap references non-existent config key: ", &payload));
    }
  } else if (volume.volumesource().has_secret()) {
    const auto& src = volume.volumesource().secret();
    const std::string& name = src.secretname();
    int mode = src.has_defaultmode() ? src.defaultmode() : kDefaultMode;
    Result<corev1::Secret> secret = deps_.secret ? deps_.secret(ns, name) : Result<corev1::Secret>(NotFound(""));
    if (!secret.ok()) {
      if (secret.status().code() != Code::kNotFound) return secret.status();
      if (!src.optional()) return NotFound(NotFoundMessage("secret", name));
    } else {
      CK_RETURN_IF_ERROR(AddKeys(SecretData(*secret), src.items(), mode, src.optional(),
                                 "references non-existent secret key: ", &payload));
    }
  } else if (volume.volumesource().has_downwardapi()) {
    const auto& src = volume.volumesource().downwardapi();
    int mode = src.has_defaultmode() ? src.defaultmode() : kDefaultMode;
    CK_RETURN_IF_ERROR(AddDownwardItems(pod, deps_, src.items(), mode, &payload));
  } else if (volume.volumesource().has_projected()) {
    const auto& src = volume.volumesource().projected();
    int mode = src.has_defaultmode() ? src.defaultmode() : kDefaultMode;
    std::vector<std::string> errors;
    for (const auto& p : src.sources()) {
      Status s;
      if (p.has_configmap()) {
        const std::string& name = p.configmap().localobjectreference().name();
        Result<corev1::ConfigMap> cm = deps_.config_map ? deps_.config_map(ns, name) : Result<corev1::ConfigMap>(NotFound(""));
        if (!cm.ok()) {
          if (cm.status().code() != Code::kNotFound) {
            s = cm.status();
          } else if (!p.configmap().optional()) {
            s = NotFound(NotFoundMessage("configmap", name));
          }
        } else {
          s = AddKeys(ConfigMapData(*cm), p.configmap().items(), mode, p.configmap().optional(),
                      "configmap references non-existent config key: ", &payload);
        }
      } else if (p.has_secret()) {
        const std::string& name = p.secret().localobjectreference().name();
        Result<corev1::Secret> secret = deps_.secret ? deps_.secret(ns, name) : Result<corev1::Secret>(NotFound(""));
        if (!secret.ok()) {
          if (secret.status().code() != Code::kNotFound) {
            s = secret.status();
          } else if (!p.secret().optional()) {
            s = NotFound(NotFoundMessage("secret", name));
          }
        } else {
          s = AddKeys(SecretData(*secret), p.secret().items(), mode, p.secret().optional(),
                      "references non-existent secret key: ", &payload);
        }
      } else if (p.has_downwardapi()) {
        s = AddDownwardItems(pod, deps_, p.downwardapi().items(), mode, &payload);
      } else if (p.has_serviceaccounttoken()) {
        Result<std::string> token = ServiceAccountToken(pod, p.serviceaccounttoken());
        if (token.ok()) {
          payload[p.serviceaccounttoken().path()] = FileProjection{*token, mode};
        } else {
          s = token.status();
        }
      } else {
        s = Invalid("projected source kind not supported on this node");
      }
      if (!s.ok()) errors.push_back(s.message());
    }
    if (!errors.empty()) return Internal(JoinErrors(errors));
  }
  return AtomicWrite(dir, payload, *deps_.clock);
}

Result<std::string> VolumeManager::ServiceAccountToken(const corev1::Pod& pod,
                                                       const corev1::ServiceAccountTokenProjection& source) {
  const std::string& ns = pod.metadata().namespace_();
  std::string sa = pod.spec().serviceaccountname().empty() ? "default" : pod.spec().serviceaccountname();
  int64_t seconds = source.has_expirationseconds() ? source.expirationseconds() : kDefaultTokenSeconds;
  std::string key = ns + "/" + sa + "/" + source.audience() + "/" + std::to_string(seconds) + "/" + pod.metadata().uid();
  WallTime now = deps_.clock->Now();

  std::optional<authv1::TokenRequest> cached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end()) cached = it->second.token;
  }
  if (cached) {
    // token_manager.requiresRefresh: after 80 % of the lifetime, or 24 h after issue.
    WallTime exp = api::WallTimeOf(cached->status().expirationtimestamp());
    int64_t ttl = cached->spec().has_expirationseconds() ? cached->spec().expirationseconds() : seconds;
    WallTime iat = exp - std::chrono::seconds(ttl);
    bool refresh = now > iat + kMaxTokenTtl || now > exp - std::chrono::seconds(ttl * 20 / 100);
    if (!refresh) return cached->status().token();
  }

  authv1::TokenRequest request;
  if (!source.audience().empty()) request.mutable_spec()->add_audiences(source.audience());
  request.mutable_spec()->set_expirationseconds(seconds);
  auto* ref = request.mutable_spec()->mutable_boundobjectref();
  ref->set_apiversion("v1");
  ref->set_kind("Pod");
  ref->set_name(pod.metadata().name());
  ref->set_uid(pod.metadata().uid());
  Result<authv1::TokenRequest> answer =
      deps_.request_token ? deps_.request_token(ns, sa, request) : Result<authv1::TokenRequest>(Unavailable("no token client"));
  if (!answer.ok()) {
    // A token that has not expired yet is still good to keep in the volume.
    if (cached && now < api::WallTimeOf(cached->status().expirationtimestamp())) return cached->status().token();
    return Status(answer.status().code(), "failed to fetch token: " + answer.status().message());
  }
  if (!answer->spec().has_expirationseconds()) answer->mutable_spec()->set_expirationseconds(seconds);
  std::string token = answer->status().token();
  std::lock_guard<std::mutex> lock(mu_);
  tokens_[key] = CachedToken{pod.metadata().uid(), std::move(answer).value()};
  return token;
}

Result<std::vector<Mount>> VolumeManager::MountsFor(const corev1::Pod& pod, const corev1::Container& container) const {
  std::vector<Mount> mounts;
  std::optional<std::map<std::string, std::string>> env;  // built on the first subPathExpr
  for (const auto& vm : container.volumemounts()) {
    const corev1::Volume* volume = nullptr;
    for (const auto& v : pod.spec().volumes()) {
      if (v.name() == vm.name()) volume = &v;
    }
    if (volume == nullptr) {
      return NotFound("cannot find volume \"" + vm.name() + "\" to mount into container \"" + container.name() + "\"");
    }
    std::string volume_path;
    if (volume->volumesource().has_hostpath()) {
      volume_path = volume->volumesource().hostpath().path();
    } else {
      std::string plugin = PluginDir(*volume);
      if (plugin.empty()) return Invalid("volume \"" + vm.name() + "\": kind not supported on this node");
      volume_path = deps_.root_dir + "/pods/" + pod.metadata().uid() + "/volumes/" + plugin + "/" + volume->name();
      struct stat st;
      if (::stat(volume_path.c_str(), &st) != 0) return Unavailable("volume \"" + vm.name() + "\" is not set up");
    }

    std::string sub_path = vm.subpath();
    if (!vm.subpathexpr().empty()) {
      if (!env) {
        Result<EnvList> list = MakeEnvironment(pod, container, DownwardContext(pod, deps_));
        if (!list.ok()) return list.status();
        env.emplace();
        for (auto& [k, v] : *list) (*env)[k] = v;
      }
      std::set<std::string> missing;
      sub_path = ExpandVars(vm.subpathexpr(), [&](const std::string& name) -> std::optional<std::string> {
        auto it = env->find(name);
        if (it == env->end() || it->second.empty()) {
          missing.insert(name);
          return std::string();
        }
        return it->second;
      });
      if (!missing.empty()) {
        return Invalid("missing value for " + Join(std::vector<std::string>(missing.begin(), missing.end()), ", "));
      }
    }

    std::string host_path = volume_path;
    if (!sub_path.empty()) {
      if (sub_path[0] == '/') return Invalid("error SubPath `" + sub_path + "` must not be an absolute path");
      for (std::string_view part : Split(sub_path, '/')) {
        if (part == "..") return Invalid("unable to provision SubPath `" + sub_path + "`: must not contain '..'");
      }
      host_path = volume_path + "/" + sub_path;
      struct stat st;
      if (::lstat(host_path.c_str(), &st) != 0) {
        // Upstream creates a missing subPath directory before the container starts, inside the volume.
        std::error_code ec;
        fs::create_directories(host_path, ec);
        if (ec) {
          return Internal("failed to create subPath directory for volumeMount \"" + vm.name() + "\" of container \"" +
                          container.name() + "\"");
        }
      }
      // A symlink inside the volume must not lead out of it.
      std::string real_volume = RealPath(volume_path), real = RealPath(host_path);
      if (real_volume.empty() || real.empty() || !Within(real, real_volume)) {
        return Invalid("subpath \"" + host_path + "\" not within volume path \"" + volume_path + "\"");
      }
    }
    mounts.push_back(Mount{host_path, vm.mountpath(), vm.readonly() || IsApiDataVolume(*volume)});
  }
  return mounts;
}

Status VolumeManager::TearDownPod(const std::string& pod_uid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = tokens_.begin(); it != tokens_.end();) {
      it = it->second.pod_uid == pod_uid ? tokens_.erase(it) : std::next(it);
    }
  }
  if (pod_uid.empty() || pod_uid.find('/') != std::string::npos || pod_uid == "." || pod_uid == "..") {
    return Invalid("invalid pod uid \"" + pod_uid + "\"");
  }
  const std::string dir = deps_.root_dir + "/pods/" + pod_uid + "/volumes";
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return Status::Ok();
  if (!S_ISDIR(st.st_mode)) return Internal(dir + " is not a directory");
  // Depth first, never following symlinks (FTW_PHYS) nor crossing into another file system
  // (FTW_MOUNT: a mount point inside is left alone, so its parent cannot be removed either).
  if (::nftw(dir.c_str(), RemoveEntry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
    return Internal("remove " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace ck::kubelet
