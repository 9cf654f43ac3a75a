// BpfMap: what a source does with a BPF map (update, lookup, delete, walk
// the keys), behind an interface so that the sources' map-writing logic can
// be tested without root: LibbpfMap is the real map, FakeBpfMap
// (fake_bpf_map.h) an in-memory one.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_BPF_MAP_H_
#define GSPY_DAEMON_SOURCES_KERNEL_BPF_MAP_H_

#include <cstddef>
#include <vector>

struct bpf_map;

namespace gspy {

class BpfMap {
 public:
  virtual ~BpfMap() = default;

  // Creates or replaces (BPF_ANY). 0 or an errno.
  virtual int Update(const void* key, size_t key_size, const void* value,
                     size_t value_size) = 0;
  // 0 or an errno (ENOENT: no such key).
  virtual int Lookup(const void* key, size_t key_size, void* value,
                     size_t value_size) const = 0;
  virtual int Delete(const void* key, size_t key_size) = 0;
  // The key after `key` (the first one for nullptr). 0 or an errno (ENOENT:
  // no more keys).
  virtual int NextKey(const void* key, void* next, size_t key_size) const = 0;

  template <typename K, typename V>
  int Put(const K& key, const V& value) {
    return Update(&key, sizeof(key), &value, sizeof(value));
  }
  template <typename K, typename V>
  bool Get(const K& key, V* value) const {
    return Lookup(&key, sizeof(key), value, sizeof(*value)) == 0;
  }
  template <typename K>
  bool Erase(const K& key) {
    return Delete(&key, sizeof(key)) == 0;
  }
  // Every key, then deletes those `doomed(key)` says (after the walk: a key
  // deleted while the walk stands on it would restart it).
  template <typename K, typename Pred>
  void EraseIf(Pred doomed) {
    std::vector<K> keys;
    K cur{}, next{};
    const void* prev = nullptr;
    while (NextKey(prev, &next, sizeof(next)) == 0) {
      if (doomed(next)) keys.push_back(next);
      cur = next;
      prev = &cur;
    }
    for (const K& k : keys) Delete(&k, sizeof(k));
  }
};

// A map of a loaded BPF object (not owned).
class LibbpfMap final : public BpfMap {
 public:
  explicit LibbpfMap(const bpf_map* map) : map_(map) {}
  int Update(const void* key, size_t key_size, const void* value,
             size_t value_size) override;
  int Lookup(const void* key, size_t key_size, void* value,
             size_t value_size) const override;
  int Delete(const void* key, size_t key_size) override;
  int NextKey(const void* key, void* next, size_t key_size) const override;

 private:
  const bpf_map* map_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_BPF_MAP_H_
