#include "daemon/export/metrics/self_process_collector.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace gspy {
namespace {

void AddOne(MetricFamilies* out, std::string name, MetricType type,
            std::string help, double value) {
  MetricFamily f(std::move(name), type, std::move(help));
  f.Add({}, value);
  out->push_back(std::move(f));
}

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // not the directory's own fd
}

// Seconds since the epoch at which the system booted (/proc/stat btime).
double BootTime() {
  for (absl::string_view line : absl::StrSplit(ReadFile("/proc/stat"), '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double t = 0;
      if (absl::SimpleAtod(line, &t)) return t;
    }
  }
  return -1;
}

}  // namespace

void CollectSelfProcess(MetricFamilies* out) {
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  // /proc/self/stat: the fields after the command's closing parenthesis,
  // numbered from 3 (state) as in proc(5).
  const std::string stat = ReadFile("/proc/self/stat");
  const size_t paren = stat.rfind(')');
  if (paren != std::string::npos && paren + 2 < stat.size()) {
    std::vector<absl::string_view> f =
        absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
    auto field = [&f](size_t n, double* v) {
      return n - 3 < f.size() && absl::SimpleAtod(f[n - 3], v);
    };
    double utime = 0, stime = 0, threads = 0, start = 0, vsize = 0, rss = 0;
    if (field(14, &utime) && field(15, &stime)) {
      AddOne(out, "process_cpu_seconds_total", MetricType::kCounter,
             "User and system CPU time gspyd spent, in seconds.",
             (utime + stime) / ticks);
    }
    if (field(20, &threads)) {
      AddOne(out, "process_threads", MetricType::kGauge, "Threads of gspyd.",
             threads);
    }
    if (const double boot = BootTime(); boot >= 0 && field(22, &start)) {
      AddOne(out, "process_start_time_seconds", MetricType::kGauge,
             "When gspyd started, in seconds since the epoch.",
             boot + start / ticks);
    }
    if (field(23, &vsize)) {
      AddOne(out, "process_virtual_memory_bytes", MetricType::kGauge,
             "Virtual memory size of gspyd, in bytes.", vsize);
    }
    if (field(24, &rss)) {
      AddOne(out, "process_resident_memory_bytes", MetricType::kGauge,
             "Resident memory of gspyd, in bytes.", rss * page);
    }
  }
  if (const int fds = CountOpenFds(); fds >= 0) {
    AddOne(out, "process_open_fds", MetricType::kGauge,
           "Open file descriptors of gspyd (BPF maps, programs and links "
           "included).",
           fds);
  }
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    AddOne(out, "process_max_fds", MetricType::kGauge,
           "gspyd's limit of open file descriptors.",
           static_cast<double>(lim.rlim_cur));
  }
}

}  // namespace gspy
