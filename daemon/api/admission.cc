#include "daemon/api/admission.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/auth_context.h"

namespace gspy {

absl::string_view RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kConcurrentPulls:
      return "concurrent_pulls";
    case Refusal::kClientPulls:
      return "client_concurrent_pulls";
    case Refusal::kFilterTerms:
      return "filter_terms";
    case Refusal::kFilterRegexMemory:
      return "filter_regex_memory";
    case Refusal::kPids:
      return "pids";
    case Refusal::kGoroutineDumpBytes:
      return "goroutine_dump_bytes";
    case Refusal::kServerThreads:
      return "server_threads";
    case Refusal::kCount:
      break;
  }
  return "unknown";
}

std::string ClientOf(const grpc::ServerContext& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    // The certificate's SAN (or CN): who the CA vouched for, whatever
    // address the connection comes from.
    std::vector<grpc::string_ref> ids = auth->GetPeerIdentity();
    if (!ids.empty()) {
      return absl::StrCat("identity:",
                          absl::string_view(ids[0].data(), ids[0].size()));
    }
  }
  // "ipv4:10.0.0.7:51234", "ipv6:[::1]:51234", "unix:/run/gspy/gspyd.sock"
  // (every connection of the socket is root's).
  std::string peer = context.peer();
  if (absl::StartsWith(peer, "unix:")) return "unix";
  const size_t colon = peer.rfind(':');
  const size_t kind = peer.find(':');
  if (colon != std::string::npos && colon != kind) peer.resize(colon);
  return peer;
}

Admission::PullSlot::~PullSlot() {
  if (admission_ != nullptr) admission_->Release(client_);
}

absl::StatusOr<Admission::PullSlot> Admission::AdmitPull(
    const std::string& client) {
  absl::MutexLock lock(&mu_);
  if (in_flight_ >= limits_.max_concurrent_pulls) {
    CountRefusal(Refusal::kConcurrentPulls);
    return absl::ResourceExhaustedError(absl::StrCat(
        "gspyd is serving ", in_flight_,
        " pulls, its limit (--max-concurrent-pulls=",
        limits_.max_concurrent_pulls, "): try again when one ends"));
  }
  int& mine = per_client_[client];
  if (mine >= limits_.max_concurrent_pulls_per_client) {
    CountRefusal(Refusal::kClientPulls);
    return absl::ResourceExhaustedError(absl::StrCat(
        "this client (", client, ") runs ", mine,
        " pulls, the limit per client (--max-concurrent-pulls-per-client=",
        limits_.max_concurrent_pulls_per_client, ")"));
  }
  ++mine;
  ++in_flight_;
  return PullSlot(this, client);
}

void Admission::Release(const std::string& client) {
  absl::MutexLock lock(&mu_);
  --in_flight_;
  auto it = per_client_.find(client);
  if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
}

void Admission::Collect(MetricFamilies* out) const {
  MetricFamily f("gspy_requests_refused_total", MetricType::kCounter,
                 "requests gspyd refused because they reached one of its "
                 "admission limits (reason: which one)");
  for (size_t i = 0; i < static_cast<size_t>(Refusal::kCount); ++i) {
    f.Add({{"reason", std::string(RefusalName(static_cast<Refusal>(i)))}},
          static_cast<double>(refused_[i].load(std::memory_order_relaxed)));
  }
  out->push_back(std::move(f));
}

}  // namespace gspy
