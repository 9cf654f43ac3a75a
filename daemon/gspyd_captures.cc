#include "daemon/gspyd_captures.h"

#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "grpcpp/server_builder.h"

namespace gspy {

absl::StatusOr<std::unique_ptr<GspydCaptures>> GspydCaptures::Create(
    const CaptureOptions& options, const ProfilerServiceOptions& profiler,
    ProcessTable* processes, SessionRegistry* sessions,
    BlockTracker* block_tracker, SampledTracker* sampled, Admission* admission,
    const Redactor* redactor) {
  if (options.rules.empty()) return nullptr;
  std::unique_ptr<GspydCaptures> c(new GspydCaptures());
  std::vector<std::string> warnings;
  absl::StatusOr<std::unique_ptr<CaptureStore>> store =
      CaptureStore::Open(options.store, &warnings);
  for (const std::string& w : warnings) GSPY_LOG(WARNING) << w;
  if (!store.ok()) return store.status();
  c->store_ = *std::move(store);
  c->service_ = std::make_unique<ProfilerService>(profiler, processes, sessions,
                                                  block_tracker, admission);
  c->service_->set_sampled_tracker(sampled);
  c->service_->set_redactor(redactor);
  grpc::ServerBuilder builder;  // no port: in-process calls only
  builder.RegisterService(c->service_.get());
  c->server_ = builder.BuildAndStart();
  if (c->server_ == nullptr) {
    return absl::InternalError("captures: cannot start the in-process server");
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);  // a profile is one message
  c->evidence_ =
      std::make_unique<GrpcCaptureEvidence>(c->server_->InProcessChannel(args));
  absl::StatusOr<std::unique_ptr<RuleWatcher>> watcher = RuleWatcher::Create(
      options, processes, c->evidence_.get(), c->store_.get(), redactor);
  if (!watcher.ok()) return watcher.status();
  c->watcher_ = *std::move(watcher);
  GSPY_LOG(INFO) << "captures: " << options.rules.size() << " rule(s), "
                 << c->store_->count() << " capture(s) kept in "
                 << options.store.dir;
  return c;
}

GspydCaptures::~GspydCaptures() {
  // Not Stop(): on an early exit the registry may be gone already.
  if (watcher_ != nullptr) watcher_->Stop();
  if (server_ != nullptr) server_->Shutdown();
}

void GspydCaptures::Stop() {
  if (registry_ != nullptr) {
    registry_->Unregister(metrics_id_);
    registry_ = nullptr;
  }
  if (watcher_ != nullptr) watcher_->Stop();
  if (server_ != nullptr) {
    server_->Shutdown();
    server_ = nullptr;
  }
}

void GspydCaptures::RegisterMetrics(MetricsRegistry* registry) {
  registry_ = registry;
  metrics_id_ = registry->Register(
      "captures",
      [w = watcher_.get()](MetricFamilies* out) { w->Collect(out); });
}

}  // namespace gspy
