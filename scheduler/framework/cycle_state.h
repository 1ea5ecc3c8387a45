// CycleState: data one scheduling cycle shares between its plugins (upstream framework.CycleState).
// A plugin writes its PreFilter/PreScore results under its own key and reads them back in
// Filter/Score. Preemption clones the state to try "what if these pods were gone".
// Threading: Write only from the sequential phases (PreFilter, PreScore, Reserve, and the
// preemption's own clone); Read from any number of threads during Filter and Score.
#pragma once

#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace ck::scheduler {

// A plugin's per-cycle data. Clone must produce an independent copy (preemption changes clones).
class StateData {
 public:
  virtual ~StateData() = default;
  virtual std::unique_ptr<StateData> Clone() const = 0;
};

class CycleState {
 public:
  CycleState() = default;
  CycleState(const CycleState&) = delete;
  CycleState& operator=(const CycleState&) = delete;

  void Write(const std::string& key, std::shared_ptr<StateData> data) {
    std::unique_lock lock(mu_);
    data_[key] = std::move(data);
  }
  // The data under `key`, or nullptr.
  StateData* Read(const std::string& key) const {
    std::shared_lock lock(mu_);
    auto it = data_.find(key);
    return it == data_.end() ? nullptr : it->second.get();
  }
  // The data under `key` as T, or nullptr when absent or of another type.
  template <typename T>
  T* ReadAs(const std::string& key) const {
    return dynamic_cast<T*>(Read(key));
  }
  void Delete(const std::string& key) {
    std::unique_lock lock(mu_);
    data_.erase(key);
  }

  // A deep copy (every StateData cloned).
  std::unique_ptr<CycleState> Clone() const {
    auto out = std::make_unique<CycleState>();
    std::shared_lock lock(mu_);
    for (const auto& [k, v] : data_) out->data_[k] = v ? std::shared_ptr<StateData>(v->Clone()) : nullptr;
    out->skip_filter_plugins = skip_filter_plugins;
    out->skip_score_plugins = skip_score_plugins;
    return out;
  }

  // Plugins whose PreFilter / PreScore answered Skip: the framework does not call their Filter /
  // Score in this cycle. Written in the sequential phases only.
  std::set<std::string> skip_filter_plugins;
  std::set<std::string> skip_score_plugins;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<StateData>> data_;  // guarded by mu_
};

}  // namespace ck::scheduler
