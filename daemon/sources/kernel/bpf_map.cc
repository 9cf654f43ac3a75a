#include "daemon/sources/kernel/bpf_map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace gspy {
namespace {

// libbpf 1.x returns -errno on failure.
int Errno(int rc) { return rc < 0 ? -rc : rc; }

}  // namespace

int LibbpfMap::Update(const void* key, size_t key_size, const void* value,
                      size_t value_size) {
  return Errno(
      bpf_map__update_elem(map_, key, key_size, value, value_size, BPF_ANY));
}

int LibbpfMap::Lookup(const void* key, size_t key_size, void* value,
                      size_t value_size) const {
  return Errno(bpf_map__lookup_elem(map_, key, key_size, value, value_size, 0));
}

int LibbpfMap::Delete(const void* key, size_t key_size) {
  return Errno(bpf_map__delete_elem(map_, key, key_size, 0));
}

int LibbpfMap::NextKey(const void* key, void* next, size_t key_size) const {
  return Errno(bpf_map__get_next_key(map_, key, next, key_size));
}

}  // namespace gspy
