// Admission control: what one client, or all of them together, may ask of
// gspyd at once. gspyd runs as root on every node and serves anyone allowed
// to reach it, so no request may cost it unbounded threads or memory. Every
// limit is refused with a status that names it (the flag to raise) and
// counted in gspy_requests_refused_total{reason}.
#ifndef GSPY_DAEMON_API_ADMISSION_H_
#define GSPY_DAEMON_API_ADMISSION_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/metrics_registry.h"
#include "grpcpp/server_context.h"

namespace gspy {

// The defaults are documented in gspyd's --help (gspyd_flags.cc) and the
// README's security section.
struct AdmissionLimits {
  // Pulls are the RPCs that run for a while and hold a thread each:
  // GetProfile, GetGoroutines, WatchGcPauses.
  int max_concurrent_pulls = 64;
  int max_concurrent_pulls_per_client = 16;
  // Terms of one filter, and the RE2 memory of all its patterns together
  // (each pattern gets an equal share as its RE2 max_mem).
  size_t max_filter_terms = 64;
  int64_t max_filter_regex_bytes = int64_t{16} << 20;
  // Distinct pids one selector names.
  size_t max_pids_per_request = 1024;
  // Bytes one GetGoroutines call may build and send, over all its processes.
  int64_t max_goroutine_dump_bytes = int64_t{256} << 20;
  // gRPC's receive limit: a request larger than this is refused by gRPC
  // itself with RESOURCE_EXHAUSTED. Requests are selectors and filters.
  int max_request_bytes = 1 << 20;
};

// Why a request was refused: the "reason" label of the counter.
enum class Refusal {
  kConcurrentPulls,  // max_concurrent_pulls
  kClientPulls,      // max_concurrent_pulls_per_client
  kFilterTerms,
  kFilterRegexMemory,
  kPids,
  kGoroutineDumpBytes,
  // gRPC's own refusals (refusal_interceptor.h).
  kServerThreads,  // the synchronous server's ResourceQuota threads
  kCount,
};
absl::string_view RefusalName(Refusal r);

// Who a request comes from, for the per-client limit: the authenticated
// identity (mTLS: the certificate's SAN or CN) when there is one, else the
// peer's address without its port (one host's connections are one client),
// "unix" for the unix socket.
std::string ClientOf(const grpc::ServerContext& context);

class Admission {
 public:
  explicit Admission(AdmissionLimits limits) : limits_(limits) {}
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  const AdmissionLimits& limits() const { return limits_; }

  // A pull's place, held while it runs; released when destroyed.
  class PullSlot {
   public:
    PullSlot(PullSlot&& o) noexcept
        : admission_(o.admission_), client_(std::move(o.client_)) {
      o.admission_ = nullptr;
    }
    PullSlot& operator=(PullSlot&&) = delete;
    ~PullSlot();

   private:
    friend class Admission;
    PullSlot(Admission* a, std::string client)
        : admission_(a), client_(std::move(client)) {}
    Admission* admission_;
    std::string client_;
  };

  // RESOURCE_EXHAUSTED naming the limit when the pulls running now, of all
  // clients or of `client`, are at it (counted).
  absl::StatusOr<PullSlot> AdmitPull(const std::string& client);

  // Counts a refusal decided elsewhere (a filter, a selector, a dump).
  void CountRefusal(Refusal r) {
    refused_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t refused(Refusal r) const {
    return refused_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }

  // gspy_requests_refused_total{reason} (every reason, zeros included) and
  // gspy_pulls_in_flight.
  void Collect(MetricFamilies* out) const;

 private:
  void Release(const std::string& client);

  const AdmissionLimits limits_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> per_client_ ABSL_GUARDED_BY(mu_);
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Refusal::kCount)>
      refused_{};
};

}  // namespace gspy

#endif  // GSPY_DAEMON_API_ADMISSION_H_
