#include "daemon/backoff/backoff_signals.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

// At most `limit` bytes of a small file; empty when it cannot be read.
std::string ReadSmallFile(const std::string& path, size_t limit) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out(limit, '\0');
  size_t got = 0;
  while (got < limit) {
    ssize_t n = read(fd, out.data() + got, limit - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  out.resize(got);
  return out;
}

double PsiOf(const std::string& dir, const char* name) {
  if (dir.empty()) return -1;
  std::optional<double> v =
      ParsePsiSomeAvg10(ReadSmallFile(dir + "/" + name, 4096));
  return v.has_value() ? *v : -1;
}

}  // namespace

std::optional<double> ParsePsiSomeAvg10(absl::string_view text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, "some ")) continue;
    for (absl::string_view field : absl::StrSplit(line, ' ')) {
      if (!absl::ConsumePrefix(&field, "avg10=")) continue;
      double v = 0;
      if (!absl::SimpleAtod(field, &v) || !(v >= 0 && v <= 100)) {
        return std::nullopt;
      }
      return v;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

SignalSources SelfSignalSources() {
  SignalSources s;
  s.cpu_ns = [] {
    timespec ts{};
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return int64_t{-1};
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  };
  s.rss_bytes = [] {
    // statm: size resident shared text lib data dt, in pages.
    const std::string statm = ReadSmallFile("/proc/self/statm", 256);
    std::vector<absl::string_view> f = absl::StrSplit(statm, ' ');
    int64_t pages = 0;
    if (f.size() < 2 || !absl::SimpleAtoi(f[1], &pages)) return int64_t{-1};
    return pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
  };
  return s;
}

BackoffSignals SignalReader::Read(absl::Time now) {
  BackoffSignals out;
  const int64_t cpu = sources_.cpu_ns ? sources_.cpu_ns() : -1;
  const uint64_t losses =
      sources_.ring_losses_total ? sources_.ring_losses_total() : 0;
  if (!first_ && cpu >= 0 && last_cpu_ns_ >= 0 && now > last_time_) {
    out.cpu_cores =
        static_cast<double>(cpu - last_cpu_ns_) /
        static_cast<double>(absl::ToInt64Nanoseconds(now - last_time_));
  }
  if (!first_ && losses > last_losses_) out.ring_losses = losses - last_losses_;
  first_ = false;
  last_time_ = now;
  last_cpu_ns_ = cpu;
  last_losses_ = losses;
  out.rss_bytes = sources_.rss_bytes ? sources_.rss_bytes() : -1;
  out.psi_cpu_some_avg10 = PsiOf(sources_.psi_dir, "cpu");
  out.psi_memory_some_avg10 = PsiOf(sources_.psi_dir, "memory");
  return out;
}

}  // namespace gspy
