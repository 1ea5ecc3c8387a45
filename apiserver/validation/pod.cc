#include "apiserver/validation/pod.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <functional>
#include <map>
#include <tuple>

#include "common/api/quantity.h"
#include "common/base/strings.h"

namespace ck::apiserver::validation {

namespace {

using ck::api::Quantity;

constexpr std::string_view kFileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive";
const std::vector<std::string> kPortProtocols = {"SCTP", "TCP", "UDP"};
constexpr int kMaxDNSNameservers = 3;
constexpr int kMaxDNSSearchPaths = 32;
constexpr size_t kMaxDNSSearchListChars = 2048;

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

// ---- paths on disk ----------------------------------------------------------------------------

bool IsAbs(std::string_view p) { return !p.empty() && p.front() == '/'; }

FieldErrors ValidatePathNoBacksteps(std::string_view target, const Path& path) {
  size_t start = 0;
  while (start <= target.size()) {
    size_t slash = target.find('/', start);
    std::string_view item = target.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (item == "..") return {Invalid(path, Q(target), "must not contain '..'")};
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return {};
}

FieldErrors ValidateLocalDescendingPath(std::string_view target, const Path& path) {
  FieldErrors errs;
  if (IsAbs(target)) errs.push_back(Invalid(path, Q(target), "must be a relative path"));
  Append(errs, ValidatePathNoBacksteps(target, path));
  return errs;
}

FieldErrors ValidateLocalNonReservedPath(std::string_view target, const Path& path) {
  FieldErrors errs = ValidateLocalDescendingPath(target, path);
  if (target.substr(0, 2) == ".." && target.substr(0, 3) != "../") {
    errs.push_back(Invalid(path, Q(target), "must not start with '..'"));
  }
  return errs;
}

FieldErrors ValidateMode(bool has, int32_t mode, const Path& path) {
  if (has && (mode > 0777 || mode < 0)) return {Invalid(path, Num(mode), std::string(kFileModeErrorMsg))};
  return {};
}

// ---- volumes ----------------------------------------------------------------------------------

FieldErrors ValidateKeyToPath(const corev1::KeyToPath& kp, const Path& path) {
  FieldErrors errs;
  if (kp.key().empty()) errs.push_back(Required(path.Child("key")));
  if (kp.path().empty()) errs.push_back(Required(path.Child("path")));
  Append(errs, ValidateLocalNonReservedPath(kp.path(), path.Child("path")));
  Append(errs, ValidateMode(kp.has_mode(), kp.mode(), path.Child("mode")));
  return errs;
}

const std::vector<std::string> kVolumeFieldPaths = {"metadata.annotations", "metadata.labels", "metadata.name",
                                                    "metadata.namespace", "metadata.uid"};
const std::vector<std::string> kEnvFieldPaths = {"metadata.name",       "metadata.namespace",      "metadata.uid",
                                                 "spec.nodeName",       "spec.serviceAccountName", "status.hostIP",
                                                 "status.hostIPs",      "status.podIP",            "status.podIPs"};
const std::vector<std::string> kResourceFieldPaths = {"limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
                                                      "requests.cpu", "requests.ephemeral-storage", "requests.memory"};

// Upstream's ConvertDownwardAPIFieldLabel for v1 followed by the subscript split.
FieldErrors ValidateObjectFieldSelector(const corev1::ObjectFieldSelector& fs, const std::vector<std::string>& allowed,
                                        const Path& path) {
  if (fs.apiversion().empty()) return {Required(path.Child("apiVersion"))};
  if (fs.fieldpath().empty()) return {Required(path.Child("fieldPath"))};
  if (fs.apiversion() != "v1") {
    return {Invalid(path.Child("fieldPath"), Q(fs.fieldpath()),
                    "error converting fieldPath: unsupported pod version: " + fs.apiversion())};
  }
  const std::string& fp = fs.fieldpath();
  std::string base = fp;
  std::string subscript;
  bool subscripted = false;
  size_t open = fp.find('[');
  if (open != std::string::npos && fp.size() > open + 3 && fp.back() == ']' && fp[open + 1] == '\'' &&
      fp[fp.size() - 2] == '\'') {
    base = fp.substr(0, open);
    subscript = fp.substr(open + 2, fp.size() - open - 4);
    subscripted = true;
  }
  static const std::set<std::string> kConvertible = {
      "metadata.annotations", "metadata.labels", "metadata.name",  "metadata.namespace", "metadata.uid",
      "spec.nodeName",        "spec.restartPolicy", "spec.serviceAccountName", "spec.schedulerName",
      "status.phase",         "status.hostIP",   "status.hostIPs", "status.podIP",       "status.podIPs"};
  bool convertible = subscripted ? (base == "metadata.annotations" || base == "metadata.labels") : kConvertible.count(base) > 0;
  if (!convertible) {
    return {Invalid(path.Child("fieldPath"), Q(fp), "error converting fieldPath: field label not supported: " + fp)};
  }
  if (subscripted) {
    if (base == "metadata.annotations") {
      std::string lower = subscript;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      return ValidateQualifiedNameField(lower, path);
    }
    return ValidateQualifiedNameField(subscript, path);
  }
  if (std::find(allowed.begin(), allowed.end(), base) == allowed.end()) {
    return {NotSupported(path.Child("fieldPath"), Q(base), allowed)};
  }
  return {};
}

FieldErrors ValidateResourceFieldSelector(const corev1::ResourceFieldSelector& fs, const Path& path, bool volume) {
  FieldErrors errs;
  const std::string& r = fs.resource();
  if (volume && fs.containername().empty()) {
    errs.push_back(Required(path.Child("containerName")));
  } else if (r.empty()) {
    errs.push_back(Required(path.Child("resource")));
  } else if (std::find(kResourceFieldPaths.begin(), kResourceFieldPaths.end(), r) == kResourceFieldPaths.end() &&
             r.rfind("requests.hugepages-", 0) != 0 && r.rfind("limits.hugepages-", 0) != 0) {
    errs.push_back(NotSupported(path.Child("resource"), Q(r), kResourceFieldPaths));
  }
  if (fs.has_divisor() && !fs.divisor().string().empty()) {
    auto q = Quantity::Parse(fs.divisor().string());
    if (q.ok() && !q->IsZero()) {
      std::string d = q->String();
      static const std::set<std::string> kMemory = {"1",  "1k", "1M", "1G", "1T", "1P", "1E",
                                                    "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"};
      if ((r == "limits.cpu" || r == "requests.cpu") && d != "1m" && d != "1") {
        errs.push_back(Invalid(path.Child("divisor"), Q(r), "only divisor's values 1m and 1 are supported with the cpu resource"));
      } else if ((r == "limits.memory" || r == "requests.memory") && !kMemory.count(d)) {
        errs.push_back(Invalid(path.Child("divisor"), Q(r),
                               "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are "
                               "supported with the memory resource"));
      } else if ((r == "limits.ephemeral-storage" || r == "requests.ephemeral-storage") && !kMemory.count(d)) {
        errs.push_back(Invalid(path.Child("divisor"), Q(r),
                               "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are "
                               "supported with the local ephemeral storage resource"));
      }
    }
  }
  return errs;
}

FieldErrors ValidateDownwardAPIFile(const corev1::DownwardAPIVolumeFile& file, const Path& path) {
  FieldErrors errs;
  if (file.path().empty()) errs.push_back(Required(path.Child("path")));
  Append(errs, ValidateLocalNonReservedPath(file.path(), path.Child("path")));
  if (file.has_fieldref()) {
    Append(errs, ValidateObjectFieldSelector(file.fieldref(), kVolumeFieldPaths, path.Child("fieldRef")));
    if (file.has_resourcefieldref()) {
      errs.push_back(Invalid(path, Q("resource"), "fieldRef and resourceFieldRef can not be specified simultaneously"));
    }
  } else if (file.has_resourcefieldref()) {
    Append(errs, ValidateResourceFieldSelector(file.resourcefieldref(), path.Child("resourceFieldRef"), true));
  } else {
    errs.push_back(Required(path, "one of fieldRef and resourceFieldRef is required"));
  }
  Append(errs, ValidateMode(file.has_mode(), file.mode(), path.Child("mode")));
  return errs;
}

FieldErrors ValidateProjected(const corev1::ProjectedVolumeSource& proj, const Path& path) {
  FieldErrors errs = ValidateMode(proj.has_defaultmode(), proj.defaultmode(), path.Child("defaultMode"));
  std::set<std::string> all_paths;
  auto add_path = [&](const std::string& p, const std::string& value) {
    if (p.empty()) return;
    if (!all_paths.insert(p).second) errs.push_back(Invalid(path, Q(value), "conflicting duplicate paths"));
  };
  for (int i = 0; i < proj.sources_size(); ++i) {
    const auto& src = proj.sources(i);
    Path sp = path.Child("sources").Index(i);
    int n = 0;
    if (src.has_secret()) {
      ++n;
      Path pp = sp.Child("secret");
      if (src.secret().localobjectreference().name().empty()) errs.push_back(Required(pp.Child("name")));
      for (int j = 0; j < src.secret().items_size(); ++j) {
        Append(errs, ValidateKeyToPath(src.secret().items(j), pp.Child("items").Index(j)));
        add_path(src.secret().items(j).path(), src.secret().localobjectreference().name());
      }
    }
    if (src.has_configmap()) {
      ++n;
      Path pp = sp.Child("configMap");
      if (src.configmap().localobjectreference().name().empty()) errs.push_back(Required(pp.Child("name")));
      for (int j = 0; j < src.configmap().items_size(); ++j) {
        Append(errs, ValidateKeyToPath(src.configmap().items(j), pp.Child("items").Index(j)));
        add_path(src.configmap().items(j).path(), src.configmap().localobjectreference().name());
      }
    }
    if (src.has_downwardapi()) {
      ++n;
      for (const auto& f : src.downwardapi().items()) {
        Append(errs, ValidateDownwardAPIFile(f, sp.Child("downwardAPI")));
        add_path(f.path(), f.path());
      }
    }
    if (src.has_serviceaccounttoken()) {
      ++n;
      const auto& t = src.serviceaccounttoken();
      Path pp = sp.Child("serviceAccountToken");
      int64_t exp = t.has_expirationseconds() ? t.expirationseconds() : 3600;
      if (exp < 10 * 60) {
        errs.push_back(Invalid(pp.Child("expirationSeconds"), Num(exp), "may not specify a duration less than 10 minutes"));
      }
      if (exp > (int64_t{1} << 32)) {
        errs.push_back(Invalid(pp.Child("expirationSeconds"), Num(exp), "may not specify a duration larger than 2^32 seconds"));
      }
      if (t.path().empty()) {
        errs.push_back(Required(path.Child("path")));
      } else {
        Append(errs, ValidateLocalNonReservedPath(t.path(), path.Child("path")));
      }
    }
    if (src.has_clustertrustbundle()) {
      ++n;
      const auto& c = src.clustertrustbundle();
      Path pp = sp.Child("clusterTrustBundle");
      if (c.has_name() && c.has_signername()) {
        errs.push_back(Invalid(pp, "core.ClusterTrustBundleProjection{...}", "only one of name and signerName may be used"));
      } else if (c.has_name()) {
        if (c.name().empty()) errs.push_back(Required(pp.Child("name"), "must be a valid object name"));
      } else if (c.has_signername()) {
        if (c.signername().empty()) errs.push_back(Required(pp.Child("signerName"), "must be a valid signer name"));
        Append(errs, ValidateLabelSelector(c.has_labelselector() ? &c.labelselector() : nullptr, pp.Child("labelSelector")));
      } else {
        errs.push_back(Required(pp, "either name or signerName must be specified"));
      }
      if (c.path().empty()) errs.push_back(Required(pp.Child("path")));
      Append(errs, ValidateLocalNonReservedPath(c.path(), pp.Child("path")));
      add_path(c.path(), c.path());
    }
    if (n > 1) errs.push_back(Forbidden(sp, "may not specify more than 1 volume type per source"));
  }
  return errs;
}

const std::vector<std::string> kHostPathTypes = {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate",
                                                 "File", "FileOrCreate", "Socket"};
const std::vector<std::string> kPullPolicies = {"Always", "IfNotPresent", "Never"};

FieldErrors ValidatePullPolicy(const std::string& policy, const Path& path) {
  if (policy == "Always" || policy == "IfNotPresent" || policy == "Never") return {};
  if (policy.empty()) return {Required(path)};
  return {NotSupported(path, Q(policy), kPullPolicies)};
}

// One entry per volume source in upstream's order: the first one set wins, the others are
// "may not specify more than 1 volume type".
struct VolumeSourceCheck {
  const char* name;           // path used for the "more than 1" error
  std::function<bool(const corev1::VolumeSource&)> has;
  std::function<FieldErrors(const corev1::VolumeSource&, const Path& vol_path)> validate;
};

FieldErrors Req(bool missing, const Path& p) { return missing ? FieldErrors{Required(p)} : FieldErrors{}; }

const std::vector<VolumeSourceCheck>& VolumeSourceChecks() {
  using VS = corev1::VolumeSource;
  static const std::vector<VolumeSourceCheck> checks = {
      {"emptyDir", [](const VS& s) { return s.has_emptydir(); },
       [](const VS& s, const Path& p) -> FieldErrors {
         if (s.emptydir().has_sizelimit()) {
           auto q = Quantity::Parse(s.emptydir().sizelimit().string());
           if (q.ok() && q->Sign() < 0) {
             return {Forbidden(p.Child("emptyDir").Child("sizeLimit"), "SizeLimit field must be a valid resource quantity")};
           }
         }
         return {};
       }},
      {"hostPath", [](const VS& s) { return s.has_hostpath(); },
       [](const VS& s, const Path& p) -> FieldErrors {
         Path hp = p.Child("hostPath");
         if (s.hostpath().path().empty()) return {Required(hp.Child("path"))};
         FieldErrors errs = ValidatePathNoBacksteps(s.hostpath().path(), hp.Child("path"));
         if (s.hostpath().has_type() &&
             std::find(kHostPathTypes.begin(), kHostPathTypes.end(), s.hostpath().type()) == kHostPathTypes.end()) {
           errs.push_back(NotSupported(hp.Child("type"), Q(s.hostpath().type()), kHostPathTypes));
         }
         return errs;
       }},
      {"gitRepo", [](const VS& s) { return s.has_gitrepo(); },
       [](const VS& s, const Path& p) {
         FieldErrors errs = Req(s.gitrepo().repository().empty(), p.Child("gitRepo").Child("repository"));
         Append(errs, ValidateLocalDescendingPath(s.gitrepo().directory(), p.Child("gitRepo").Child("directory")));
         return errs;
       }},
      {"gcePersistentDisk", [](const VS& s) { return s.has_gcepersistentdisk(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("persistentDisk");  // upstream's path for this source
         FieldErrors errs = Req(s.gcepersistentdisk().pdname().empty(), pp.Child("pdName"));
         int32_t part = s.gcepersistentdisk().partition();
         if (part < 0 || part > 255) errs.push_back(Invalid(pp.Child("partition"), Num(part), InclusiveRangeError(1, 255)));
         return errs;
       }},
      {"awsElasticBlockStore", [](const VS& s) { return s.has_awselasticblockstore(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("awsElasticBlockStore");
         FieldErrors errs = Req(s.awselasticblockstore().volumeid().empty(), pp.Child("volumeID"));
         int32_t part = s.awselasticblockstore().partition();
         if (part < 0 || part > 255) errs.push_back(Invalid(pp.Child("partition"), Num(part), InclusiveRangeError(1, 255)));
         return errs;
       }},
      {"secret", [](const VS& s) { return s.has_secret(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("secret");
         FieldErrors errs = Req(s.secret().secretname().empty(), pp.Child("secretName"));
         Append(errs, ValidateMode(s.secret().has_defaultmode(), s.secret().defaultmode(), pp.Child("defaultMode")));
         for (int i = 0; i < s.secret().items_size(); ++i) {
           Append(errs, ValidateKeyToPath(s.secret().items(i), pp.Child("items").Index(i)));
         }
         return errs;
       }},
      {"nfs", [](const VS& s) { return s.has_nfs(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("nfs");
         FieldErrors errs = Req(s.nfs().server().empty(), pp.Child("server"));
         Append(errs, Req(s.nfs().path().empty(), pp.Child("path")));
         if (!IsAbs(s.nfs().path())) errs.push_back(Invalid(pp.Child("path"), Q(s.nfs().path()), "must be an absolute path"));
         return errs;
       }},
      {"iscsi", [](const VS& s) { return s.has_iscsi(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("iscsi");
         FieldErrors errs = Req(s.iscsi().targetportal().empty(), pp.Child("targetPortal"));
         Append(errs, Req(s.iscsi().iqn().empty(), pp.Child("iqn")));
         int32_t lun = s.iscsi().lun();
         if (lun < 0 || lun > 255) errs.push_back(Invalid(pp.Child("lun"), Num(lun), InclusiveRangeError(0, 255)));
         return errs;
       }},
      {"glusterfs", [](const VS& s) { return s.has_glusterfs(); },
       [](const VS& s, const Path& p) {
         FieldErrors errs = Req(s.glusterfs().endpoints().empty(), p.Child("glusterfs").Child("endpoints"));
         Append(errs, Req(s.glusterfs().path().empty(), p.Child("glusterfs").Child("path")));
         return errs;
       }},
      {"flocker", [](const VS& s) { return s.has_flocker(); },
       [](const VS& s, const Path& p) -> FieldErrors {
         Path pp = p.Child("flocker");
         const auto& f = s.flocker();
         FieldErrors errs;
         if (f.datasetname().empty() && f.datasetuuid().empty()) {
           errs.push_back(Required(pp, "one of datasetName and datasetUUID is required"));
         }
         if (!f.datasetname().empty() && !f.datasetuuid().empty()) {
           errs.push_back(Invalid(pp, Q("resource"), "datasetName and datasetUUID can not be specified simultaneously"));
         }
         if (f.datasetname().find('/') != std::string::npos) {
           errs.push_back(Invalid(pp.Child("datasetName"), Q(f.datasetname()), "must not contain '/'"));
         }
         return errs;
       }},
      {"persistentVolumeClaim", [](const VS& s) { return s.has_persistentvolumeclaim(); },
       [](const VS& s, const Path& p) {
         return Req(s.persistentvolumeclaim().claimname().empty(), p.Child("persistentVolumeClaim").Child("claimName"));
       }},
      {"rbd", [](const VS& s) { return s.has_rbd(); },
       [](const VS& s, const Path& p) {
         FieldErrors errs = Req(s.rbd().monitors().empty(), p.Child("rbd").Child("monitors"));
         Append(errs, Req(s.rbd().image().empty(), p.Child("rbd").Child("image")));
         return errs;
       }},
      {"cinder", [](const VS& s) { return s.has_cinder(); },
       [](const VS& s, const Path& p) { return Req(s.cinder().volumeid().empty(), p.Child("cinder").Child("volumeID")); }},
      {"cephFS", [](const VS& s) { return s.has_cephfs(); },
       [](const VS& s, const Path& p) { return Req(s.cephfs().monitors().empty(), p.Child("cephfs").Child("monitors")); }},
      {"quobyte", [](const VS& s) { return s.has_quobyte(); },
       [](const VS& s, const Path& p) {
         FieldErrors errs;
         if (s.quobyte().registry().empty()) {
           errs.push_back(Required(p.Child("quobyte").Child("registry"),
                                   "must be a host:port pair or multiple pairs separated by commas"));
         }
         Append(errs, Req(s.quobyte().volume().empty(), p.Child("quobyte").Child("volume")));
         return errs;
       }},
      {"downwarAPI", [](const VS& s) { return s.has_downwardapi(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("downwardAPI");
         FieldErrors errs = ValidateMode(s.downwardapi().has_defaultmode(), s.downwardapi().defaultmode(), pp.Child("defaultMode"));
         for (const auto& f : s.downwardapi().items()) Append(errs, ValidateDownwardAPIFile(f, pp));
         return errs;
       }},
      {"fc", [](const VS& s) { return s.has_fc(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("fc");
         const auto& fc = s.fc();
         FieldErrors errs;
         if (fc.targetwwns().empty() && fc.wwids().empty()) {
           errs.push_back(Required(pp.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"));
         }
         if (!fc.targetwwns().empty() && !fc.wwids().empty()) {
           errs.push_back(Invalid(pp.Child("targetWWNs"), GoStrings(fc.targetwwns()),
                                  "targetWWNs and wwids can not be specified simultaneously"));
         }
         if (!fc.targetwwns().empty()) {
           if (!fc.has_lun()) {
             errs.push_back(Required(pp.Child("lun"), "lun is required if targetWWNs is specified"));
           } else if (fc.lun() < 0 || fc.lun() > 255) {
             errs.push_back(Invalid(pp.Child("lun"), Num(fc.lun()), InclusiveRangeError(0, 255)));
           }
         }
         return errs;
       }},
      {"flexVolume", [](const VS& s) { return s.has_flexvolume(); },
       [](const VS& s, const Path& p) { return Req(s.flexvolume().driver().empty(), p.Child("flexVolume").Child("driver")); }},
      {"configMap", [](const VS& s) { return s.has_configmap(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("configMap");
         FieldErrors errs = Req(s.configmap().localobjectreference().name().empty(), pp.Child("name"));
         Append(errs, ValidateMode(s.configmap().has_defaultmode(), s.configmap().defaultmode(), pp.Child("defaultMode")));
         for (int i = 0; i < s.configmap().items_size(); ++i) {
           Append(errs, ValidateKeyToPath(s.configmap().items(i), pp.Child("items").Index(i)));
         }
         return errs;
       }},
      {"azureFile", [](const VS& s) { return s.has_azurefile(); },
       [](const VS& s, const Path& p) {
         FieldErrors errs = Req(s.azurefile().secretname().empty(), p.Child("azureFile").Child("secretName"));
         Append(errs, Req(s.azurefile().sharename().empty(), p.Child("azureFile").Child("shareName")));
         return errs;
       }},
      {"vsphereVolume", [](const VS& s) { return s.has_vspherevolume(); },
       [](const VS& s, const Path& p) {
         return Req(s.vspherevolume().volumepath().empty(), p.Child("vsphereVolume").Child("volumePath"));
       }},
      {"photonPersistentDisk", [](const VS& s) { return s.has_photonpersistentdisk(); },
       [](const VS& s, const Path& p) {
         return Req(s.photonpersistentdisk().pdid().empty(), p.Child("photonPersistentDisk").Child("pdID"));
       }},
      {"portworxVolume", [](const VS& s) { return s.has_portworxvolume(); },
       [](const VS& s, const Path& p) {
         return Req(s.portworxvolume().volumeid().empty(), p.Child("portworxVolume").Child("volumeID"));
       }},
      {"azureDisk", [](const VS& s) { return s.has_azuredisk(); },
       [](const VS& s, const Path& p) {
         FieldErrors errs = Req(s.azuredisk().diskname().empty(), p.Child("azureDisk").Child("diskName"));
         Append(errs, Req(s.azuredisk().diskuri().empty(), p.Child("azureDisk").Child("diskURI")));
         return errs;
       }},
      {"storageos", [](const VS& s) { return s.has_storageos(); }, [](const VS&, const Path&) { return FieldErrors{}; }},
      {"projected", [](const VS& s) { return s.has_projected(); },
       [](const VS& s, const Path& p) { return ValidateProjected(s.projected(), p.Child("projected")); }},
      {"scaleIO", [](const VS& s) { return s.has_scaleio(); },
       [](const VS& s, const Path& p) {
         Path pp = p.Child("scaleIO");
         FieldErrors errs = Req(s.scaleio().gateway().empty(), pp.Child("gateway"));
         Append(errs, Req(s.scaleio().system().empty(), pp.Child("system")));
         Append(errs, Req(s.scaleio().volumename().empty(), pp.Child("volumeName")));
         return errs;
       }},
      {"csi", [](const VS& s) { return s.has_csi(); },
       [](const VS& s, const Path& p) -> FieldErrors {
         Path pp = p.Child("csi");
         if (s.csi().driver().empty()) return {Required(pp.Child("driver"))};
         FieldErrors errs;
         if (s.csi().driver().size() > 63) errs.push_back(TooLong(pp.Child("driver"), 63));
         Append(errs, ValidateDNS1123SubdomainField(s.csi().driver(), pp.Child("driver")));
         return errs;
       }},
      {"ephemeral", [](const VS& s) { return s.has_ephemeral(); },
       [](const VS& s, const Path& p) {
         return Req(!s.ephemeral().has_volumeclaimtemplate(), p.Child("ephemeral").Child("volumeClaimTemplate"));
       }},
      {"image", [](const VS& s) { return s.has_image(); },
       [](const VS& s, const Path& p) {
         return ValidatePullPolicy(s.image().pullpolicy(), p.Child("image").Child("pullPolicy"));
       }},
  };
  return checks;
}

// Returns the valid volumes by name (value: is it a PVC-backed source).
FieldErrors ValidateVolumes(const Repeated<corev1::Volume>& volumes, const Path& path,
                            std::map<std::string, const corev1::VolumeSource*>* valid) {
  FieldErrors all;
  for (int i = 0; i < volumes.size(); ++i) {
    const auto& vol = volumes.Get(i);
    Path idx = path.Index(i);
    Path name_path = idx.Child("name");
    FieldErrors el;
    int n = 0;
    for (const auto& check : VolumeSourceChecks()) {
      if (!check.has(vol.volumesource())) continue;
      if (n > 0) {
        el.push_back(Forbidden(idx.Child(check.name), "may not specify more than 1 volume type"));
      } else {
        ++n;
        Append(el, check.validate(vol.volumesource(), idx));
      }
    }
    if (n == 0) el.push_back(Required(idx, "must specify a volume type"));
    if (vol.name().empty()) {
      el.push_back(Required(name_path));
    } else {
      Append(el, ValidateDNS1123LabelField(vol.name(), name_path));
    }
    if (valid->count(vol.name())) el.push_back(Duplicate(name_path, Q(vol.name())));
    if (el.empty()) {
      (*valid)[vol.name()] = &vol.volumesource();
    } else {
      Append(all, std::move(el));
    }
  }
  return all;
}

// ---- containers -------------------------------------------------------------------------------

FieldErrors ValidatePortNumOrName(const IntOrString& port, const Path& path) {
  FieldErrors errs;
  if (!IsStr(port)) {
    for (auto& m : IsValidPortNum(port.intval())) errs.push_back(Invalid(path, Num(port.intval()), m));
  } else {
    for (auto& m : IsValidPortName(port.strval())) errs.push_back(Invalid(path, Q(port.strval()), m));
  }
  return errs;
}

FieldErrors ValidateContainerPorts(const Repeated<corev1::ContainerPort>& ports, const Path& path) {
  FieldErrors errs;
  std::set<std::string> names;
  for (int i = 0; i < ports.size(); ++i) {
    const auto& port = ports.Get(i);
    Path idx = path.Index(i);
    if (!port.name().empty()) {
      Msgs msgs = IsValidPortName(port.name());
      if (!msgs.empty()) {
        for (auto& m : msgs) errs.push_back(Invalid(idx.Child("name"), Q(port.name()), m));
      } else if (!names.insert(port.name()).second) {
        errs.push_back(Duplicate(idx.Child("name"), Q(port.name())));
      }
    }
    if (port.containerport() == 0) {
      errs.push_back(Required(idx.Child("containerPort")));
    } else {
      for (auto& m : IsValidPortNum(port.containerport())) {
        errs.push_back(Invalid(idx.Child("containerPort"), Num(port.containerport()), m));
      }
    }
    if (port.hostport() != 0) {
      for (auto& m : IsValidPortNum(port.hostport())) errs.push_back(Invalid(idx.Child("hostPort"), Num(port.hostport()), m));
    }
    if (port.protocol().empty()) {
      errs.push_back(Required(idx.Child("protocol")));
    } else if (std::find(kPortProtocols.begin(), kPortProtocols.end(), port.protocol()) == kPortProtocols.end()) {
      errs.push_back(NotSupported(idx.Child("protocol"), Q(port.protocol()), kPortProtocols));
    }
  }
  return errs;
}

FieldErrors ValidateKeySelector(const std::string& name, const std::string& key, const Path& path) {
  FieldErrors errs;
  for (auto& m : ValidateName(NameRule::kDNSSubdomain, name, false)) errs.push_back(Invalid(path.Child("name"), Q(name), m));
  if (key.empty()) {
    errs.push_back(Required(path.Child("key")));
  } else {
    for (auto& m : IsConfigMapKey(key)) errs.push_back(Invalid(path.Child("key"), Q(key), m));
  }
  return errs;
}

FieldErrors ValidateEnv(const Repeated<corev1::EnvVar>& env, const Path& path) {
  FieldErrors errs;
  for (int i = 0; i < env.size(); ++i) {
    const auto& ev = env.Get(i);
    Path idx = path.Index(i);
    if (ev.name().empty()) {
      errs.push_back(Required(idx.Child("name")));
    } else {
      for (auto& m : IsRelaxedEnvVarName(ev.name())) errs.push_back(Invalid(idx.Child("name"), Q(ev.name()), m));
    }
    if (!ev.has_valuefrom()) continue;
    const auto& vf = ev.valuefrom();
    Path vp = idx.Child("valueFrom");
    int n = 0;
    if (vf.has_fieldref()) {
      ++n;
      Append(errs, ValidateObjectFieldSelector(vf.fieldref(), kEnvFieldPaths, vp.Child("fieldRef")));
    }
    if (vf.has_resourcefieldref()) {
      ++n;
      Append(errs, ValidateResourceFieldSelector(vf.resourcefieldref(), vp.Child("resourceFieldRef"), false));
    }
    if (vf.has_configmapkeyref()) {
      ++n;
      Append(errs, ValidateKeySelector(vf.configmapkeyref().localobjectreference().name(), vf.configmapkeyref().key(),
                                       vp.Child("configMapKeyRef")));
    }
    if (vf.has_secretkeyref()) {
      ++n;
      Append(errs, ValidateKeySelector(vf.secretkeyref().localobjectreference().name(), vf.secretkeyref().key(),
                                       vp.Child("secretKeyRef")));
    }
    if (n == 0) {
      errs.push_back(Invalid(vp, Q(""), "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    } else if (!ev.value().empty()) {
      errs.push_back(Invalid(vp, Q(""), "may not be specified when `value` is not empty"));
    } else if (n > 1) {
      errs.push_back(Invalid(vp, Q(""), "may not have more than one field specified at a time"));
    }
  }
  return errs;
}

FieldErrors ValidateEnvFrom(const Repeated<corev1::EnvFromSource>& env_from, const Path& path) {
  FieldErrors errs;
  for (int i = 0; i < env_from.size(); ++i) {
    const auto& ev = env_from.Get(i);
    Path idx = path.Index(i);
    if (!ev.prefix().empty()) {
      for (auto& m : IsRelaxedEnvVarName(ev.prefix())) errs.push_back(Invalid(idx.Child("prefix"), Q(ev.prefix()), m));
    }
    int n = 0;
    auto check_ref = [&](const std::string& name, const Path& p) {
      if (name.empty()) {
        errs.push_back(Required(p.Child("name")));
      } else {
        for (auto& m : ValidateName(NameRule::kDNSSubdomain, name, true)) errs.push_back(Invalid(p.Child("name"), Q(name), m));
      }
    };
    if (ev.has_configmapref()) {
      ++n;
      check_ref(ev.configmapref().localobjectreference().name(), idx.Child("configMapRef"));
    }
    if (ev.has_secretref()) {
      ++n;
      check_ref(ev.secretref().localobjectreference().name(), idx.Child("secretRef"));
    }
    if (n == 0) {
      errs.push_back(Invalid(path, Q(""), "must specify one of: `configMapRef` or `secretRef`"));
    } else if (n > 1) {
      errs.push_back(Invalid(path, Q(""), "may not have more than one field specified at a time"));
    }
  }
  return errs;
}

using VolumeMap = std::map<std::string, const corev1::VolumeSource*>;

bool HasVolume(const VolumeMap& volumes, const PodSpecOptions& opts, const std::string& name) {
  return volumes.count(name) > 0 || opts.extra_volumes.count(name) > 0;
}

FieldErrors ValidateVolumeMounts(const corev1::Container& c, const VolumeMap& volumes, const PodSpecOptions& opts,
                                 const Path& path) {
  FieldErrors errs;
  std::map<std::string, std::string> devices;
  for (const auto& d : c.volumedevices()) devices[d.name()] = d.devicepath();
  std::set<std::string> mountpoints;
  for (int i = 0; i < c.volumemounts_size(); ++i) {
    const auto& mnt = c.volumemounts(i);
    Path idx = path.Index(i);
    if (mnt.name().empty()) errs.push_back(Required(idx.Child("name")));
    if (!HasVolume(volumes, opts, mnt.name())) errs.push_back(NotFound(idx.Child("name"), Q(mnt.name())));
    if (mnt.mountpath().empty()) errs.push_back(Required(idx.Child("mountPath")));
    if (mountpoints.count(mnt.mountpath())) errs.push_back(Invalid(idx.Child("mountPath"), Q(mnt.mountpath()), "must be unique"));
    mountpoints.insert(mnt.mountpath());
    if (devices.count(mnt.name())) {
      errs.push_back(Invalid(idx.Child("name"), Q(mnt.name()), "must not already exist in volumeDevices"));
    }
    for (const auto& [n, p] : devices) {
      if (p == mnt.mountpath()) {
        errs.push_back(Invalid(idx.Child("mountPath"), Q(mnt.mountpath()), "must not already exist as a path in volumeDevices"));
        break;
      }
    }
    auto vol = volumes.find(mnt.name());
    if (vol != volumes.end() && vol->second->has_image()) {
      if (!mnt.subpath().empty()) errs.push_back(Invalid(idx.Child("subPath"), Q(mnt.subpath()), "not allowed in image volume sources"));
      if (!mnt.subpathexpr().empty()) {
        errs.push_back(Invalid(idx.Child("subPathExpr"), Q(mnt.subpathexpr()), "not allowed in image volume sources"));
      }
    }
    if (!mnt.subpath().empty()) Append(errs, ValidateLocalDescendingPath(mnt.subpath(), path.Child("subPath")));
    if (!mnt.subpathexpr().empty()) {
      if (!mnt.subpath().empty()) {
        errs.push_back(Invalid(idx.Child("subPathExpr"), Q(mnt.subpathexpr()), "subPathExpr and subPath are mutually exclusive"));
      }
      Append(errs, ValidateLocalDescendingPath(mnt.subpathexpr(), path.Child("subPathExpr")));
    }
    if (mnt.has_mountpropagation()) {
      const std::string& mp = mnt.mountpropagation();
      Path pp = path.Child("mountPropagation");
      if (mp != "Bidirectional" && mp != "HostToContainer" && mp != "None") {
        errs.push_back(NotSupported(pp, Q(mp), {"Bidirectional", "HostToContainer", "None"}));
      }
      bool privileged = c.has_securitycontext() && c.securitycontext().has_privileged() && c.securitycontext().privileged();
      if (mp == "Bidirectional" && !privileged) {
        errs.push_back(Forbidden(pp, "Bidirectional mount propagation is available only to privileged containers"));
      }
    }
    if (mnt.has_recursivereadonly()) {
      const std::string& rro = mnt.recursivereadonly();
      Path rp = path.Child("recursiveReadOnly");
      if (rro == "Enabled" || rro == "IfPossible") {
        if (!mnt.readonly()) errs.push_back(Forbidden(rp, "may only be specified when readOnly is true"));
        if (mnt.has_mountpropagation() && mnt.mountpropagation() != "None") {
          errs.push_back(Forbidden(rp, "may only be specified when mountPropagation is None or not specified"));
        }
      } else if (rro != "Disabled") {
        errs.push_back(NotSupported(rp, Q(rro), {"Disabled", "Enabled", "IfPossible"}));
      }
    }
  }
  return errs;
}

FieldErrors ValidateVolumeDevices(const corev1::Container& c, const VolumeMap& volumes, const PodSpecOptions& opts,
                                  const Path& path) {
  FieldErrors errs;
  std::map<std::string, std::string> mounts;
  for (const auto& m : c.volumemounts()) mounts[m.name()] = m.mountpath();
  std::set<std::string> paths, names;
  for (int i = 0; i < c.volumedevices_size(); ++i) {
    const auto& dev = c.volumedevices(i);
    Path idx = path.Index(i);
    auto vol = volumes.find(dev.name());
    bool matched = vol != volumes.end() || opts.extra_volumes.count(dev.name());
    bool pvc = opts.extra_volumes.count(dev.name()) ||
               (vol != volumes.end() && (vol->second->has_persistentvolumeclaim() || vol->second->has_ephemeral()));
    if (dev.name().empty()) errs.push_back(Required(idx.Child("name")));
    if (names.count(dev.name())) errs.push_back(Invalid(idx.Child("name"), Q(dev.name()), "must be unique"));
    if (matched && !pvc) {
      errs.push_back(Invalid(idx.Child("name"), Q(dev.name()),
                             "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"));
    }
    if (!matched) errs.push_back(NotFound(idx.Child("name"), Q(dev.name())));
    if (dev.devicepath().empty()) errs.push_back(Required(idx.Child("devicePath")));
    if (paths.count(dev.devicepath())) errs.push_back(Invalid(idx.Child("devicePath"), Q(dev.devicepath()), "must be unique"));
    if (!dev.devicepath().empty() && !ValidatePathNoBacksteps(dev.devicepath(), path).empty()) {
      errs.push_back(Invalid(idx.Child("devicePath"), Q(dev.devicepath()), "can not contain backsteps ('..')"));
    } else {
      paths.insert(dev.devicepath());
    }
    if (mounts.count(dev.name())) errs.push_back(Invalid(idx.Child("name"), Q(dev.name()), "must not already exist in volumeMounts"));
    for (const auto& [n, p] : mounts) {
      if (p == dev.devicepath()) {
        errs.push_back(Invalid(idx.Child("devicePath"), Q(dev.devicepath()), "must not already exist as a path in volumeMounts"));
        break;
      }
    }
    if (!dev.name().empty()) names.insert(dev.name());
  }
  return errs;
}

FieldErrors ValidateSeccompProfile(const corev1::SeccompProfile& sp, const Path& path) {
  FieldErrors errs;
  const std::string& t = sp.type();
  if (t.empty()) {
    errs.push_back(Required(path.Child("type"), "type is required when seccompProfile is set"));
  } else if (t != "Localhost" && t != "RuntimeDefault" && t != "Unconfined") {
    errs.push_back(NotSupported(path.Child("type"), Q(t), {"Localhost", "RuntimeDefault", "Unconfined"}));
  }
  if (t == "Localhost") {
    if (!sp.has_localhostprofile()) {
      errs.push_back(Required(path.Child("localhostProfile"), "must be set when seccomp type is Localhost"));
    } else {
      Append(errs, ValidateLocalDescendingPath(sp.localhostprofile(), path.Child("localhostProfile")));
    }
  } else if (sp.has_localhostprofile()) {
    errs.push_back(Invalid(path.Child("localhostProfile"), "&core.SeccompProfile{Type:" + Q(t) + ", LocalhostProfile:&" +
                                                              Q(sp.localhostprofile()) + "}",
                           "can only be set when seccomp type is Localhost"));
  }
  return errs;
}

FieldErrors ValidateAppArmorProfile(const corev1::AppArmorProfile& p, const Path& path) {
  FieldErrors errs;
  const std::string& t = p.type();
  if (t == "Localhost") {
    if (!p.has_localhostprofile()) {
      errs.push_back(Required(path.Child("localhostProfile"), "must be set when AppArmor type is Localhost"));
    } else {
      const std::string& lp = p.localhostprofile();
      size_t b = lp.find_first_not_of(" \t\n\r\v\f");
      size_t e = lp.find_last_not_of(" \t\n\r\v\f");
      std::string trimmed = b == std::string::npos ? "" : lp.substr(b, e - b + 1);
      if (trimmed != lp) {
        errs.push_back(Invalid(path.Child("localhostProfile"), Q(lp), "must not be padded with whitespace"));
      } else if (trimmed.empty()) {
        errs.push_back(Required(path.Child("localhostProfile"), "must be set when AppArmor type is Localhost"));
      }
      if (lp.size() > 4095) errs.push_back(TooLong(path.Child("localhostProfile"), 4095));
    }
  } else if (t == "RuntimeDefault" || t == "Unconfined") {
    if (p.has_localhostprofile()) {
      errs.push_back(Invalid(path.Child("localhostProfile"), Q(p.localhostprofile()),
                             "can only be set when AppArmor type is Localhost"));
    }
  } else if (t.empty()) {
    errs.push_back(Required(path.Child("type"), "type is required when appArmorProfile is set"));
  } else {
    errs.push_back(NotSupported(path.Child("type"), Q(t), {"Localhost", "RuntimeDefault", "Unconfined"}));
  }
  return errs;
}

FieldErrors ValidateContainerSecurityContext(const corev1::SecurityContext& sc, bool host_users, const Path& path) {
  FieldErrors errs;
  if (sc.has_runasuser()) {
    for (auto& m : IsValidUserOrGroupID(sc.runasuser())) errs.push_back(Invalid(path.Child("runAsUser"), Num(sc.runasuser()), m));
  }
  if (sc.has_runasgroup()) {
    for (auto& m : IsValidUserOrGroupID(sc.runasgroup())) errs.push_back(Invalid(path.Child("runAsGroup"), Num(sc.runasgroup()), m));
  }
  if (sc.has_procmount()) {
    if (sc.procmount() != "Default" && sc.procmount() != "Unmasked") {
      errs.push_back(NotSupported(path.Child("procMount"), Q(sc.procmount()), {"Default", "Unmasked"}));
    }
    if (host_users && sc.procmount() == "Unmasked") {
      errs.push_back(Invalid(path.Child("procMount"), Q(sc.procmount()), "`hostUsers` must be false to use `Unmasked`"));
    }
  }
  if (sc.has_seccompprofile()) Append(errs, ValidateSeccompProfile(sc.seccompprofile(), path.Child("seccompProfile")));
  if (sc.has_allowprivilegeescalation() && !sc.allowprivilegeescalation()) {
    if (sc.has_privileged() && sc.privileged()) {
      errs.push_back(Invalid(path, "&core.SecurityContext{Privileged:&true, AllowPrivilegeEscalation:&false}",
                             "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
    }
    if (sc.has_capabilities()) {
      for (const auto& cap : sc.capabilities().add()) {
        if (cap == "CAP_SYS_ADMIN") {
          errs.push_back(Invalid(path, "&core.SecurityContext{AllowPrivilegeEscalation:&false}",
                                 "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
        }
      }
    }
  }
  if (sc.has_apparmorprofile()) Append(errs, ValidateAppArmorProfile(sc.apparmorprofile(), path.Child("appArmorProfile")));
  return errs;
}

// ---- probes and handlers ------------------------------------------------------------------------

struct Handler {
  const corev1::ExecAction* exec = nullptr;
  const corev1::HTTPGetAction* http_get = nullptr;
  const corev1::TCPSocketAction* tcp_socket = nullptr;
  const corev1::GRPCAction* grpc = nullptr;
  const corev1::SleepAction* sleep = nullptr;
};

FieldErrors ValidateHandler(const Handler& h, const int64_t* grace, const Path& path) {
  FieldErrors errs;
  int n = 0;
  auto one = [&](const void* p, const char* name, const std::function<FieldErrors(const Path&)>& validate) {
    if (p == nullptr) return;
    if (n > 0) {
      errs.push_back(Forbidden(path.Child(name), "may not specify more than 1 handler type"));
    } else {
      ++n;
      Append(errs, validate(path.Child(name)));
    }
  };
  one(h.exec, "exec", [&](const Path& p) { return Req(h.exec->command().empty(), p.Child("command")); });
  one(h.http_get, "httpGet", [&](const Path& p) {
    FieldErrors e = Req(h.http_get->path().empty(), p.Child("path"));
    Append(e, ValidatePortNumOrName(h.http_get->port(), p.Child("port")));
    const std::string& scheme = h.http_get->scheme();
    if (scheme != "HTTP" && scheme != "HTTPS") e.push_back(NotSupported(p.Child("scheme"), Q(scheme), {"HTTP", "HTTPS"}));
    for (const auto& hdr : h.http_get->httpheaders()) {
      for (auto& m : IsHTTPHeaderName(hdr.name())) e.push_back(Invalid(p.Child("httpHeaders"), Q(hdr.name()), m));
    }
    return e;
  });
  one(h.tcp_socket, "tcpSocket", [&](const Path& p) { return ValidatePortNumOrName(h.tcp_socket->port(), p.Child("port")); });
  one(h.grpc, "grpc", [&](const Path& p) {
    IntOrString port;
    port.set_intval(h.grpc->port());
    return ValidatePortNumOrName(port, p.Child("port"));
  });
  one(h.sleep, "sleep", [&](const Path& p) -> FieldErrors {
    int64_t s = h.sleep->seconds();
    if (grace != nullptr && (s <= 0 || s > *grace)) {
      return {Invalid(p, Num(s),
                      "must be greater than 0 and less than terminationGracePeriodSeconds (" + std::to_string(*grace) +
                          "). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.")};
    }
    return {};
  });
  if (n == 0) errs.push_back(Required(path, "must specify a handler type"));
  return errs;
}

Handler FromProbe(const corev1::ProbeHandler& h) {
  Handler out;
  if (h.has_exec()) out.exec = &h.exec();
  if (h.has_httpget()) out.http_get = &h.httpget();
  if (h.has_tcpsocket()) out.tcp_socket = &h.tcpsocket();
  if (h.has_grpc()) out.grpc = &h.grpc();
  return out;
}

Handler FromLifecycle(const corev1::LifecycleHandler& h) {
  Handler out;
  if (h.has_exec()) out.exec = &h.exec();
  if (h.has_httpget()) out.http_get = &h.httpget();
  if (h.has_tcpsocket()) out.tcp_socket = &h.tcpsocket();
  if (h.has_sleep()) out.sleep = &h.sleep();
  return out;
}

enum class ProbeKind { kLiveness, kReadiness, kStartup };

FieldErrors ValidateProbe(const corev1::Probe& probe, ProbeKind kind, const int64_t* grace, const Path& path) {
  FieldErrors errs = ValidateHandler(FromProbe(probe.handler()), grace, path);
  Append(errs, ValidateNonnegative(probe.initialdelayseconds(), path.Child("initialDelaySeconds")));
  Append(errs, ValidateNonnegative(probe.timeoutseconds(), path.Child("timeoutSeconds")));
  Append(errs, ValidateNonnegative(probe.periodseconds(), path.Child("periodSeconds")));
  Append(errs, ValidateNonnegative(probe.successthreshold(), path.Child("successThreshold")));
  Append(errs, ValidateNonnegative(probe.failurethreshold(), path.Child("failureThreshold")));
  if (probe.has_terminationgraceperiodseconds() && probe.terminationgraceperiodseconds() <= 0) {
    errs.push_back(Invalid(path.Child("terminationGracePeriodSeconds"), Num(probe.terminationgraceperiodseconds()),
                           "must be greater than 0"));
  }
  if (kind != ProbeKind::kReadiness && probe.successthreshold() != 1) {
    errs.push_back(Invalid(path.Child("successThreshold"), Num(probe.successthreshold()), "must be 1"));
  }
  if (kind == ProbeKind::kReadiness && probe.has_terminationgraceperiodseconds()) {
    errs.push_back(Invalid(path.Child("terminationGracePeriodSeconds"), Num(probe.terminationgraceperiodseconds()),
                           "must not be set for readinessProbes"));
  }
  return errs;
}

FieldErrors ValidateLifecycle(const corev1::Lifecycle& lc, const int64_t* grace, const Path& path) {
  FieldErrors errs;
  if (lc.has_poststart()) Append(errs, ValidateHandler(FromLifecycle(lc.poststart()), grace, path.Child("postStart")));
  if (lc.has_prestop()) Append(errs, ValidateHandler(FromLifecycle(lc.prestop()), grace, path.Child("preStop")));
  return errs;
}

FieldErrors ValidateProbesAndLifecycle(const corev1::Container& c, const int64_t* grace, const Path& path) {
  FieldErrors errs;
  if (c.has_lifecycle()) Append(errs, ValidateLifecycle(c.lifecycle(), grace, path.Child("lifecycle")));
  if (c.has_livenessprobe()) Append(errs, ValidateProbe(c.livenessprobe(), ProbeKind::kLiveness, grace, path.Child("livenessProbe")));
  if (c.has_readinessprobe()) {
    Append(errs, ValidateProbe(c.readinessprobe(), ProbeKind::kReadiness, grace, path.Child("readinessProbe")));
  }
  if (c.has_startupprobe()) Append(errs, ValidateProbe(c.startupprobe(), ProbeKind::kStartup, grace, path.Child("startupProbe")));
  return errs;
}

FieldErrors ValidateResizePolicy(const corev1::Container& c, const std::string& pod_restart_policy, const Path& path) {
  FieldErrors errs;
  std::set<std::string> seen;
  for (int i = 0; i < c.resizepolicy_size(); ++i) {
    const auto& p = c.resizepolicy(i);
    if (!seen.insert(p.resourcename()).second) errs.push_back(Duplicate(path.Index(i), Q(p.resourcename())));
    if (p.resourcename().empty()) {
      errs.push_back(Required(path));
    } else if (p.resourcename() != "cpu" && p.resourcename() != "memory") {
      errs.push_back(NotSupported(path, Q(p.resourcename()), {"cpu", "memory"}));
    }
    if (p.restartpolicy().empty()) {
      errs.push_back(Required(path));
    } else if (p.restartpolicy() != "NotRequired" && p.restartpolicy() != "RestartContainer") {
      errs.push_back(NotSupported(path, Q(p.restartpolicy()), {"NotRequired", "RestartContainer"}));
    }
    if (pod_restart_policy == "Never" && p.restartpolicy() != "NotRequired") {
      errs.push_back(Invalid(path, Q(p.restartpolicy()), "must be 'NotRequired' when `restartPolicy` is 'Never'"));
    }
  }
  return errs;
}

FieldErrors ValidateContainerCommon(const corev1::Container& c, const VolumeMap& volumes, const corev1::PodSpec& spec,
                                    const PodSpecOptions& opts, bool host_users, const Path& path) {
  FieldErrors errs;
  if (c.name().empty()) {
    errs.push_back(Required(path.Child("name")));
  } else {
    Append(errs, ValidateDNS1123LabelField(c.name(), path.Child("name")));
  }
  if (c.image().empty()) errs.push_back(Required(path.Child("image")));
  const std::string& tmp = c.terminationmessagepolicy();
  if (tmp.empty()) {
    errs.push_back(Required(path.Child("terminationMessagePolicy")));
  } else if (tmp != "File" && tmp != "FallbackToLogsOnError") {
    errs.push_back(NotSupported(path.Child("terminationMessagePolicy"), Q(tmp), {"File", "FallbackToLogsOnError"}));
  }
  Append(errs, ValidateContainerPorts(c.ports(), path.Child("ports")));
  Append(errs, ValidateEnv(c.env(), path.Child("env")));
  Append(errs, ValidateEnvFrom(c.envfrom(), path.Child("envFrom")));
  Append(errs, ValidateVolumeMounts(c, volumes, opts, path.Child("volumeMounts")));
  Append(errs, ValidateVolumeDevices(c, volumes, opts, path.Child("volumeDevices")));
  Append(errs, ValidatePullPolicy(c.imagepullpolicy(), path.Child("imagePullPolicy")));
  Append(errs, ValidateResourceRequirements(c.resources(), path.Child("resources")));
  Append(errs, ValidateResizePolicy(c, spec.restartpolicy(), path.Child("resizePolicy")));
  if (c.has_securitycontext()) {
    Append(errs, ValidateContainerSecurityContext(c.securitycontext(), host_users, path.Child("securityContext")));
  }
  return errs;
}

// Host ports must not collide: "<protocol>/<hostIP>/<port>".
FieldErrors CheckHostPortConflicts(const std::vector<std::pair<const corev1::Container*, int>>& containers, const Path& path) {
  FieldErrors errs;
  std::set<std::string> seen;
  for (const auto& [c, index] : containers) {
    for (int i = 0; i < c->ports_size(); ++i) {
      const auto& p = c->ports(i);
      if (p.hostport() == 0) continue;
      std::string key = p.protocol() + "/" + p.hostip() + "/" + std::to_string(p.hostport());
      if (!seen.insert(key).second) errs.push_back(Duplicate(path.Index(index).Child("ports").Index(i).Child("hostPort"), Q(key)));
    }
  }
  return errs;
}

FieldErrors ValidateContainers(const corev1::PodSpec& spec, const VolumeMap& volumes, const PodSpecOptions& opts,
                               bool host_users, const Path& path) {
  if (spec.containers().empty()) return {Required(path)};
  FieldErrors errs;
  const int64_t grace_value = spec.terminationgraceperiodseconds();
  const int64_t* grace = spec.has_terminationgraceperiodseconds() ? &grace_value : nullptr;
  std::set<std::string> names;
  std::vector<std::pair<const corev1::Container*, int>> all;
  for (int i = 0; i < spec.containers_size(); ++i) {
    const auto& c = spec.containers(i);
    Path p = path.Index(i);
    Append(errs, ValidateContainerCommon(c, volumes, spec, opts, host_users, p));
    if (!names.insert(c.name()).second) errs.push_back(Duplicate(p.Child("name"), Q(c.name())));
    Append(errs, ValidateProbesAndLifecycle(c, grace, p));
    if (c.has_restartpolicy()) errs.push_back(Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"));
    all.emplace_back(&c, i);
  }
  Append(errs, CheckHostPortConflicts(all, path));
  return errs;
}

FieldErrors ValidateInitContainers(const corev1::PodSpec& spec, const VolumeMap& volumes, const PodSpecOptions& opts,
                                   bool host_users, const Path& path) {
  FieldErrors errs;
  const int64_t grace_value = spec.terminationgraceperiodseconds();
  const int64_t* grace = spec.has_terminationgraceperiodseconds() ? &grace_value : nullptr;
  std::set<std::string> names;
  for (const auto& c : spec.containers()) names.insert(c.name());
  for (int i = 0; i < spec.initcontainers_size(); ++i) {
    const auto& c = spec.initcontainers(i);
    Path p = path.Index(i);
    Append(errs, ValidateContainerCommon(c, volumes, spec, opts, host_users, p));
    bool restart_always = false;
    if (c.has_restartpolicy()) {
      if (c.restartpolicy() != "Always") {
        errs.push_back(NotSupported(p.Child("restartPolicy"), Q(c.restartpolicy()), {"Always"}));
      }
      restart_always = c.restartpolicy() == "Always";
    }
    if (names.count(c.name())) {
      errs.push_back(Duplicate(p.Child("name"), Q(c.name())));
    } else if (!c.name().empty()) {
      names.insert(c.name());
    }
    Append(errs, CheckHostPortConflicts({{&c, i}}, path));
    if (restart_always) {
      Append(errs, ValidateProbesAndLifecycle(c, grace, p));
    } else {
      const char* kNotSidecar = "may not be set for init containers without restartPolicy=Always";
      if (c.has_lifecycle()) errs.push_back(Forbidden(p.Child("lifecycle"), kNotSidecar));
      if (c.has_livenessprobe()) errs.push_back(Forbidden(p.Child("livenessProbe"), kNotSidecar));
      if (c.has_readinessprobe()) errs.push_back(Forbidden(p.Child("readinessProbe"), kNotSidecar));
      if (c.has_startupprobe()) errs.push_back(Forbidden(p.Child("startupProbe"), kNotSidecar));
    }
  }
  return errs;
}

// ---- scheduling constraints ---------------------------------------------------------------------

FieldErrors ValidateNodeSelectorRequirement(const corev1::NodeSelectorRequirement& rq, bool allow_invalid_values,
                                            const Path& path) {
  FieldErrors errs;
  const std::string& op = rq.operator_();
  if (op == "In" || op == "NotIn") {
    if (rq.values().empty()) errs.push_back(Required(path.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
  } else if (op == "Exists" || op == "DoesNotExist") {
    if (!rq.values().empty()) {
      errs.push_back(Forbidden(path.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    }
  } else if (op == "Gt" || op == "Lt") {
    if (rq.values_size() != 1) {
      errs.push_back(Required(path.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
    }
  } else {
    errs.push_back(Invalid(path.Child("operator"), Q(op), "not a valid selector operator"));
  }
  Append(errs, ValidateLabelName(rq.key(), path.Child("key")));
  if (!allow_invalid_values) {
    for (int i = 0; i < rq.values_size(); ++i) {
      for (auto& m : IsLabelValue(rq.values(i))) errs.push_back(Invalid(path.Child("values").Index(i), Q(rq.values(i)), m));
    }
  }
  return errs;
}

FieldErrors ValidateNodeSelectorTerm(const corev1::NodeSelectorTerm& term, bool allow_invalid_values, const Path& path) {
  FieldErrors errs;
  for (int j = 0; j < term.matchexpressions_size(); ++j) {
    Append(errs, ValidateNodeSelectorRequirement(term.matchexpressions(j), allow_invalid_values,
                                                 path.Child("matchExpressions").Index(j)));
  }
  for (int j = 0; j < term.matchfields_size(); ++j) {
    const auto& req = term.matchfields(j);
    Path p = path.Child("matchFields").Index(j);
    if (req.operator_() == "In" || req.operator_() == "NotIn") {
      if (req.values_size() != 1) {
        errs.push_back(Required(p.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
      }
    } else {
      errs.push_back(Invalid(p.Child("operator"), Q(req.operator_()), "not a valid selector operator"));
    }
    if (req.key() != "metadata.name") {
      errs.push_back(Invalid(p.Child("key"), Q(req.key()), "not a valid field selector key"));
    } else {
      for (int i = 0; i < req.values_size(); ++i) {
        for (auto& m : ValidateName(NameRule::kDNSSubdomain, req.values(i), false)) {
          errs.push_back(Invalid(p.Child("values").Index(i), Q(req.values(i)), m));
        }
      }
    }
  }
  return errs;
}

FieldErrors ValidatePodAffinityTerm(const corev1::PodAffinityTerm& term, const Path& path) {
  FieldErrors errs;
  Append(errs, ValidateLabelSelector(term.has_labelselector() ? &term.labelselector() : nullptr, path.Child("labelSelector")));
  Append(errs, ValidateLabelSelector(term.has_namespaceselector() ? &term.namespaceselector() : nullptr,
                                     path.Child("namespaceSelector")));
  for (const auto& ns : term.namespaces()) {
    for (auto& m : IsDNS1123Label(ns)) errs.push_back(Invalid(path.Child("namespace"), Q(ns), m));
  }
  const LabelSelector* sel = term.has_labelselector() ? &term.labelselector() : nullptr;
  auto label_keys = [&](const Repeated<std::string>& keys, const Path& p) {
    if (keys.empty()) return;
    if (sel == nullptr) {
      errs.push_back(Forbidden(p, "must not be specified when labelSelector is not set"));
      return;
    }
    for (int i = 0; i < keys.size(); ++i) Append(errs, ValidateLabelName(keys.Get(i), p.Index(i)));
  };
  label_keys(term.matchlabelkeys(), path.Child("matchLabelKeys"));
  label_keys(term.mismatchlabelkeys(), path.Child("mismatchLabelKeys"));
  std::set<std::string> mismatch(term.mismatchlabelkeys().begin(), term.mismatchlabelkeys().end());
  for (int i = 0; i < term.matchlabelkeys_size(); ++i) {
    if (mismatch.count(term.matchlabelkeys(i))) {
      errs.push_back(Invalid(path.Child("matchLabelKeys").Index(i), Q(term.matchlabelkeys(i)),
                             "exists in both matchLabelKeys and mismatchLabelKeys"));
    }
  }
  if (term.topologykey().empty()) errs.push_back(Required(path.Child("topologyKey"), "can not be empty"));
  Append(errs, ValidateLabelName(term.topologykey(), path.Child("topologyKey")));
  return errs;
}

FieldErrors ValidatePodAffinityTerms(const Repeated<corev1::PodAffinityTerm>& req,
                                     const Repeated<corev1::WeightedPodAffinityTerm>& pref, const Path& path) {
  FieldErrors errs;
  for (int i = 0; i < req.size(); ++i) {
    Append(errs, ValidatePodAffinityTerm(req.Get(i), path.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i)));
  }
  for (int i = 0; i < pref.size(); ++i) {
    Path p = path.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i);
    int32_t w = pref.Get(i).weight();
    if (w <= 0 || w > 100) errs.push_back(Invalid(p.Child("weight"), Num(w), "must be in the range 1-100"));
    Append(errs, ValidatePodAffinityTerm(pref.Get(i).podaffinityterm(), p.Child("podAffinityTerm")));
  }
  return errs;
}

FieldErrors ValidateAffinity(const corev1::Affinity& a, const Path& path) {
  FieldErrors errs;
  if (a.has_nodeaffinity()) {
    Path np = path.Child("nodeAffinity");
    const auto& na = a.nodeaffinity();
    if (na.has_requiredduringschedulingignoredduringexecution()) {
      Append(errs, ValidateNodeSelector(na.requiredduringschedulingignoredduringexecution(),
                                        np.Child("requiredDuringSchedulingIgnoredDuringExecution")));
    }
    for (int i = 0; i < na.preferredduringschedulingignoredduringexecution_size(); ++i) {
      const auto& term = na.preferredduringschedulingignoredduringexecution(i);
      Path p = np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i);
      if (term.weight() <= 0 || term.weight() > 100) {
        errs.push_back(Invalid(p.Child("weight"), Num(term.weight()), "must be in the range 1-100"));
      }
      Append(errs, ValidateNodeSelectorTerm(term.preference(), true, p.Child("preference")));
    }
  }
  if (a.has_podaffinity()) {
    Append(errs, ValidatePodAffinityTerms(a.podaffinity().requiredduringschedulingignoredduringexecution(),
                                          a.podaffinity().preferredduringschedulingignoredduringexecution(),
                                          path.Child("podAffinity")));
  }
  if (a.has_podantiaffinity()) {
    Append(errs, ValidatePodAffinityTerms(a.podantiaffinity().requiredduringschedulingignoredduringexecution(),
                                          a.podantiaffinity().preferredduringschedulingignoredduringexecution(),
                                          path.Child("podAntiAffinity")));
  }
  return errs;
}

FieldErrors ValidateTopologySpread(const Repeated<corev1::TopologySpreadConstraint>& constraints, const Path& path) {
  FieldErrors errs;
  for (int i = 0; i < constraints.size(); ++i) {
    const auto& c = constraints.Get(i);
    Path p = path.Index(i);
    if (c.maxskew() <= 0) errs.push_back(Invalid(p.Child("maxSkew"), Num(c.maxskew()), "must be greater than zero"));
    if (c.topologykey().empty()) errs.push_back(Required(p.Child("topologyKey"), "can not be empty"));
    const std::string& action = c.whenunsatisfiable();
    if (action != "DoNotSchedule" && action != "ScheduleAnyway") {
      errs.push_back(NotSupported(p.Child("whenUnsatisfiable"), Q(action), {"DoNotSchedule", "ScheduleAnyway"}));
    }
    for (int j = i + 1; j < constraints.size(); ++j) {
      if (constraints.Get(j).topologykey() == c.topologykey() && constraints.Get(j).whenunsatisfiable() == action) {
        errs.push_back(Duplicate(p.Child("{topologyKey, whenUnsatisfiable}"), Q("{" + c.topologykey() + ", " + action + "}")));
        break;
      }
    }
    if (c.has_mindomains()) {
      if (c.mindomains() <= 0) errs.push_back(Invalid(p.Child("minDomains"), Num(c.mindomains()), "must be greater than zero"));
      if (action != "DoNotSchedule") {
        errs.push_back(Invalid(p.Child("minDomains"), Num(c.mindomains()),
                               "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not " + action));
      }
    }
    for (const auto& [has, value, name] : {std::tuple{c.has_nodeaffinitypolicy(), c.nodeaffinitypolicy(), "nodeAffinityPolicy"},
                                           std::tuple{c.has_nodetaintspolicy(), c.nodetaintspolicy(), "nodeTaintsPolicy"}}) {
      if (has && value != "Honor" && value != "Ignore") errs.push_back(NotSupported(p.Child(name), Q(value), {"Honor", "Ignore"}));
    }
    if (!c.matchlabelkeys().empty()) {
      std::set<std::string> selector_keys;
      if (!c.has_labelselector()) {
        errs.push_back(Forbidden(p.Child("matchLabelKeys"), "must not be specified when labelSelector is not set"));
      } else {
        for (const auto& [k, v] : c.labelselector().matchlabels()) selector_keys.insert(k);
        for (const auto& e : c.labelselector().matchexpressions()) selector_keys.insert(e.key());
      }
      for (int j = 0; j < c.matchlabelkeys_size(); ++j) {
        Path kp = p.Child("matchLabelKeys").Index(j);
        Append(errs, ValidateLabelName(c.matchlabelkeys(j), kp));
        if (selector_keys.count(c.matchlabelkeys(j))) {
          errs.push_back(Invalid(kp, Q(c.matchlabelkeys(j)), "exists in both matchLabelKeys and labelSelector"));
        }
      }
    }
    Append(errs, ValidateLabelSelector(c.has_labelselector() ? &c.labelselector() : nullptr, p.Child("labelSelector")));
  }
  return errs;
}

FieldErrors ValidateDNSConfig(const corev1::PodSpec& spec, const Path& path) {
  FieldErrors errs;
  if (spec.dnspolicy() == "None") {
    if (!spec.has_dnsconfig()) return {Required(path, "must provide `dnsConfig` when `dnsPolicy` is None")};
    if (spec.dnsconfig().nameservers().empty()) {
      return {Required(path.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")};
    }
  }
  if (!spec.has_dnsconfig()) return errs;
  const auto& c = spec.dnsconfig();
  if (c.nameservers_size() > kMaxDNSNameservers) {
    errs.push_back(Invalid(path.Child("nameservers"), GoStrings(c.nameservers()), "must not have more than 3 nameservers"));
  }
  for (int i = 0; i < c.nameservers_size(); ++i) Append(errs, ValidateIPField(c.nameservers(i), path.Child("nameservers").Index(i)));
  if (c.searches_size() > kMaxDNSSearchPaths) {
    errs.push_back(Invalid(path.Child("searches"), GoStrings(c.searches()), "must not have more than 32 search paths"));
  }
  size_t chars = 0;
  for (int i = 0; i < c.searches_size(); ++i) chars += c.searches(i).size() + (i > 0 ? 1 : 0);
  if (chars > kMaxDNSSearchListChars) {
    errs.push_back(Invalid(path.Child("searches"), GoStrings(c.searches()),
                           "must not have more than 2048 characters (including spaces) in the search list"));
  }
  for (int i = 0; i < c.searches_size(); ++i) {
    std::string s = c.searches(i);
    if (!s.empty() && s.back() == '.') s.pop_back();
    Append(errs, ValidateDNS1123SubdomainField(s, path.Child("searches").Index(i)));
  }
  for (int i = 0; i < c.options_size(); ++i) {
    if (c.options(i).name().empty()) errs.push_back(Required(path.Child("options").Index(i), "must not be empty"));
  }
  return errs;
}

bool IsValidSysctlName(std::string_view name) {
  // (segment[./])*segment with segment = [a-z0-9]([-_a-z0-9]*[a-z0-9])?
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t sep = name.find_first_of("./", start);
    std::string_view seg = name.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start);
    if (seg.empty()) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(seg.front()) || !alnum(seg.back())) return false;
    for (char ch : seg) {
      if (!alnum(ch) && ch != '-' && ch != '_') return false;
    }
    if (sep == std::string_view::npos) return true;
    start = sep + 1;
  }
}

FieldErrors ValidatePodSecurityContext(const corev1::PodSpec& spec, const Path& spec_path) {
  FieldErrors errs;
  if (!spec.has_securitycontext()) return errs;
  const auto& sc = spec.securitycontext();
  Path path = spec_path.Child("securityContext");
  if (sc.has_fsgroup()) {
    for (auto& m : IsValidUserOrGroupID(sc.fsgroup())) errs.push_back(Invalid(path.Child("fsGroup"), Num(sc.fsgroup()), m));
  }
  if (sc.has_runasuser()) {
    for (auto& m : IsValidUserOrGroupID(sc.runasuser())) errs.push_back(Invalid(path.Child("runAsUser"), Num(sc.runasuser()), m));
  }
  if (sc.has_runasgroup()) {
    for (auto& m : IsValidUserOrGroupID(sc.runasgroup())) errs.push_back(Invalid(path.Child("runAsGroup"), Num(sc.runasgroup()), m));
  }
  for (int g = 0; g < sc.supplementalgroups_size(); ++g) {
    for (auto& m : IsValidUserOrGroupID(sc.supplementalgroups(g))) {
      errs.push_back(Invalid(path.Child("supplementalGroups").Index(g), Num(sc.supplementalgroups(g)), m));
    }
  }
  if (spec.has_shareprocessnamespace() && spec.shareprocessnamespace() && spec.hostpid()) {
    errs.push_back(Invalid(path.Child("shareProcessNamespace"), "true", "ShareProcessNamespace and HostPID cannot both be enabled"));
  }
  std::set<std::string> names;
  for (int i = 0; i < sc.sysctls_size(); ++i) {
    const auto& s = sc.sysctls(i);
    Path np = path.Child("sysctls").Index(i).Child("name");
    if (s.name().empty()) {
      errs.push_back(Required(np));
    } else if (!IsValidSysctlName(s.name())) {
      errs.push_back(Invalid(np, Q(s.name()),
                             "must have at most 253 characters and match regex "
                             "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"));
    } else if (names.count(s.name())) {
      errs.push_back(Duplicate(np, Q(s.name())));
    }
    bool net = s.name().rfind("net.", 0) == 0;
    bool ipc = s.name().rfind("kernel.shm", 0) == 0 || s.name().rfind("kernel.msg", 0) == 0 ||
               s.name() == "kernel.sem" || s.name().rfind("fs.mqueue.", 0) == 0;
    if (spec.hostnetwork() && net) errs.push_back(Invalid(np, Q(s.name()), "may not be specified when 'hostNetwork' is true"));
    if (spec.hostipc() && ipc) errs.push_back(Invalid(np, Q(s.name()), "may not be specified when 'hostIPC' is true"));
    names.insert(s.name());
  }
  if (sc.has_fsgroupchangepolicy() && sc.fsgroupchangepolicy() != "Always" && sc.fsgroupchangepolicy() != "OnRootMismatch") {
    errs.push_back(NotSupported(path.Child("fsGroupChangePolicy"), Q(sc.fsgroupchangepolicy()), {"Always", "OnRootMismatch"}));
  }
  if (sc.has_seccompprofile()) Append(errs, ValidateSeccompProfile(sc.seccompprofile(), path.Child("seccompProfile")));
  if (sc.has_apparmorprofile()) Append(errs, ValidateAppArmorProfile(sc.apparmorprofile(), path.Child("appArmorProfile")));
  if (sc.has_supplementalgroupspolicy() && sc.supplementalgroupspolicy() != "Merge" && sc.supplementalgroupspolicy() != "Strict") {
    errs.push_back(NotSupported(path.Child("supplementalGroupsPolicy"), Q(sc.supplementalgroupspolicy()), {"Merge", "Strict"}));
  }
  if (sc.has_selinuxchangepolicy() && sc.selinuxchangepolicy() != "MountOption" && sc.selinuxchangepolicy() != "Recursive") {
    errs.push_back(NotSupported(path.Child("seLinuxChangePolicy"), Q(sc.selinuxchangepolicy()), {"MountOption", "Recursive"}));
  }
  return errs;
}

// ---- resources ----------------------------------------------------------------------------------

const std::set<std::string>& StandardResources() {
  static const std::set<std::string> s = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage",
      "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods", "services", "replicationcontrollers",
      "resourcequotas", "secrets", "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
      "services.loadbalancers", "configmaps"};
  return s;
}

FieldErrors ValidateResourceName(std::string_view name, const Path& path) {
  FieldErrors errs;
  for (auto& m : IsQualifiedName(name)) errs.push_back(Invalid(path, Q(name), m));
  if (!errs.empty()) return errs;
  if (name.find('/') == std::string_view::npos && !StandardResources().count(std::string(name)) &&
      !IsHugePageResourceName(name) && name.rfind("requests.hugepages-", 0) != 0 && name.rfind("limits.hugepages-", 0) != 0) {
    errs.push_back(Invalid(path, Q(name), "must be a standard resource type or fully qualified"));
  }
  return errs;
}

FieldErrors ValidateContainerResourceName(std::string_view name, const Path& path) {
  FieldErrors errs = ValidateResourceName(name, path);
  if (name.find('/') == std::string_view::npos) {
    if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && !IsHugePageResourceName(name)) {
      errs.push_back(Invalid(path, Q(name), "must be a standard resource for containers"));
    }
  } else if (!IsNativeResource(name) && !IsExtendedResourceName(name)) {
    errs.push_back(Invalid(path, Q(name), "doesn't follow extended resource name standard"));
  }
  return errs;
}

bool IsIntegerResourceName(std::string_view name) {
  static const std::set<std::string> kInteger = {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
                                                 "configmaps", "persistentvolumeclaims", "services.nodeports",
                                                 "services.loadbalancers"};
  return kInteger.count(std::string(name)) > 0 || IsExtendedResourceName(name);
}

bool IsOvercommitAllowed(std::string_view name) { return IsNativeResource(name) && !IsHugePageResourceName(name); }

}  // namespace

bool IsHugePageResourceName(std::string_view name) { return name.rfind("hugepages-", 0) == 0; }

bool IsNativeResource(std::string_view name) {
  return name.find('/') == std::string_view::npos || name.find("kubernetes.io/") != std::string_view::npos;
}

bool IsExtendedResourceName(std::string_view name) {
  if (IsNativeResource(name) || name.rfind("requests.", 0) == 0) return false;
  return IsQualifiedName("requests." + std::string(name)).empty();
}

FieldErrors ValidateResourceQuantityValue(std::string_view name, std::string_view quantity, const Path& path) {
  FieldErrors errs;
  auto q = Quantity::Parse(quantity);
  if (!q.ok()) return {Invalid(path, Q(quantity), q.status().message())};
  if (q->Sign() < 0) errs.push_back(Invalid(path, Q(q->String()), "must be greater than or equal to 0"));
  if (IsIntegerResourceName(name) && q->MilliValue() % 1000 != 0) errs.push_back(Invalid(path, q->String(), "must be an integer"));
  return errs;
}

FieldErrors ValidateResourceRequirements(const corev1::ResourceRequirements& r, const Path& path) {
  FieldErrors errs;
  Path lim_path = path.Child("limits");
  Path req_path = path.Child("requests");
  bool lim_cpu_mem = false, req_cpu_mem = false, lim_huge = false, req_huge = false;
  auto hugepage_check = [&](const std::string& name, const Quantity& q, const Path& p) {
    auto page = Quantity::Parse(name.substr(std::string("hugepages-").size()));
    if (!page.ok() || page->Value() <= 0) return;
    int64_t v = q.Value();
    if (v <= 0 || v % page->Value() != 0) {
      errs.push_back(Invalid(p, Q(q.String()), q.String() + " is not positive integer multiple of " + name));
    }
  };
  for (const auto& name : SortedKeys(r.limits())) {
    Path p = lim_path.Key(name);
    Append(errs, ValidateContainerResourceName(name, p));
    Append(errs, ValidateResourceQuantityValue(name, r.limits().at(name).string(), p));
    auto q = Quantity::Parse(r.limits().at(name).string());
    if (IsHugePageResourceName(name)) {
      lim_huge = true;
      if (q.ok()) hugepage_check(name, *q, p);
    }
    if (name == "cpu" || name == "memory") lim_cpu_mem = true;
  }
  for (const auto& name : SortedKeys(r.requests())) {
    Path p = req_path.Key(name);
    Append(errs, ValidateContainerResourceName(name, p));
    Append(errs, ValidateResourceQuantityValue(name, r.requests().at(name).string(), p));
    auto q = Quantity::Parse(r.requests().at(name).string());
    auto lim_it = r.limits().find(name);
    if (q.ok() && lim_it != r.limits().end()) {
      auto lim = Quantity::Parse(lim_it->second.string());
      if (lim.ok()) {
        if (q->Cmp(*lim) != 0 && !IsOvercommitAllowed(name)) {
          errs.push_back(Invalid(req_path, Q(q->String()), "must be equal to " + name + " limit of " + lim->String()));
        } else if (q->Cmp(*lim) > 0) {
          errs.push_back(Invalid(req_path, Q(q->String()), "must be less than or equal to " + name + " limit of " + lim->String()));
        }
      }
    } else if (lim_it == r.limits().end() && !IsOvercommitAllowed(name)) {
      errs.push_back(Required(lim_path, "Limit must be set for non overcommitable resources"));
    }
    if (IsHugePageResourceName(name)) {
      req_huge = true;
      if (q.ok()) hugepage_check(name, *q, p);
    }
    if (name == "cpu" || name == "memory") req_cpu_mem = true;
  }
  if (!lim_cpu_mem && !req_cpu_mem && (lim_huge || req_huge)) errs.push_back(Forbidden(path, "HugePages require cpu or memory"));
  std::set<std::string> claims;
  for (int i = 0; i < r.claims_size(); ++i) {
    const auto& c = r.claims(i);
    if (c.name().empty()) {
      errs.push_back(Required(path.Child("claims").Index(i)));
      continue;
    }
    std::string key = c.request().empty() ? c.name() : c.name() + "/" + c.request();
    if (!claims.insert(key).second) errs.push_back(Duplicate(path.Child("claims").Index(i), Q(key)));
  }
  return errs;
}

FieldErrors ValidateTolerations(const Repeated<corev1::Toleration>& tolerations, const Path& path) {
  FieldErrors errs;
  for (int i = 0; i < tolerations.size(); ++i) {
    const auto& t = tolerations.Get(i);
    Path p = path.Index(i);
    if (!t.key().empty()) Append(errs, ValidateLabelName(t.key(), p.Child("key")));
    if (t.key().empty() && t.operator_() != "Exists") {
      errs.push_back(Invalid(p.Child("operator"), Q(t.operator_()),
                             "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
    }
    if (t.has_tolerationseconds() && t.effect() != "NoExecute") {
      errs.push_back(Invalid(p.Child("effect"), Q(t.effect()), "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    const std::string& op = t.operator_();
    if (op == "Equal" || op.empty()) {
      Msgs m = IsLabelValue(t.value());
      if (!m.empty()) {
        std::string joined;
        for (size_t j = 0; j < m.size(); ++j) joined += (j > 0 ? ";" : "") + m[j];
        errs.push_back(Invalid(p.Child("operator"), Q(t.value()), joined));
      }
    } else if (op == "Exists") {
      if (!t.value().empty()) errs.push_back(Invalid(p.Child("operator"), Q(t.value()), "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push_back(NotSupported(p.Child("operator"), Q(op), {"Equal", "Exists"}));
    }
    if (!t.effect().empty() && t.effect() != "NoSchedule" && t.effect() != "PreferNoSchedule" && t.effect() != "NoExecute") {
      errs.push_back(NotSupported(p.Child("effect"), Q(t.effect()), {"NoSchedule", "PreferNoSchedule", "NoExecute"}));
    }
  }
  return errs;
}

FieldErrors ValidateNodeSelector(const corev1::NodeSelector& selector, const Path& path) {
  Path terms = path.Child("nodeSelectorTerms");
  if (selector.nodeselectorterms().empty()) return {Required(terms, "must have at least one node selector term")};
  FieldErrors errs;
  for (int i = 0; i < selector.nodeselectorterms_size(); ++i) {
    Append(errs, ValidateNodeSelectorTerm(selector.nodeselectorterms(i), false, terms.Index(i)));
  }
  return errs;
}

FieldErrors ValidatePodSpec(const corev1::PodSpec& spec, const Path& path, const PodSpecOptions& opts) {
  FieldErrors errs;
  if (!spec.has_terminationgraceperiodseconds()) errs.push_back(Required(path.Child("terminationGracePeriodSeconds")));
  bool host_users = !spec.has_hostusers() || spec.hostusers();

  VolumeMap volumes;
  Append(errs, ValidateVolumes(spec.volumes(), path.Child("volumes"), &volumes));
  std::set<std::string> claim_names;
  for (int i = 0; i < spec.resourceclaims_size(); ++i) {
    const auto& c = spec.resourceclaims(i);
    Path p = path.Child("resourceClaims").Index(i);
    if (c.name().empty()) {
      errs.push_back(Required(p.Child("name")));
    } else if (!claim_names.insert(c.name()).second) {
      errs.push_back(Duplicate(p.Child("name"), Q(c.name())));
    } else {
      Append(errs, ValidateDNS1123LabelField(c.name(), p.Child("name")));
    }
  }
  Append(errs, ValidateContainers(spec, volumes, opts, host_users, path.Child("containers")));
  Append(errs, ValidateInitContainers(spec, volumes, opts, host_users, path.Child("initContainers")));
  // Ephemeral containers: names unique across all containers, target must exist.
  std::set<std::string> others, all_names;
  for (const auto& c : spec.containers()) others.insert(c.name());
  for (const auto& c : spec.initcontainers()) others.insert(c.name());
  all_names = others;
  for (int i = 0; i < spec.ephemeralcontainers_size(); ++i) {
    const auto& ec = spec.ephemeralcontainers(i);
    Path p = path.Child("ephemeralContainers").Index(i);
    corev1::Container c;
    c.ParseFromString(ec.ephemeralcontainercommon().SerializeAsString());
    Append(errs, ValidateContainerCommon(c, volumes, spec, opts, host_users, p));
    if (!all_names.insert(ec.ephemeralcontainercommon().name()).second) {
      errs.push_back(Duplicate(p.Child("name"), Q(ec.ephemeralcontainercommon().name())));
    }
    if (!ec.targetcontainername().empty() && !others.count(ec.targetcontainername())) {
      errs.push_back(NotFound(p.Child("targetContainerName"), Q(ec.targetcontainername())));
    }
    const char* kNotEphemeral = "cannot be set for an Ephemeral Container";
    if (!c.ports().empty()) errs.push_back(Forbidden(p.Child("ports"), kNotEphemeral));
    if (!c.resources().limits().empty() || !c.resources().requests().empty() || !c.resources().claims().empty()) {
      errs.push_back(Forbidden(p.Child("resources"), kNotEphemeral));
    }
    if (c.has_livenessprobe()) errs.push_back(Forbidden(p.Child("livenessProbe"), kNotEphemeral));
    if (c.has_readinessprobe()) errs.push_back(Forbidden(p.Child("readinessProbe"), kNotEphemeral));
    if (c.has_startupprobe()) errs.push_back(Forbidden(p.Child("startupProbe"), kNotEphemeral));
    if (c.has_lifecycle()) errs.push_back(Forbidden(p.Child("lifecycle"), kNotEphemeral));
    if (!c.resizepolicy().empty()) errs.push_back(Forbidden(p.Child("resizePolicy"), kNotEphemeral));
    if (c.has_restartpolicy()) errs.push_back(Forbidden(p.Child("restartPolicy"), kNotEphemeral));
    for (int j = 0; j < c.volumemounts_size(); ++j) {
      if (!c.volumemounts(j).subpath().empty()) {
        errs.push_back(Forbidden(p.Child("volumeMounts").Index(j).Child("subPath"), kNotEphemeral));
      }
      if (!c.volumemounts(j).subpathexpr().empty()) {
        errs.push_back(Forbidden(p.Child("volumeMounts").Index(j).Child("subPathExpr"), kNotEphemeral));
      }
    }
  }

  if (spec.hostnetwork()) {
    Path cp = path.Child("containers");
    for (int i = 0; i < spec.containers_size(); ++i) {
      for (int j = 0; j < spec.containers(i).ports_size(); ++j) {
        const auto& port = spec.containers(i).ports(j);
        if ((opts.resource_is_pod || port.hostport() != 0) && port.hostport() != port.containerport()) {
          errs.push_back(Invalid(cp.Index(i).Child("ports").Index(j).Child("hostPort"), Num(port.hostport()),
                                 "must match `containerPort` when `hostNetwork` is true"));
        }
      }
    }
  }
  const std::string& rp = spec.restartpolicy();
  if (rp.empty()) {
    errs.push_back(Required(path.Child("restartPolicy")));
  } else if (rp != "Always" && rp != "OnFailure" && rp != "Never") {
    errs.push_back(NotSupported(path.Child("restartPolicy"), Q(rp), {"Always", "OnFailure", "Never"}));
  }
  const std::string& dp = spec.dnspolicy();
  if (dp.empty()) {
    errs.push_back(Required(path.Child("dnsPolicy")));
  } else if (dp != "ClusterFirstWithHostNet" && dp != "ClusterFirst" && dp != "Default" && dp != "None") {
    errs.push_back(NotSupported(path.Child("dnsPolicy"), Q(dp), {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}));
  }
  Append(errs, ValidateLabels(spec.nodeselector(), path.Child("nodeSelector")));
  Append(errs, ValidatePodSecurityContext(spec, path));
  if (spec.has_affinity()) Append(errs, ValidateAffinity(spec.affinity(), path.Child("affinity")));
  Append(errs, ValidateDNSConfig(spec, path.Child("dnsConfig")));
  for (int i = 0; i < spec.readinessgates_size(); ++i) {
    Append(errs, ValidateQualifiedNameField(spec.readinessgates(i).conditiontype(),
                                            path.Child("readinessGates").Index(i).Child("conditionType")));
  }
  std::set<std::string> gates;
  for (int i = 0; i < spec.schedulinggates_size(); ++i) {
    const std::string& g = spec.schedulinggates(i).name();
    Append(errs, ValidateQualifiedNameField(g, path.Child("schedulingGates").Index(i)));
    if (!gates.insert(g).second) errs.push_back(Duplicate(path.Child("schedulingGates").Index(i), Q(g)));
  }
  Append(errs, ValidateTopologySpread(spec.topologyspreadconstraints(), path.Child("topologySpreadConstraints")));
  if (!host_users) {
    const char* kDetail = "when `pod.Spec.HostUsers` is false";
    if (spec.hostnetwork()) errs.push_back(Forbidden(path.Child("hostNetwork"), kDetail));
    if (spec.hostpid()) errs.push_back(Forbidden(path.Child("HostPID"), kDetail));
    if (spec.hostipc()) errs.push_back(Forbidden(path.Child("HostIPC"), kDetail));
  }
  if (!spec.serviceaccountname().empty()) {
    Append(errs, ValidateNameField(NameRule::kDNSSubdomain, spec.serviceaccountname(), path.Child("serviceAccountName")));
  }
  if (!spec.nodename().empty()) Append(errs, ValidateNameField(NameRule::kDNSSubdomain, spec.nodename(), path.Child("nodeName")));
  if (spec.has_activedeadlineseconds()) {
    int64_t v = spec.activedeadlineseconds();
    if (v < 1 || v > INT32_MAX) errs.push_back(Invalid(path.Child("activeDeadlineSeconds"), Num(v), InclusiveRangeError(1, INT32_MAX)));
  }
  if (!spec.hostname().empty()) Append(errs, ValidateDNS1123LabelField(spec.hostname(), path.Child("hostname")));
  if (!spec.subdomain().empty()) Append(errs, ValidateDNS1123LabelField(spec.subdomain(), path.Child("subdomain")));
  Append(errs, ValidateTolerations(spec.tolerations(), path.Child("tolerations")));
  for (int i = 0; i < spec.hostaliases_size(); ++i) {
    const auto& ha = spec.hostaliases(i);
    Path p = path.Child("hostAliases").Index(i);
    Append(errs, ValidateIPField(ha.ip(), p.Child("ip")));
    for (int j = 0; j < ha.hostnames_size(); ++j) Append(errs, ValidateDNS1123SubdomainField(ha.hostnames(j), p.Child("hostnames").Index(j)));
  }
  if (!spec.priorityclassname().empty()) {
    Append(errs, ValidateNameField(NameRule::kDNSSubdomain, spec.priorityclassname(), path.Child("priorityClassName")));
  }
  if (spec.has_runtimeclassname()) {
    Append(errs, ValidateNameField(NameRule::kDNSSubdomain, spec.runtimeclassname(), path.Child("runtimeClassName")));
  }
  if (spec.has_preemptionpolicy()) {
    const std::string& pp = spec.preemptionpolicy();
    if (pp.empty()) {
      errs.push_back(Required(path.Child("preemptionPolicy")));
    } else if (pp != "PreemptLowerPriority" && pp != "Never") {
      errs.push_back(NotSupported(path.Child("preemptionPolicy"), Q(pp), {"PreemptLowerPriority", "Never"}));
    }
  }
  if (!spec.overhead().empty()) {
    corev1::ResourceRequirements overhead;
    *overhead.mutable_limits() = spec.overhead();
    Append(errs, ValidateResourceRequirements(overhead, path.Child("overhead")));
  }
  if (spec.has_os()) {
    if (spec.os().name().empty()) {
      errs.push_back(Required(path.Child("os").Child("name"), "cannot be empty"));
    } else if (spec.os().name() != "linux" && spec.os().name() != "windows") {
      errs.push_back(NotSupported(path.Child("os"), Q(spec.os().name()), {"linux", "windows"}));
    }
  }
  return errs;
}

FieldErrors ValidatePodTemplateSpec(const corev1::PodTemplateSpec& tpl, const Path& path, const PodSpecOptions& opts) {
  FieldErrors errs;
  Append(errs, ValidateLabels(tpl.metadata().labels(), path.Child("labels")));
  Append(errs, ValidateAnnotations(tpl.metadata().annotations(), path.Child("annotations")));
  Append(errs, ValidatePodSpec(tpl.spec(), path.Child("spec"), opts));
  if (!tpl.spec().ephemeralcontainers().empty()) {
    errs.push_back(Forbidden(path.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"));
  }
  return errs;
}

namespace {

FieldErrors ValidatePodAnnotations(const corev1::Pod& pod, const Path& path) {
  FieldErrors errs;
  const auto& ann = pod.metadata().annotations();
  auto mirror = ann.find("kubernetes.io/config.mirror");
  if (mirror != ann.end() && pod.spec().nodename().empty()) {
    errs.push_back(Invalid(path.Key("kubernetes.io/config.mirror"), Q(mirror->second),
                           "must set spec.nodeName if mirror pod annotation is set"));
  }
  auto cost = ann.find("controller.kubernetes.io/pod-deletion-cost");
  if (cost != ann.end()) {
    auto v = ParseInt(cost->second);
    if (!v || *v < INT32_MIN || *v > INT32_MAX) {
      errs.push_back(Invalid(path.Key("controller.kubernetes.io/pod-deletion-cost"), Q(cost->second), "must be a 32bit integer"));
    }
  }
  return errs;
}

FieldErrors ValidatePodMetadataAndSpec(const corev1::Pod& pod) {
  Path meta("metadata");
  Path spec("spec");
  FieldErrors errs = ValidateMeta(pod.metadata(), true, NameRule::kDNSSubdomain, meta);
  Append(errs, ValidatePodAnnotations(pod, meta.Child("annotations")));
  PodSpecOptions opts;
  opts.resource_is_pod = true;
  Append(errs, ValidatePodSpec(pod.spec(), spec, opts));
  if (pod.spec().serviceaccountname().empty()) {
    for (int vi = 0; vi < pod.spec().volumes_size(); ++vi) {
      const auto& v = pod.spec().volumes(vi).volumesource();
      if (!v.has_projected()) continue;
      for (int si = 0; si < v.projected().sources_size(); ++si) {
        if (v.projected().sources(si).has_serviceaccounttoken()) {
          errs.push_back(Forbidden(spec.Child("volumes").Index(vi).Child("projected").Child("sources").Index(si).Child("serviceAccountToken"),
                                   "must not be specified when serviceAccountName is not set"));
        }
      }
    }
  }
  auto whitespace = [&](const Repeated<corev1::Container>& cs, const Path& p) {
    for (int i = 0; i < cs.size(); ++i) {
      const std::string& img = cs.Get(i).image();
      if (!img.empty() && (std::isspace(static_cast<unsigned char>(img.front())) || std::isspace(static_cast<unsigned char>(img.back())))) {
        errs.push_back(Invalid(p.Index(i).Child("image"), Q(img), "must not have leading or trailing whitespace"));
      }
    }
  };
  whitespace(pod.spec().containers(), spec.Child("containers"));
  whitespace(pod.spec().initcontainers(), spec.Child("initContainers"));
  return errs;
}

bool SameToleration(const corev1::Toleration& a, const corev1::Toleration& b) {
  return a.key() == b.key() && a.operator_() == b.operator_() && a.value() == b.value() && a.effect() == b.effect();
}

// A short "- old / + new" listing of the top-level spec fields that differ, in place of
// upstream's cmp.Diff output.
std::string SpecDiff(const corev1::PodSpec& old_spec, const corev1::PodSpec& new_spec) {
  std::string out;
  const auto* desc = corev1::PodSpec::descriptor();
  const auto* refl = corev1::PodSpec::GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    corev1::PodSpec a = old_spec;
    corev1::PodSpec b = new_spec;
    for (int j = 0; j < desc->field_count(); ++j) {
      if (j == i) continue;
      refl->ClearField(&a, desc->field(j));
      refl->ClearField(&b, desc->field(j));
    }
    std::string sa = a.ShortDebugString(), sb = b.ShortDebugString();
    if (sa == sb) continue;
    out += "  core.PodSpec{\n";
    out += "- \t" + (sa.empty() ? f->json_name() + ": <unset>" : sa) + "\n";
    out += "+ \t" + (sb.empty() ? f->json_name() + ": <unset>" : sb) + "\n";
    out += "  }\n";
  }
  return out;
}

}  // namespace

FieldErrors ValidatePod(const corev1::Pod& pod, const corev1::Pod* old) {
  Path spec("spec");
  FieldErrors errs;
  if (old == nullptr) {
    errs = ValidatePodMetadataAndSpec(pod);
    if (!pod.spec().ephemeralcontainers().empty()) errs.push_back(Forbidden(spec.Child("ephemeralContainers"), "cannot be set on create"));
    if (!pod.spec().nodename().empty() && !pod.spec().schedulinggates().empty()) {
      errs.push_back(Forbidden(spec.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"));
    }
    return errs;
  }
  Path meta("metadata");
  errs = ValidateMetaUpdate(pod.metadata(), old->metadata(), meta);
  Append(errs, ValidatePodMetadataAndSpec(pod));
  const auto& ns = pod.spec();
  const auto& os = old->spec();
  // Mirror-pod annotation may not be added, removed or changed.
  auto mirror_new = pod.metadata().annotations().find("kubernetes.io/config.mirror");
  auto mirror_old = old->metadata().annotations().find("kubernetes.io/config.mirror");
  Path ann = meta.Child("annotations").Key("kubernetes.io/config.mirror");
  if (mirror_old != old->metadata().annotations().end() &&
      (mirror_new == pod.metadata().annotations().end() || mirror_new->second != mirror_old->second)) {
    errs.push_back(Forbidden(ann, "may not remove or update mirror pod annotation"));
  }
  if (mirror_old == old->metadata().annotations().end() && mirror_new != pod.metadata().annotations().end()) {
    errs.push_back(Forbidden(ann, "may not add mirror pod annotation"));
  }
  auto container_updates = [&](const Repeated<corev1::Container>& n, const Repeated<corev1::Container>& o, const Path& p) {
    if (n.size() != o.size()) {
      errs.push_back(Forbidden(p, "pod updates may not add or remove containers"));
      return true;
    }
    for (int i = 0; i < n.size(); ++i) {
      const std::string& img = n.Get(i).image();
      if (img.empty()) errs.push_back(Required(p.Index(i).Child("image")));
    }
    return false;
  };
  if (container_updates(ns.containers(), os.containers(), spec.Child("containers"))) return errs;
  if (container_updates(ns.initcontainers(), os.initcontainers(), spec.Child("initContainers"))) return errs;
  if (ns.has_activedeadlineseconds()) {
    int64_t v = ns.activedeadlineseconds();
    if (v < 0 || v > INT32_MAX) {
      errs.push_back(Invalid(spec.Child("activeDeadlineSeconds"), Num(v), InclusiveRangeError(0, INT32_MAX)));
      return errs;
    }
    if (os.has_activedeadlineseconds() && os.activedeadlineseconds() < v) {
      errs.push_back(Invalid(spec.Child("activeDeadlineSeconds"), Num(v), "must be less than or equal to previous value"));
      return errs;
    }
  } else if (os.has_activedeadlineseconds()) {
    errs.push_back(Invalid(spec.Child("activeDeadlineSeconds"), "null", "must not update from a positive integer to nil value"));
  }
  for (const auto& old_t : os.tolerations()) {
    bool found = false;
    for (const auto& new_t : ns.tolerations()) found = found || SameToleration(old_t, new_t);
    if (!found) {
      errs.push_back(Forbidden(spec.Child("tolerations"), "existing toleration can not be modified except its tolerationSeconds"));
      break;
    }
  }
  std::set<std::string> old_gates;
  for (const auto& g : os.schedulinggates()) old_gates.insert(g.name());
  for (int i = 0; i < ns.schedulinggates_size(); ++i) {
    if (!old_gates.count(ns.schedulinggates(i).name())) {
      errs.push_back(Forbidden(spec.Child("schedulingGates").Index(i).Child("name"),
                               "only deletion is allowed, but found new scheduling gate '" + ns.schedulinggates(i).name() + "'"));
    }
  }
  // Munge the fields that may change and compare the rest.
  corev1::PodSpec munged = ns;
  for (int i = 0; i < munged.containers_size(); ++i) munged.mutable_containers(i)->set_image(os.containers(i).image());
  for (int i = 0; i < munged.initcontainers_size(); ++i) munged.mutable_initcontainers(i)->set_image(os.initcontainers(i).image());
  if (os.has_activedeadlineseconds()) {
    munged.set_activedeadlineseconds(os.activedeadlineseconds());
  } else {
    munged.clear_activedeadlineseconds();
  }
  *munged.mutable_schedulinggates() = os.schedulinggates();
  *munged.mutable_tolerations() = os.tolerations();
  if (os.has_terminationgraceperiodseconds() && os.terminationgraceperiodseconds() < 0 &&
      munged.has_terminationgraceperiodseconds() && munged.terminationgraceperiodseconds() == 1) {
    munged.set_terminationgraceperiodseconds(os.terminationgraceperiodseconds());
  }
  if (!os.schedulinggates().empty()) {
    // Gated pods may gain node selector entries (no removals or changes).
    bool only_additions = true;
    for (const auto& [k, v] : os.nodeselector()) {
      auto it = munged.nodeselector().find(k);
      if (it == munged.nodeselector().end() || it->second != v) only_additions = false;
    }
    if (!only_additions) {
      errs.push_back(Invalid(spec.Child("nodeSelector"), GoMap(munged.nodeselector()),
                             "only additions to spec.nodeSelector are allowed (no mutations or deletions)"));
    }
    *munged.mutable_nodeselector() = os.nodeselector();
  }
  if (!SameMessage(munged, os)) {
    errs.push_back(Forbidden(spec,
                             "pod updates may not change fields other than `spec.containers[*].image`,"
                             "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
                             "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set "
                             "to 1 if it was previously negative)\n" +
                                 SpecDiff(os, munged)));
  }
  return errs;
}

FieldErrors ValidatePodStatusUpdate(const corev1::Pod& pod, const corev1::Pod& old) {
  Path meta("metadata");
  FieldErrors errs = ValidateMetaUpdate(pod.metadata(), old.metadata(), meta);
  const char* kSystem[] = {"PodScheduled", "Ready", "Initialized"};
  for (int i = 0; i < pod.status().conditions_size(); ++i) {
    const std::string& t = pod.status().conditions(i).type();
    if (std::find(std::begin(kSystem), std::end(kSystem), t) != std::end(kSystem)) continue;
    Append(errs, ValidateQualifiedNameField(t, meta.Child("conditions").Index(i).Child("Type")));
  }
  Path status("status");
  if (pod.spec().nodename() != old.spec().nodename()) errs.push_back(Forbidden(status.Child("nodeName"), "may not be changed directly"));
  const std::string& nominated = pod.status().nominatednodename();
  if (nominated != old.status().nominatednodename() && !nominated.empty()) {
    Append(errs, ValidateNameField(NameRule::kDNSSubdomain, nominated, status.Child("nominatedNodeName")));
  }
  Append(errs, ValidateImmutable(pod.status().qosclass() == old.status().qosclass(), Q(pod.status().qosclass()),
                                 status.Child("qosClass")));
  auto transitions = [&](const Repeated<corev1::ContainerStatus>& n, const Repeated<corev1::ContainerStatus>& o,
                         const std::string& restart_policy, const Path& p, bool init) {
    if (restart_policy == "Always") return;
    for (int i = 0; i < o.size(); ++i) {
      const auto& os = o.Get(i);
      if (!os.state().has_terminated()) continue;
      if (os.state().terminated().exitcode() != 0 && restart_policy == "OnFailure") continue;
      if (init) {
        bool sidecar = false;
        for (const auto& c : old.spec().initcontainers()) {
          if (c.name() == os.name()) sidecar = c.has_restartpolicy() && c.restartpolicy() == "Always";
        }
        if (sidecar) continue;
      }
      for (const auto& ns : n) {
        if (ns.name() == os.name() && !ns.state().has_terminated()) {
          errs.push_back(Forbidden(p.Index(i).Child("state"), "may not be transitioned to non-terminated state"));
        }
      }
    }
  };
  transitions(pod.status().containerstatuses(), old.status().containerstatuses(), old.spec().restartpolicy(),
              status.Child("containerStatuses"), false);
  transitions(pod.status().initcontainerstatuses(), old.status().initcontainerstatuses(), old.spec().restartpolicy(),
              status.Child("initContainerStatuses"), true);
  transitions(pod.status().ephemeralcontainerstatuses(), old.status().ephemeralcontainerstatuses(), "Never",
              status.Child("ephemeralContainerStatuses"), false);
  auto ip_list = [&](const std::vector<std::string>& ips, const Path& p, const std::string& rendered) {
    for (size_t i = 0; i < ips.size(); ++i) Append(errs, ValidateIPField(ips[i], p.Index(i)));
    if (ips.size() > 1) {
      int v4 = 0, v6 = 0;
      for (const auto& s : ips) {
        IpAddr a;
        if (ParseIp(s, &a)) (a.v6 ? v6 : v4)++;
      }
      if (ips.size() > 2 || v4 != 1 || v6 != 1) errs.push_back(Invalid(p, rendered, "may specify no more than one IP for each IP family"));
      std::set<std::string> seen;
      for (size_t i = 0; i < ips.size(); ++i) {
        if (!seen.insert(ips[i]).second) errs.push_back(Duplicate(p.Index(i), "core.PodIP{IP:" + Q(ips[i]) + "}"));
      }
    }
  };
  std::vector<std::string> pod_ips;
  std::string rendered = "[]core.PodIP{";
  for (const auto& ip : pod.status().podips()) {
    rendered += (pod_ips.empty() ? "" : ", ") + std::string("core.PodIP{IP:") + Q(ip.ip()) + "}";
    pod_ips.push_back(ip.ip());
  }
  ip_list(pod_ips, status.Child("podIPs"), rendered + "}");
  if (!pod.status().hostips().empty()) {
    if (pod.status().hostip() != pod.status().hostips(0).ip()) {
      errs.push_back(Invalid(status.Child("hostIPs").Index(0).Child("ip"), Q(pod.status().hostips(0).ip()), "must be equal to `hostIP`"));
    }
    std::vector<std::string> host_ips;
    std::string hr = "[]core.HostIP{";
    for (const auto& ip : pod.status().hostips()) {
      hr += (host_ips.empty() ? "" : ", ") + std::string("core.HostIP{IP:") + Q(ip.ip()) + "}";
      host_ips.push_back(ip.ip());
    }
    ip_list(host_ips, status.Child("hostIPs"), hr + "}");
  }
  return errs;
}

FieldErrors ValidateBinding(const corev1::Binding& binding) {
  FieldErrors errs;
  if (!binding.target().kind().empty() && binding.target().kind() != "Node") {
    errs.push_back(NotSupported(Path("target").Child("kind"), Q(binding.target().kind()), {"Node", "<empty>"}));
  }
  if (binding.target().name().empty()) errs.push_back(Required(Path("target").Child("name")));
  return errs;
}

}  // namespace ck::apiserver::validation
