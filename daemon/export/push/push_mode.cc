#include "daemon/export/push/push_mode.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/export/push/exporter.h"
#include "daemon/export/push/push_metrics.h"

namespace gspy {

absl::StatusOr<std::unique_ptr<PushMode>> PushMode::Create(
    const PushOptions& push, const ProcessTable* processes,
    SessionRegistry* sessions, const ProcessLabeler* labeler, int64_t period_ns,
    size_t max_stacks, const Redactor* redactor, SampledTracker* sampled,
    SampledWaitTotals* wait_totals) {
  const std::string& pyroscope = push.pyroscope_url;
  const std::string& parca = push.parca_url;
  const std::string& otlp = push.otlp_url;
  if (pyroscope.empty() && parca.empty() && otlp.empty()) return nullptr;

  ContinuousOptions options;
  options.interval = push.interval;
  if (options.interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--push-interval must be at least 1s");
  }
  options.rescan = std::min(absl::Seconds(5), options.interval);
  options.period_ns = period_ns;
  options.max_stacks = max_stacks;
  options.redactor = redactor;
  absl::StatusOr<PushTypes> types = ParsePushTypes(push.profiles);
  if (!types.ok()) return types.status();
  if (types->sampled() && sampled == nullptr) {
    return absl::InvalidArgumentError(
        "--push-profiles: block and wall need the sampled goroutine source");
  }
  options.types = *types;
  options.sampled = sampled;
  options.wait_totals = wait_totals;
  gspy::v1::Selector selector;
  for (const std::string& exe : push.exe) {
    if (!exe.empty()) selector.add_exe_paths(exe);
  }
  selector.set_namespace_(push.namespace_);
  selector.set_pod_label_selector(push.selector);
  absl::StatusOr<TargetSelector> parsed = TargetSelector::Parse(selector);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--push-namespace/--push-selector: ", parsed.status().message()));
  }
  options.selector = *std::move(parsed);
  options.labels.service_name = push.service_name;
  for (const std::string& kv : push.labels) {
    if (kv.empty()) continue;
    std::pair<std::string, std::string> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    if (p.first.empty() || kv.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--push-labels: want k=v, got \"", kv, "\""));
    }
    options.labels.static_labels.push_back(std::move(p));
  }

  PushSenderOptions sender_options;
  sender_options.queue.max_profiles =
      static_cast<size_t>(std::max(1, push.queue_max_profiles));
  sender_options.queue.max_bytes =
      static_cast<size_t>(std::max<int64_t>(1, push.queue_max_bytes));
  sender_options.max_attempts = std::max(0, push.max_attempts);
  sender_options.timeout = push.timeout;
  sender_options.backoff.initial = push.retry_initial_backoff;
  sender_options.backoff.max = push.retry_max_backoff;
  if (sender_options.timeout <= absl::ZeroDuration() ||
      sender_options.backoff.initial <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--push-timeout and --push-retry-initial-backoff must be positive");
  }

  EndpointOptions endpoint;
  endpoint.tls_ca_file = push.tls_ca_file;
  endpoint.insecure_skip_verify = push.insecure_skip_verify;
  endpoint.bearer_token_file = push.bearer_token_file;

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
  if (!otlp.empty()) {
    endpoint.url = otlp;
    absl::StatusOr<std::unique_ptr<ProfileExporter>> e =
        NewOtlpExporter(endpoint);
    if (!e.ok()) return e.status();
    mode->senders_.push_back(
        std::make_unique<PushSender>(*std::move(e), sender_options));
    to.push_back(absl::StrCat("OTLP at ", otlp));
  }
  std::vector<PushSender*> senders;
  for (auto& s : mode->senders_) senders.push_back(s.get());
  const std::string what =
      options.selector.all() ? "every Go process" : "the selected Go processes";
  mode->description_ =
      absl::StrCat("pushing profiles (", options.types.ToString(), ") of ",
                   what, " every ", absl::FormatDuration(options.interval),
                   " to ", absl::StrJoin(to, " and "));
  mode->labels_ = options.labels;
  mode->redactor_ = redactor;
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

std::unique_ptr<CapturePusher> PushMode::NewCapturePusher() const {
  std::vector<PushSender*> senders;
  for (const auto& s : senders_) senders.push_back(s.get());
  return std::make_unique<CapturePusher>(std::move(senders), labels_,
                                         redactor_);
}

std::vector<PushSenderStats> PushMode::sender_stats() const {
  std::vector<PushSenderStats> out;
  for (const auto& s : senders_) out.push_back(s->stats());
  return out;
}

}  // namespace gspy
