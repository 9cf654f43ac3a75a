// FakeBpfMap: an in-memory BpfMap for tests of the sources' map logic
// (no root, no kernel). Keys and values are byte strings; a capacity makes
// Update fail with E2BIG like a full BPF hash map.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_FAKE_BPF_MAP_H_
#define GSPY_DAEMON_SOURCES_KERNEL_FAKE_BPF_MAP_H_

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "daemon/sources/kernel/bpf_map.h"

namespace gspy {

class FakeBpfMap final : public BpfMap {
 public:
  explicit FakeBpfMap(size_t capacity = SIZE_MAX) : capacity_(capacity) {}

  int Update(const void* key, size_t key_size, const void* value,
             size_t value_size) override {
    std::string k(static_cast<const char*>(key), key_size);
    if (!entries_.contains(k) && entries_.size() >= capacity_) return E2BIG;
    entries_[k] = std::string(static_cast<const char*>(value), value_size);
    return 0;
  }
  int Lookup(const void* key, size_t key_size, void* value,
             size_t value_size) const override {
    auto it =
        entries_.find(std::string(static_cast<const char*>(key), key_size));
    if (it == entries_.end()) return ENOENT;
    if (it->second.size() != value_size) return EINVAL;
    std::memcpy(value, it->second.data(), value_size);
    return 0;
  }
  int Delete(const void* key, size_t key_size) override {
    return entries_.erase(
               std::string(static_cast<const char*>(key), key_size)) != 0
               ? 0
               : ENOENT;
  }
  int NextKey(const void* key, void* next, size_t key_size) const override {
    auto it = key == nullptr ? entries_.begin()
                             : entries_.upper_bound(std::string(
                                   static_cast<const char*>(key), key_size));
    if (it == entries_.end()) return ENOENT;
    std::memcpy(next, it->first.data(), key_size);
    return 0;
  }

  size_t size() const { return entries_.size(); }

 private:
  const size_t capacity_;
  std::map<std::string, std::string> entries_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_FAKE_BPF_MAP_H_
