#include "controller-manager/nodelifecycle/node_util.h"

#include <charconv>
#include <cstdio>

#include "common/api/codec.h"
#include "common/api/object.h"
#include "common/base/log.h"
#include "common/client/cache/informer_factory.h"

namespace ck::controller_manager {

namespace {

constexpr int kTaintUpdateTries = 5;  // upstream UpdateTaintBackoff.Steps

const client::ResourceInfo& NodesResource() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Node::descriptor()->full_name());
}


// {"metadata":{"resourceVersion":"<rv>"},"spec":{"taints":[...]}}: spec.taints has no patch
// strategy, so the list is replaced; the resourceVersion makes the patch fail on a stale node.
Result<std::string> TaintsPatch(const corev1::Node& node, const std::vector<corev1::Taint>& taints) {
  std::string body = "{\"metadata\":{\"resourceVersion\":" + JsonQuote(node.metadata().resourceversion()) +
                     "},\"spec\":{\"taints\":[";
  for (size_t i = 0; i < taints.size(); ++i) {
    if (i > 0) body += ',';
    CK_ASSIGN_OR_RETURN(std::string taint, api::ToJson(taints[i]));
    body += taint;
  }
  body += "]}}";
  return body;
}

}  // namespace

corev1::Taint MakeTaint(std::string_view key, std::string_view effect) {
  corev1::Taint t;
  t.set_key(std::string(key));
  t.set_effect(std::string(effect));
  return t;
}

bool MatchTaint(const corev1::Taint& a, const corev1::Taint& b) { return a.key() == b.key() && a.effect() == b.effect(); }

bool TaintExists(const google::protobuf::RepeatedPtrField<corev1::Taint>& taints, const corev1::Taint& taint) {
  for (const corev1::Taint& t : taints) {
    if (MatchTaint(t, taint)) return true;
  }
  return false;
}

std::vector<corev1::Taint> NoExecuteTaints(const corev1::Node& node) {
  std::vector<corev1::Taint> out;
  for (const corev1::Taint& t : node.spec().taints()) {
    if (t.effect() == kEffectNoExecute) out.push_back(t);
  }
  return out;
}

bool ToleratesTaint(const corev1::Toleration& toleration, const corev1::Taint& taint) {
  if (!toleration.effect().empty() && toleration.effect() != taint.effect()) return false;
  if (!toleration.key().empty() && toleration.key() != taint.key()) return false;
  const std::string& op = toleration.operator_();
  if (op.empty() || op == "Equal") return toleration.value() == taint.value();
  return op == "Exists";
}

bool MatchingTolerations(const std::vector<corev1::Taint>& taints,
                         const google::protobuf::RepeatedPtrField<corev1::Toleration>& tolerations,
                         std::vector<const corev1::Toleration*>* used) {
  used->clear();
  for (const corev1::Taint& taint : taints) {
    const corev1::Toleration* match = nullptr;
    for (const corev1::Toleration& t : tolerations) {
      if (ToleratesTaint(t, taint)) {
        match = &t;
        break;
      }
    }
    if (match == nullptr) return false;
    used->push_back(match);
  }
  return true;
}

std::string ZoneKey(const corev1::Node& node) {
  const auto& labels = node.metadata().labels();
  auto value = [&](const char* key, const char* deprecated) -> std::string {
    auto it = labels.find(key);
    if (it == labels.end()) it = labels.find(deprecated);
    return it == labels.end() ? "" : it->second;
  };
  std::string zone = value("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone");
  std::string region = value("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region");
  if (zone.empty() && region.empty()) return "";
  // The NUL keeps "a:b" + "c" apart from "a" + "b:c", as upstream.
  return region + std::string(":\0:", 3) + zone;
}

Result<std::shared_ptr<const corev1::Node>> SwapNodeTaints(client::ApiClient& api, const Clock& clock,
                                                           const std::string& node_name,
                                                           std::shared_ptr<const corev1::Node> hint,
                                                           const std::vector<corev1::Taint>& add,
                                                           const std::vector<corev1::Taint>& remove) {
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kTaintUpdateTries; ++attempt) {
    std::shared_ptr<const corev1::Node> node = attempt == 0 ? hint : nullptr;
    if (node == nullptr) {
      CK_ASSIGN_OR_RETURN(client::ObjectPtr got, api.Get(NodesResource(), "", node_name));
      node = std::static_pointer_cast<const corev1::Node>(got);
    }
    std::vector<corev1::Taint> taints;
    bool changed = false;
    for (const corev1::Taint& t : node->spec().taints()) {
      bool drop = false;
      for (const corev1::Taint& r : remove) drop = drop || MatchTaint(t, r);
      if (drop) {
        changed = true;
        continue;
      }
      taints.push_back(t);
    }
    for (const corev1::Taint& a : add) {
      bool present = false;
      for (const corev1::Taint& t : taints) present = present || MatchTaint(t, a);
      if (present) continue;
      corev1::Taint stamped = a;
      api::SetTime(stamped.mutable_timeadded(), clock.Now());
      taints.push_back(std::move(stamped));
      changed = true;
    }
    if (!changed) return node;
    CK_ASSIGN_OR_RETURN(std::string body, TaintsPatch(*node, taints));
    Result<client::ObjectPtr> patched =
        api.Patch(NodesResource(), "", node_name, client::PatchType::kStrategicMerge, body);
    if (patched.ok()) return std::static_pointer_cast<const corev1::Node>(*patched);
    last = patched.status();
    if (last.code() != Code::kConflict) return last;
    CK_VLOG(3, "Conflict updating node taints, retrying", "node", node_name);
  }
  return last;
}

void RecordNodeStatusChange(const client::EventRecorder& recorder, const corev1::Node& node,
                            std::string_view new_status) {
  CK_VLOG(2, "Recording status change event message for node", "status", new_status, "node", node.metadata().name());
  RecordNodeEvent(recorder, node.metadata().name(), node.metadata().uid(), client::kEventNormal, new_status,
                  "Node " + node.metadata().name() + " status is now: " + std::string(new_status));
}

void RecordNodeEvent(const client::EventRecorder& recorder, const std::string& node_name, const std::string& uid,
                     std::string_view type, std::string_view reason, std::string_view message) {
  corev1::ObjectReference ref;
  ref.set_apiversion("v1");
  ref.set_kind("Node");
  ref.set_name(node_name);
  ref.set_uid(uid);
  recorder.Event(ref, type, reason, message);
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool NewerResourceVersion(std::string_view a, std::string_view b) {
  auto parse = [](std::string_view s, uint64_t* out) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
  };
  uint64_t x = 0, y = 0;
  return parse(a, &x) && parse(b, &y) && x > y;
}

void EnsureNodeNameIndex(client::SharedIndexInformer& informer) {
  client::Indexers indexers;
  indexers[client::kNodeNameIndex] = client::FieldIndexFunc("spec.nodeName");
  informer.AddIndexers(std::move(indexers)).IgnoreError();  // Invalid: another controller added it
}

}  // namespace ck::controller_manager
