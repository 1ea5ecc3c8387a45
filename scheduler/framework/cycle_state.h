// CycleState: data one scheduling cycle shares between its plugins (upstream framework.CycleState).
// A plugin writes its PreFilter/PreScore results under its own key and reads them back in
// Filter/Score. Preemption clones the state to try "what if these pods were gone".
// Threading: Write only while no other thread uses this state (the sequential phases: PreFilter,
// PreScore, Reserve, or a clone that one thread owns); Read and Clone from any number of threads
// during Filter and Score. The parallel phases are entered through the Parallelizer's mutex,
// which orders the writes before them, so reads need no lock of their own (a read happens for
// every plugin on every node: a lock there costs more than the plugin).
#pragma once

#include <memory>
#include <set>
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

  void Write(const std::string& key, std::shared_ptr<StateData> data) { data_[key] = std::move(data); }
  // The data under `key`, or nullptr.
  StateData* Read(const std::string& key) const {
    auto it = data_.find(key);
    return it == data_.end() ? nullptr : it->second.get();
  }
  // The data under `key` as T, or nullptr when absent or of another type.
  template <typename T>
  T* ReadAs(const std::string& key) const {
    return dynamic_cast<T*>(Read(key));
  }
  void Delete(const std::string& key) { data_.erase(key); }

  // A deep copy (every StateData cloned).
  std::unique_ptr<CycleState> Clone() const {
    auto out = std::make_unique<CycleState>();
    for (const auto& [k, v] : data_) out->data_[k] = v ? std::shared_ptr<StateData>(v->Clone()) : nullptr;
    out->skip_filter_plugins = skip_filter_plugins;
    out->skip_score_plugins = skip_score_plugins;
    return out;
  }

  // Plugins whose PreFilter / PreScore answered Skip: the framework does not call their Filter /
  // Score in this cycle. Written in the sequential phases only.
  // Transparent comparison: Filter looks names up as string_views, without building a string per
  // plugin per node.
  std::set<std::string, std::less<>> skip_filter_plugins;
  std::set<std::string, std::less<>> skip_score_plugins;

 private:
  std::unordered_map<std::string, std::shared_ptr<StateData>> data_;
};

}  // namespace ck::scheduler
