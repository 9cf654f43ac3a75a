// RegionMemory: a MemorySource over regions of the fuzzer's input, for the
// targets that read hostile process memory (goroutine dumps, profile
// buckets).
#ifndef GSPY_TESTS_FUZZ_REGION_MEMORY_H_
#define GSPY_TESTS_FUZZ_REGION_MEMORY_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {

// Regions of bytes; a read is served piecewise from the regions that cover
// it (the first one listed wins where they overlap), all or nothing.
class RegionMemory : public MemorySource {
 public:
  void Add(uint64_t addr, std::string_view bytes) {
    if (!bytes.empty()) regions_.push_back({addr, bytes});
  }
  // Regions as the targets encode them in their input: {u64 address, u16
  // length, bytes} each, little-endian, the last possibly cut short; at
  // most 256.
  void AddEncoded(std::string_view input) {
    for (int n = 0; input.size() >= 10 && n < 256; ++n) {
      uint64_t addr;
      uint16_t len;
      std::memcpy(&addr, input.data(), 8);
      std::memcpy(&len, input.data() + 8, 2);
      input.remove_prefix(10);
      const std::string_view bytes = input.substr(0, len);
      input.remove_prefix(bytes.size());
      Add(addr, bytes);
    }
  }
  absl::Status Read(uint64_t addr, absl::Span<char> out) const override {
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t a = addr + done;
      const Region* hit = nullptr;
      for (const Region& r : regions_) {
        if (a >= r.addr && a - r.addr < r.bytes.size()) {
          hit = &r;
          break;
        }
      }
      if (hit == nullptr) {
        return absl::OutOfRangeError("unmapped");
      }
      const size_t n = std::min<uint64_t>(out.size() - done,
                                          hit->bytes.size() - (a - hit->addr));
      std::memcpy(out.data() + done, hit->bytes.data() + (a - hit->addr), n);
      done += n;
    }
    return absl::OkStatus();
  }
  std::string Describe() const override { return "fuzz memory"; }

 private:
  struct Region {
    uint64_t addr;
    std::string_view bytes;
  };
  std::vector<Region> regions_;
};

}  // namespace gspy

#endif  // GSPY_TESTS_FUZZ_REGION_MEMORY_H_
