#include "daemon/export/metrics/bpf_stats_collector.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace gspy {
namespace {

// Walking the keys costs one syscall per entry; bigger maps are left out so
// a scrape stays in the milliseconds.
constexpr uint32_t kMaxWalkedEntries = 1 << 17;

enum class FdKind { kOther, kProg, kMap };

FdKind KindOf(int fd) {
  char link[64];
  const std::string path = absl::StrCat("/proc/self/fd/", fd);
  const ssize_t n = readlink(path.c_str(), link, sizeof(link) - 1);
  if (n <= 0) return FdKind::kOther;
  const absl::string_view target(link, static_cast<size_t>(n));
  if (target == "anon_inode:bpf-prog") return FdKind::kProg;
  if (target == "anon_inode:bpf-map") return FdKind::kMap;
  return FdKind::kOther;
}

std::vector<int> OwnFds() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  const int own = dirfd(dir);
  while (dirent* e = readdir(dir)) {
    int fd = 0;
    if (absl::SimpleAtoi(e->d_name, &fd) && fd != own) fds.push_back(fd);
  }
  closedir(dir);
  return fds;
}

const char* MapTypeName(uint32_t type) {
  switch (type) {
    case BPF_MAP_TYPE_HASH:
      return "hash";
    case BPF_MAP_TYPE_ARRAY:
      return "array";
    case BPF_MAP_TYPE_PERCPU_HASH:
      return "percpu_hash";
    case BPF_MAP_TYPE_PERCPU_ARRAY:
      return "percpu_array";
    case BPF_MAP_TYPE_STACK_TRACE:
      return "stack_trace";
    case BPF_MAP_TYPE_LRU_HASH:
      return "lru_hash";
    case BPF_MAP_TYPE_RINGBUF:
      return "ringbuf";
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      return "perf_event_array";
    default:
      return "other";
  }
}

bool Walkable(uint32_t type) {
  return type == BPF_MAP_TYPE_HASH || type == BPF_MAP_TYPE_LRU_HASH ||
         type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_STACK_TRACE;
}

// Entries of a hash-like map. A key deleted while we stand on it sends the
// walk back to the start, so it is bounded by max_entries.
uint64_t CountEntries(int fd, const bpf_map_info& info) {
  std::vector<uint8_t> key(info.key_size), next(info.key_size);
  uint64_t n = 0;
  const void* cur = nullptr;
  while (n < info.max_entries &&
         bpf_map_get_next_key(fd, cur, next.data()) == 0) {
    ++n;
    key.swap(next);
    cur = key.data();
  }
  return n;
}

// Bytes written to a ring buffer and not yet consumed: producer minus
// consumer position, from the map's first two pages mapped read-only (what
// libbpf's ring__avail_data_size reads; not in Debian's libbpf 1.1).
int64_t RingbufUsed(int fd) {
  const int64_t page = sysconf(_SC_PAGESIZE);
  void* mem = mmap(nullptr, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) return -1;
  const auto* base = static_cast<const uint8_t*>(mem);
  const uint64_t consumer = __atomic_load_n(
      reinterpret_cast<const uint64_t*>(base), __ATOMIC_ACQUIRE);
  const uint64_t producer = __atomic_load_n(
      reinterpret_cast<const uint64_t*>(base + page), __ATOMIC_ACQUIRE);
  munmap(mem, 2 * page);
  return producer >= consumer ? static_cast<int64_t>(producer - consumer) : 0;
}

struct ProgTotals {
  uint64_t runs = 0;
  uint64_t run_ns = 0;
  uint64_t recursion_misses = 0;
};

struct MapTotals {
  std::string type;
  uint64_t max_entries = 0;
  bool walked = false;
  uint64_t entries = 0;
  bool ringbuf = false;
  int64_t ring_used = 0;
};

}  // namespace

std::unique_ptr<BpfStatsCollector> BpfStatsCollector::Create(
    std::string* warning) {
  const int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0 && warning != nullptr) {
    *warning =
        absl::StrCat("BPF run-time statistics not enabled (bpf_enable_stats: ",
                     strerror(errno),
                     "); gspy_bpf_program_runs_total stays 0 unless sysctl "
                     "kernel.bpf_stats_enabled=1");
  }
  return std::unique_ptr<BpfStatsCollector>(
      new BpfStatsCollector(fd >= 0 ? fd : -1));
}

BpfStatsCollector::~BpfStatsCollector() {
  if (stats_fd_ >= 0) close(stats_fd_);
}

void BpfStatsCollector::Collect(MetricFamilies* out) const {
  // Several fds can name one object; count each object once (by id), and
  // sum objects that share a name so that no series is repeated.
  absl::flat_hash_set<uint32_t> seen_progs, seen_maps;
  std::map<std::string, ProgTotals> progs;
  std::map<std::string, MapTotals> maps;
  for (int fd : OwnFds()) {
    const FdKind kind = KindOf(fd);
    if (kind == FdKind::kProg) {
      bpf_prog_info info{};
      uint32_t len = sizeof(info);
      if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
      if (!seen_progs.insert(info.id).second) continue;
      ProgTotals& t = progs[info.name];
      t.runs += info.run_cnt;
      t.run_ns += info.run_time_ns;
      t.recursion_misses += info.recursion_misses;
    } else if (kind == FdKind::kMap) {
      bpf_map_info info{};
      uint32_t len = sizeof(info);
      if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
      if (!seen_maps.insert(info.id).second) continue;
      MapTotals& t = maps[info.name];
      t.type = MapTypeName(info.type);
      t.max_entries += info.max_entries;
      if (Walkable(info.type) && info.max_entries <= kMaxWalkedEntries) {
        t.walked = true;
        t.entries += CountEntries(fd, info);
      }
      if (info.type == BPF_MAP_TYPE_RINGBUF) {
        if (const int64_t used = RingbufUsed(fd); used >= 0) {
          t.ringbuf = true;
          t.ring_used += used;
        }
      }
    }
  }

  MetricFamily enabled("gspy_bpf_stats_enabled", MetricType::kGauge,
                       "1 when gspyd holds BPF run-time statistics on "
                       "(bpf_enable_stats), which the run counters need.");
  enabled.Add({}, stats_enabled() ? 1 : 0);
  out->push_back(std::move(enabled));
  MetricFamily runs("gspy_bpf_program_runs_total", MetricType::kCounter,
                    "Runs of each BPF program gspyd loaded, while statistics "
                    "are on (kernel run_cnt).");
  MetricFamily run_seconds(
      "gspy_bpf_program_run_seconds_total", MetricType::kCounter,
      "Time spent in each BPF program gspyd loaded, while statistics are on "
      "(kernel run_time_ns).");
  MetricFamily misses("gspy_bpf_program_recursion_misses_total",
                      MetricType::kCounter,
                      "Runs of each BPF program the kernel skipped because "
                      "another BPF program was running on the CPU.");
  for (const auto& [name, t] : progs) {
    runs.Add({{"program", name}}, static_cast<double>(t.runs));
    run_seconds.Add({{"program", name}}, static_cast<double>(t.run_ns) * 1e-9);
    misses.Add({{"program", name}}, static_cast<double>(t.recursion_misses));
  }
  out->push_back(std::move(runs));
  out->push_back(std::move(run_seconds));
  out->push_back(std::move(misses));

  MetricFamily max_entries(
      "gspy_bpf_map_max_entries", MetricType::kGauge,
      "Capacity of each BPF map gspyd loaded (bytes for a ring buffer).");
  MetricFamily entries("gspy_bpf_map_entries", MetricType::kGauge,
                       "Entries in each hash or stack-trace BPF map.");
  MetricFamily ring_used("gspy_bpf_ringbuf_used_bytes", MetricType::kGauge,
                         "Bytes written to each BPF ring buffer and not yet "
                         "read by gspyd.");
  for (const auto& [name, t] : maps) {
    max_entries.Add({{"map", name}, {"type", t.type}},
                    static_cast<double>(t.max_entries));
    if (t.walked) {
      entries.Add({{"map", name}}, static_cast<double>(t.entries));
    }
    if (t.ringbuf) {
      ring_used.Add({{"map", name}}, static_cast<double>(t.ring_used));
    }
  }
  out->push_back(std::move(max_entries));
  out->push_back(std::move(entries));
  out->push_back(std::move(ring_used));
}

}  // namespace gspy
