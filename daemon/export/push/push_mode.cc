#include "daemon/export/push/push_mode.h"

#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/export/push/exporter.h"
#include "daemon/export/push/push_metrics.h"

ABSL_FLAG(std::string, push_pyroscope_url, "",
          "continuous mode: push CPU profiles to this Pyroscope "
          "(push.v1.PusherService/Push): https://HOST:PORT, http://HOST:PORT "
          "(plaintext) or HOST:PORT (TLS)");
ABSL_FLAG(std::string, push_parca_url, "",
          "continuous mode: push CPU profiles to this Parca "
          "(ProfileStoreService/WriteRaw); same forms as --push-pyroscope-url");
ABSL_FLAG(absl::Duration, push_interval, absl::Seconds(15),
          "continuous mode: one profile per process per interval");
ABSL_FLAG(std::vector<std::string>, push_exe, {},
          "continuous mode: profile only processes of these executables "
          "(comma-separated paths); default every Go process");
ABSL_FLAG(std::string, push_namespace, "",
          "continuous mode: profile only processes of pods of this namespace");
ABSL_FLAG(std::string, push_selector, "",
          "continuous mode: only pods matching this label selector "
          "(app=checkout,tier!=batch)");
ABSL_FLAG(std::string, push_service_name, "",
          "continuous mode: the service_name label of every profile (default: "
          "the process's Go module path, else its executable's name)");
ABSL_FLAG(std::vector<std::string>, push_labels, {},
          "continuous mode: labels added to every profile, k=v,k2=v2");
ABSL_FLAG(std::string, push_tls_ca_file, "",
          "CA bundle for the push backends' certificates (default: the "
          "system's roots)");
ABSL_FLAG(bool, push_insecure_skip_verify, false,
          "do not verify the push backends' TLS certificates");
ABSL_FLAG(std::string, push_bearer_token_file, "",
          "file whose content is sent as Authorization: Bearer TOKEN with each "
          "push; read again when it changes");
ABSL_FLAG(absl::Duration, push_timeout, absl::Seconds(10),
          "deadline of one push request");
ABSL_FLAG(int, push_queue_max_profiles, 1000,
          "profiles one backend's queue keeps while it cannot be reached; "
          "the oldest are dropped beyond (counted)");
ABSL_FLAG(int64_t, push_queue_max_bytes, 64 << 20,
          "bytes one backend's queue keeps (see --push-queue-max-profiles)");
ABSL_FLAG(int, push_max_attempts, 8,
          "tries of one push request before its profiles are dropped "
          "(counted); 0: no limit");
ABSL_FLAG(absl::Duration, push_retry_initial_backoff, absl::Seconds(1),
          "wait before the first retry; doubles each retry, with jitter");
ABSL_FLAG(absl::Duration, push_retry_max_backoff, absl::Seconds(30),
          "longest wait between retries");

namespace gspy {

absl::StatusOr<std::unique_ptr<PushMode>> PushMode::FromFlags(
    const ProcessTable* processes, SessionRegistry* sessions,
    const ProcessLabeler* labeler, int64_t period_ns, size_t max_stacks) {
  const std::string pyroscope = absl::GetFlag(FLAGS_push_pyroscope_url);
  const std::string parca = absl::GetFlag(FLAGS_push_parca_url);
  if (pyroscope.empty() && parca.empty()) return nullptr;

  ContinuousOptions options;
  options.interval = absl::GetFlag(FLAGS_push_interval);
  if (options.interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--push-interval must be at least 1s");
  }
  options.rescan = std::min(absl::Seconds(5), options.interval);
  options.period_ns = period_ns;
  options.max_stacks = max_stacks;
  gspy::v1::Selector selector;
  for (const std::string& exe : absl::GetFlag(FLAGS_push_exe)) {
    if (!exe.empty()) selector.add_exe_paths(exe);
  }
  selector.set_namespace_(absl::GetFlag(FLAGS_push_namespace));
  selector.set_pod_label_selector(absl::GetFlag(FLAGS_push_selector));
  absl::StatusOr<TargetSelector> parsed = TargetSelector::Parse(selector);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--push-namespace/--push-selector: ", parsed.status().message()));
  }
  options.selector = *std::move(parsed);
  options.labels.service_name = absl::GetFlag(FLAGS_push_service_name);
  for (const std::string& kv : absl::GetFlag(FLAGS_push_labels)) {
    if (kv.empty()) continue;
    std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first.empty() || kv.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--push-labels: want k=v, got \"", kv, "\""));
    }
    options.labels.static_labels.push_back(std::move(p));
  }

  PushSenderOptions sender_options;
  sender_options.queue.max_profiles =
      static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_push_queue_max_profiles)));
  sender_options.queue.max_bytes = static_cast<size_t>(
      std::max<int64_t>(1, absl::GetFlag(FLAGS_push_queue_max_bytes)));
  sender_options.max_attempts = std::max(0, absl::GetFlag(FLAGS_push_max_attempts));
  sender_options.timeout = absl::GetFlag(FLAGS_push_timeout);
  sender_options.backoff.initial = absl::GetFlag(FLAGS_push_retry_initial_backoff);
  sender_options.backoff.max = absl::GetFlag(FLAGS_push_retry_max_backoff);
  if (sender_options.timeout <= absl::ZeroDuration() ||
      sender_options.backoff.initial <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--push-timeout and --push-retry-initial-backoff must be positive");
  }

  EndpointOptions endpoint;
  endpoint.tls_ca_file = absl::GetFlag(FLAGS_push_tls_ca_file);
  endpoint.insecure_skip_verify = absl::GetFlag(FLAGS_push_insecure_skip_verify);
  endpoint.bearer_token_file = absl::GetFlag(FLAGS_push_bearer_token_file);

  std::unique_ptr<PushMode> mode(new PushMode());
  std::vector<std::string> to;
  if (!pyroscope.empty()) {
    endpoint.url = pyroscope;
    absl::StatusOr<std::unique_ptr<ProfileExporter>> e =
        NewPyroscopeExporter(endpoint);
    if (!e.ok()) return e.status();
    mode->senders_.push_back(
        std::make_unique<PushSender>(*std::move(e), sender_options));
    to.push_back(absl::StrCat("Pyroscope at ", pyroscope));
  }
  if (!parca.empty()) {
    endpoint.url = parca;
    absl::StatusOr<std::unique_ptr<ProfileExporter>> e =
        NewParcaExporter(endpoint);
    if (!e.ok()) return e.status();
    mode->senders_.push_back(
        std::make_unique<PushSender>(*std::move(e), sender_options));
    to.push_back(absl::StrCat("Parca at ", parca));
  }
  std::vector<PushSender*> senders;
  for (auto& s : mode->senders_) senders.push_back(s.get());
  const std::string what =
      options.selector.all() ? "every Go process"
          : "the selected Go processes";
  mode->description_ =
      absl::StrCat("pushing CPU profiles of ", what, " every ",
                   absl::FormatDuration(options.interval), " to ",
                   absl::StrJoin(to, " and "));
  mode->profiler_ = std::make_unique<ContinuousProfiler>(
      std::move(options), processes, sessions, labeler, std::move(senders));
  return mode;
}

PushMode::~PushMode() { Stop(absl::ZeroDuration()); }

void PushMode::Start() {
  for (auto& s : senders_) s->Start();
  profiler_->Start();
}

void PushMode::Stop(absl::Duration drain) {
  profiler_->Stop();
  for (auto& s : senders_) s->Stop(drain);
  if (registry_ != nullptr) {
    registry_->Unregister(metrics_id_);
    registry_ = nullptr;
  }
}

void PushMode::RegisterMetrics(MetricsRegistry* registry) {
  registry_ = registry;
  metrics_id_ = registry->Register("push", [this](MetricFamilies* out) {
    AppendPushFamilies(sender_stats(), profiler_->stats(), out);
  });
}

std::string PushMode::Describe() const { return description_; }

std::vector<PushSenderStats> PushMode::sender_stats() const {
  std::vector<PushSenderStats> out;
  for (const auto& s : senders_) out.push_back(s->stats());
  return out;
}

}  // namespace gspy
