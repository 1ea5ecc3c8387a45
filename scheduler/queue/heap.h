// KeyedHeap: a binary heap whose items also have a string key, so that an item can be found,
// changed or removed by key in O(log n) (upstream scheduler/internal/heap). The scheduling queue
// keeps its activeQ and backoffQ in two of these, keyed by pod uid.
//   KeyedHeap<int> h([](const int& a, const int& b) { return a < b; });
//   h.Push("a", 3); h.Push("b", 1); h.Pop();  // -> 1
// Threading: not synchronized; the owner's mutex guards it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/base/check.h"

namespace ck::scheduler::queue {

template <typename T>
class KeyedHeap {
 public:
  // `less(a, b)` is true when `a` must come out before `b`.
  using Less = std::function<bool(const T& a, const T& b)>;

  explicit KeyedHeap(Less less) : less_(std::move(less)) {}

  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }
  bool Contains(const std::string& key) const { return nodes_.contains(key); }

  // Adds `item` under `key`, or replaces the item already there, and restores the order.
  void Push(const std::string& key, T item) {
    auto [it, inserted] = nodes_.try_emplace(key);
    if (!inserted) {
      it->second->item = std::move(item);
      Fix(it->second->pos);
      return;
    }
    it->second = std::make_unique<Node>(Node{&it->first, std::move(item), heap_.size()});
    heap_.push_back(it->second.get());
    Up(heap_.size() - 1);
  }

  // The item under `key`, or nullptr. After changing it in place, call Fix(key).
  T* Get(const std::string& key) {
    auto it = nodes_.find(key);
    return it == nodes_.end() ? nullptr : &it->second->item;
  }
  const T* Get(const std::string& key) const {
    auto it = nodes_.find(key);
    return it == nodes_.end() ? nullptr : &it->second->item;
  }

  // Restores the order after the item under `key` changed in place; false when there is none.
  bool Fix(const std::string& key) {
    auto it = nodes_.find(key);
    if (it == nodes_.end()) return false;
    Fix(it->second->pos);
    return true;
  }

  // Takes out the item under `key` (nullopt when there is none).
  std::optional<T> Remove(const std::string& key) {
    auto it = nodes_.find(key);
    if (it == nodes_.end()) return std::nullopt;
    return std::optional<T>(RemoveAt(it->second->pos));
  }

  // The first item; the heap must not be empty.
  const T& Peek() const {
    CK_CHECK(!heap_.empty()) << "Peek on an empty heap";
    return heap_.front()->item;
  }
  const std::string& PeekKey() const {
    CK_CHECK(!heap_.empty()) << "PeekKey on an empty heap";
    return *heap_.front()->key;
  }

  // Takes out the first item; the heap must not be empty.
  T Pop() {
    CK_CHECK(!heap_.empty()) << "Pop on an empty heap";
    return RemoveAt(0);
  }

  // Calls fn(key, item) for every item, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Node* n : heap_) fn(*n->key, n->item);
  }

 private:
  // Nodes stay put while the heap reorders pointers to them, so a swap costs no key lookups.
  struct Node {
    const std::string* key;  // points into nodes_
    T item;
    size_t pos;  // index in heap_
  };

  T RemoveAt(size_t i) {
    size_t last = heap_.size() - 1;
    if (i != last) Swap(i, last);
    Node* node = heap_.back();
    heap_.pop_back();
    if (i < heap_.size()) Fix(i);
    auto it = nodes_.find(*node->key);
    T item = std::move(node->item);
    nodes_.erase(it);
    return item;
  }

  void Fix(size_t i) {
    if (!Down(i)) Up(i);
  }

  void Up(size_t i) {
    while (i > 0) {
      size_t parent = (i - 1) / 2;
      if (!less_(heap_[i]->item, heap_[parent]->item)) break;
      Swap(i, parent);
      i = parent;
    }
  }

  // Returns true when the item moved.
  bool Down(size_t i) {
    size_t start = i;
    size_t n = heap_.size();
    while (true) {
      size_t left = 2 * i + 1;
      if (left >= n) break;
      size_t best = left;
      size_t right = left + 1;
      if (right < n && less_(heap_[right]->item, heap_[left]->item)) best = right;
      if (!less_(heap_[best]->item, heap_[i]->item)) break;
      Swap(i, best);
      i = best;
    }
    return i != start;
  }

  void Swap(size_t a, size_t b) {
    std::swap(heap_[a], heap_[b]);
    heap_[a]->pos = a;
    heap_[b]->pos = b;
  }

  Less less_;
  std::vector<Node*> heap_;                                       // the heap order
  std::unordered_map<std::string, std::unique_ptr<Node>> nodes_;  // key -> node (owns the items)
};

}  // namespace ck::scheduler::queue
