// gspyd: the gspy daemon. Loads the BPF programs, finds Go processes and
// serves profiles over gRPC (gspy.v1.Profiler).
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/log.h"
#include "base/metrics_registry.h"
#include "daemon/aggregation/cpu_sessions.h"
#include "daemon/aggregation/sampled_wait_totals.h"
#include "daemon/api/authorized_services.h"
#include "daemon/api/capture_service.h"
#include "daemon/api/gc_service.h"
#include "daemon/api/profiler_service.h"
#include "daemon/api/refusal_interceptor.h"
#include "daemon/api/server_transport.h"
#include "daemon/auth/request_access.h"
#include "daemon/backoff/backoff_loop.h"
#include "daemon/backoff/heap_release.h"
#include "daemon/export/metrics/backoff_collector.h"
#include "daemon/export/metrics/block_collector.h"
#include "daemon/export/metrics/books_collector.h"
#include "daemon/export/metrics/bpf_stats_collector.h"
#include "daemon/export/metrics/gc_watcher.h"
#include "daemon/export/metrics/goroutine_state_collector.h"
#include "daemon/export/metrics/grpc_metrics.h"
#include "daemon/export/metrics/health_collector.h"
#include "daemon/export/metrics/metrics_server.h"
#include "daemon/export/metrics/self_process_collector.h"
#include "daemon/export/push/push_mode.h"
#include "daemon/gspyd_captures.h"
#include "daemon/gspyd_flags.h"
#include "daemon/preflight/preflight.h"
#include "daemon/sources/block/block_tracker.h"
#include "daemon/sources/cpu/cpu_sampler.h"
#include "daemon/sources/gc/gc_tracker.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "golang/process/binary_cache.h"
#include "golang/process/go_process.h"
#include "k8s/access_review.h"
#include "k8s/kube_labeler.h"
#include "k8s/pod_cache.h"
#include "k8s/pod_watcher.h"
#include "profile/redact/keyed_hash.h"
#include "profile/redact/redactor.h"

namespace {
std::string NodeName(const gspy::KubeOptions& kube) {
  std::string node = kube.node_name;
  if (node.empty() && getenv("NODE_NAME") != nullptr) {
    node = getenv("NODE_NAME");
  }
  if (node.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) node = host;
  }
  return node;
}

// Where the pod metadata comes from, or why there is none.
// The operator's redaction (--redact-*, --drop-labels,
// --anonymize-goroutine-ids) with its key: from --anonymize-key-file, else
// generated for this run when hashing needs one.
absl::StatusOr<std::unique_ptr<gspy::Redactor>> NewRedactor(
    const gspy::GspydOptions& flags) {
  const gspy::RedactOptions& r = flags.redact;
  std::optional<gspy::KeyedHash> key;
  if (!flags.anonymize_key_file.empty()) {
    absl::StatusOr<gspy::KeyedHash> k =
        gspy::KeyedHash::FromFile(flags.anonymize_key_file);
    if (!k.ok()) {
      return absl::Status(
          k.status().code(),
          absl::StrCat("--anonymize-key-file: ", k.status().message()));
    }
    key = *std::move(k);
  } else if (r.anonymize_goroutine_ids || !r.redact_labels.empty()) {
    absl::StatusOr<gspy::KeyedHash> k = gspy::KeyedHash::Generate();
    if (!k.ok()) return k.status();
    key = *std::move(k);
    GSPY_LOG(INFO) << "no --anonymize-key-file: label hashes and goroutine "
                      "ids use a key generated for this run";
  }
  absl::StatusOr<std::unique_ptr<gspy::Redactor>> redactor =
      gspy::Redactor::Create(r, std::move(key));
  if (redactor.ok() && (*redactor)->active()) {
    GSPY_LOG(INFO) << "redaction on: every profile, dump, push and metric is "
                      "redacted";
  }
  return redactor;
}

absl::StatusOr<gspy::KubeApiConfig> KubeConfig(const gspy::KubeOptions& kube) {
  if (kube.api == "none") {
    return absl::FailedPreconditionError("--kube-api=none");
  }
  if (kube.api.empty()) {
    absl::StatusOr<gspy::KubeApiConfig> c =
        gspy::InClusterConfig(NodeName(kube));
    if (c.ok() && !kube.token_file.empty()) c->token_file = kube.token_file;
    if (c.ok() && !kube.ca_file.empty()) c->ca_file = kube.ca_file;
    return c;
  }
  gspy::KubeApiConfig c;
  c.server = kube.api;
  c.token_file = kube.token_file;
  c.ca_file = kube.ca_file;
  c.node_name = NodeName(kube);
  return c;
}

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  const gspy::GspydOptions flags = gspy::ParseGspydCommandLine(argc, argv);
  gspy::TuneAllocator();  // before any thread
  gspy::SetLogLevel(flags.log_level);

  gspy::PreflightReport preflight = gspy::RunPreflight();
  for (const std::string& w : preflight.warnings) {
    GSPY_LOG(WARNING) << w;
  }
  if (absl::Status s = preflight.ToStatus(); !s.ok()) {
    GSPY_LOG(ERROR) << s.message();
    return 1;
  }

  absl::StatusOr<std::unique_ptr<gspy::Redactor>> redactor = NewRedactor(flags);
  if (!redactor.ok()) {
    GSPY_LOG(ERROR) << redactor.status().message();
    return 1;
  }

  gspy::SessionRegistry sessions;
  absl::StatusOr<std::unique_ptr<gspy::CpuSampler>> sampler =
      gspy::CpuSampler::Start(
          flags.cpu_hz,
          [&sessions](const gspy_cpu_sample& s) { sessions.Route(s); },
          flags.cpu_ring_bytes);
  if (!sampler.ok()) {
    GSPY_LOG(ERROR) << sampler.status();
    return 1;
  }
  sessions.set_sampler(sampler->get());

  gspy::BinaryCache binaries;
  gspy::ProcessTable processes(&binaries);
  gspy::PodCache pods;
  std::unique_ptr<gspy::PodWatcher> pod_watcher;
  absl::StatusOr<gspy::KubeApiConfig> kube = KubeConfig(flags.kube);
  if (kube.ok()) {
    pod_watcher = std::make_unique<gspy::PodWatcher>(*kube, &pods);
    pod_watcher->Start();
    GSPY_LOG(INFO) << "watching the pods of node " << kube->node_name << " at "
                   << kube->server;
  } else {
    GSPY_LOG(INFO) << "no pod metadata: " << kube.status().message();
  }
  // --authn=kubernetes: callers' tokens and requests are checked with the
  // API server that the pod watch uses.
  std::unique_ptr<gspy::KubeAuth> auth;
  if (flags.authn == "kubernetes") {
    if (!kube.ok()) {
      GSPY_LOG(ERROR) << "--authn=kubernetes needs a Kubernetes API server: "
                      << kube.status().message();
      return 1;
    }
    auth = std::make_unique<gspy::KubeAuth>(
        flags.auth, std::make_unique<gspy::KubeAccessReviewer>(
                        *kube, std::vector<std::string>{}));
    GSPY_LOG(INFO) << "callers authenticated and authorized by " << kube->server
                   << " (node " << kube->node_name << ")";
  } else if (flags.authn != "none") {
    GSPY_LOG(ERROR) << "--authn=" << flags.authn
                    << ": expected none or kubernetes";
    return 1;
  }
  // Outside Kubernetes, no "node" label: one host's profiles need none.
  gspy::KubeLabeler labeler(pod_watcher != nullptr ? &pods : nullptr,
                            pod_watcher != nullptr ? kube->node_name : "");
  processes.set_labeler(&labeler);
  gspy::ProfilerServiceOptions options = flags.profiler;
  options.period_ns = (*sampler)->period_ns();
  absl::StatusOr<std::unique_ptr<gspy::BlockTracker>> block_tracker =
      gspy::BlockTracker::Start(flags.block);
  if (!block_tracker.ok()) {
    GSPY_LOG(ERROR) << block_tracker.status();
    return 1;
  }
  gspy::Admission admission(flags.admission);
  gspy::ProfilerService service(options, &processes, &sessions,
                                block_tracker->get(), &admission);
  gspy::SampledTracker sampled_tracker(flags.sampled);
  service.set_sampled_tracker(&sampled_tracker);
  // Lowers the rates of all three under load; stops before they go.
  gspy::SignalSources backoff_signals = gspy::SelfSignalSources();
  backoff_signals.psi_dir = flags.backoff_psi_dir;
  backoff_signals.ring_losses_total = [s = sampler->get(),
                                       b = block_tracker->get()] {
    return s->ReadCounters().ringbuf_full + b->counters().ringbuf_full;
  };
  gspy::BackoffLoop backoff(
      flags.backoff, std::move(backoff_signals),
      [s = sampler->get(), b = block_tracker->get(),
       t = &sampled_tracker](double scale) {
        if (absl::Status st = s->SetScale(scale); !st.ok()) {
          GSPY_LOG(WARNING) << "back-off: " << st.message();
        }
        t->SetBudgetScale(scale);
        b->SetBudgetScale(scale);
        GSPY_LOG(INFO) << "back-off: CPU sampling at "
                       << s->effective_frequency_hz() << " Hz";
      });
  service.set_redactor(redactor->get());

  absl::StatusOr<std::unique_ptr<gspy::GcTracker>> gc_tracker =
      gspy::GcTracker::Start();
  if (!gc_tracker.ok()) {
    GSPY_LOG(ERROR) << gc_tracker.status();
    return 1;
  }
  gspy::GcServiceOptions gc_options;
  gc_options.max_duration = options.max_duration;
  gspy::GcService gc_service(gc_options, &processes, gc_tracker->get(),
                             &admission);
  service.set_gc_tracker(gc_tracker->get());

  // Captures that fire on their own (--capture-rule); null without rules.
  absl::StatusOr<std::unique_ptr<gspy::GspydCaptures>> captures =
      gspy::GspydCaptures::Create(flags.capture, options, &processes, &sessions,
                                  block_tracker->get(), &sampled_tracker,
                                  &admission, redactor->get());
  if (!captures.ok()) {
    GSPY_LOG(ERROR) << captures.status().message();
    return 1;
  }
  gspy::CaptureService capture_service(
      *captures != nullptr ? (*captures)->store() : nullptr, &admission);

  // Metrics: collectors read the numbers where they live at scrape time.
  // Declared before the gRPC server, so they outlive it (and the metrics
  // server, declared after them, stops before they go).
  gspy::MetricsRegistry metrics;
  if ((*redactor)->active()) {
    metrics.set_label_rewriter(
        [r = redactor->get()](gspy::MetricLabels* labels) {
          r->RedactLabelPairs(labels);
        });
  }
  gspy::GrpcMetrics grpc_metrics;
  std::unique_ptr<gspy::BpfStatsCollector> bpf_stats;
  std::unique_ptr<gspy::GcMetricsWatcher> gc_metrics;
  std::unique_ptr<gspy::GoroutineStateCollector> goroutine_states;
  std::unique_ptr<gspy::BooksCollector> books;
  // The sampled gspy_go_block_* metrics: the waits of every Go process
  // (--metrics-sampled-waits, SampledWaitWatch), else of the processes
  // continuous mode sweeps. One feeds the totals, never both.
  gspy::SampledWaitTotals sampled_waits;
  const bool watch_waits =
      !flags.metrics_listen.empty() && flags.metrics_sampled_waits;
  std::unique_ptr<gspy::SampledWaitWatch> wait_watch;
  std::unique_ptr<gspy::MetricsServer> metrics_server;
  const std::string& metrics_listen = flags.metrics_listen;
  // Continuous mode (--push-*). Stopped (its collector unregistered) before
  // the registry goes.
  absl::StatusOr<std::unique_ptr<gspy::PushMode>> push = gspy::PushMode::Create(
      flags.push, &processes, &sessions, &labeler, options.period_ns,
      options.max_stacks_per_profile, redactor->get(), &sampled_tracker,
      watch_waits ? nullptr : &sampled_waits);
  if (!push.ok()) {
    GSPY_LOG(ERROR) << push.status().message();
    return 1;
  }
  // --capture-push: captures to the push backends too.
  std::unique_ptr<gspy::CapturePusher> capture_pusher;
  if (flags.capture.push && *captures != nullptr) {
    if (*push == nullptr) {
      GSPY_LOG(ERROR) << "--capture-push needs a backend: "
                         "--push-pyroscope-url or --push-parca-url";
      return 1;
    }
    capture_pusher = (*push)->NewCapturePusher();
    (*captures)->set_on_taken(
        [p = capture_pusher.get()](
            const gspy::GoProcess& process, const gspy::v1::CaptureInfo& info,
            const std::vector<gspy::CaptureFileData>& files) {
          p->Push(process, info, files);
        });
  }
  if (!metrics_listen.empty()) {
    std::string warning;
    bpf_stats = gspy::BpfStatsCollector::Create(&warning);
    if (!warning.empty()) {
      GSPY_LOG(WARNING) << warning;
    }
    gc_metrics = std::make_unique<gspy::GcMetricsWatcher>(
        flags.gc_metrics, &processes, gc_tracker->get());
    metrics.Register("process", gspy::CollectSelfProcess);
    metrics.Register(
        "backoff",
        [l = flags.backoff.enabled ? &backoff : nullptr, s = sampler->get()](
            gspy::MetricFamilies* out) { gspy::CollectBackoff(l, s, out); });
    metrics.Register("health", [s = sampler->get(), g = gc_tracker->get()](
                                   gspy::MetricFamilies* out) {
      gspy::CollectHealth(s, g, out);
    });
    metrics.Register("bpf", [b = bpf_stats.get()](gspy::MetricFamilies* out) {
      b->Collect(out);
    });
    metrics.Register("grpc", [m = &grpc_metrics](gspy::MetricFamilies* out) {
      m->Collect(out);
    });
    metrics.Register("admission", [a = &admission](gspy::MetricFamilies* out) {
      a->Collect(out);
    });
    metrics.Register("gc", [w = gc_metrics.get()](gspy::MetricFamilies* out) {
      w->Collect(out);
    });
    if (flags.metrics_goroutines) {
      goroutine_states = std::make_unique<gspy::GoroutineStateCollector>(
          flags.goroutine_states, &processes);
      metrics.Register("goroutines",
                       [c = goroutine_states.get()](gspy::MetricFamilies* out) {
                         c->Collect(out);
                       });
    }
    if (flags.books.runtime_metrics || flags.books.gc_series) {
      books = std::make_unique<gspy::BooksCollector>(flags.books, &processes);
      metrics.Register("books", [c = books.get()](gspy::MetricFamilies* out) {
        c->Collect(out);
      });
    }
    if (watch_waits) {
      wait_watch = std::make_unique<gspy::SampledWaitWatch>(
          flags.sampled_waits, &processes, &sampled_tracker, &sampled_waits);
      wait_watch->Start();
      metrics.Register("sampled_waits",
                       [w = wait_watch.get()](gspy::MetricFamilies* out) {
                         w->Collect(out);
                       });
    }
    if (*push != nullptr) (*push)->RegisterMetrics(&metrics);
    if (*captures != nullptr) (*captures)->RegisterMetrics(&metrics);
    metrics.Register("block", [b = block_tracker->get(),
                               w = &sampled_waits](gspy::MetricFamilies* out) {
      gspy::CollectBlock(b, out);
      gspy::CollectSampledBlock(*w, out);
    });
    absl::StatusOr<std::unique_ptr<gspy::MetricsServer>> started =
        gspy::MetricsServer::Start(
            metrics_listen, &metrics,
            auth == nullptr
                ? gspy::ScrapeAuthorizer()
                : [a = auth.get(), node = kube->node_name](
                      absl::string_view authorization) -> absl::Status {
              // As the kubelet's /metrics: get nodes/metrics.
              absl::StatusOr<gspy::k8s::UserInfo> user =
                  a->Authenticate(authorization);
              if (!user.ok()) return user.status();
              return a->Authorize(*user, gspy::NodeMetricsAccess(node));
            });
    if (!started.ok()) {
      GSPY_LOG(ERROR) << "--metrics-listen: " << started.status().message();
      return 1;
    }
    metrics_server = *std::move(started);
    // Not a log line: tests and scripts read the port from it.
    gspy::LogPlain(
        absl::StrCat("gspyd: metrics on http://",
                     metrics_listen.substr(0, metrics_listen.rfind(':')), ":",
                     metrics_server->port(), "/metrics"));
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    // gRPC's own refusals (its thread quota, below) in
    // gspy_requests_refused_total, beside gspyd's.
    interceptors.push_back(
        gspy::NewRefusalCountingInterceptorFactory(&admission));
    if (metrics_server != nullptr) {
      interceptors.push_back(grpc_metrics.NewInterceptorFactory());
    }
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  // A request is a selector and a filter: gRPC refuses larger ones before
  // any handler runs. Every call holds a thread of the synchronous server:
  // beyond the admitted pulls, a few for the quick calls (and gRPC's
  // pollers); gRPC refuses what would need more with RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(flags.admission.max_request_bytes);
  grpc::ResourceQuota quota("gspyd");
  quota.SetMaxThreads(flags.admission.max_concurrent_pulls + 16);
  builder.SetResourceQuota(quota);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tcp_credentials =
      gspy::TcpServerCredentials(flags.transport);
  if (!tcp_credentials.ok()) {
    GSPY_LOG(ERROR) << tcp_credentials.status().message();
    return 1;
  }
  struct Listener {
    std::string address;
    int port = 0;
  };
  std::vector<Listener> listeners;
  for (absl::string_view a :
       absl::StrSplit(flags.listen, ',', absl::SkipEmpty())) {
    listeners.push_back({std::string(a)});
  }
  for (Listener& l : listeners) {
    if (gspy::IsUnixSocketAddress(l.address)) {
      if (absl::Status s = gspy::PrepareUnixSocketDirectory(l.address);
          !s.ok()) {
        GSPY_LOG(ERROR) << s.message();
        return 1;
      }
      // Root only: the socket's mode; no TLS (nothing leaves the host).
      builder.AddListeningPort(l.address, grpc::InsecureServerCredentials());
    } else {
      builder.AddListeningPort(l.address, *tcp_credentials, &l.port);
    }
  }
  std::unique_ptr<gspy::AuthorizedProfiler> authorized_service;
  std::unique_ptr<gspy::AuthorizedGcPauses> authorized_gc_service;
  std::unique_ptr<gspy::AuthorizedCaptures> authorized_captures;
  if (auth != nullptr) {
    authorized_service = std::make_unique<gspy::AuthorizedProfiler>(
        &service, auth.get(), kube->node_name);
    authorized_gc_service = std::make_unique<gspy::AuthorizedGcPauses>(
        &gc_service, auth.get(), kube->node_name);
    builder.RegisterService(authorized_service.get());
    builder.RegisterService(authorized_gc_service.get());
    authorized_captures = std::make_unique<gspy::AuthorizedCaptures>(
        &capture_service, auth.get(), kube->node_name);
    builder.RegisterService(authorized_captures.get());
  } else {
    builder.RegisterService(&service);
    builder.RegisterService(&gc_service);
    builder.RegisterService(&capture_service);
  }
  std::unique_ptr<grpc::Server> server;
  {
    gspy::OwnerOnlyUmask owner_only;  // the sockets are bound in here
    server = builder.BuildAndStart();
  }
  if (server == nullptr || listeners.empty()) {
    GSPY_LOG(ERROR) << "cannot listen on " << flags.listen;
    return 1;
  }
  for (const Listener& l : listeners) {
    if (gspy::IsUnixSocketAddress(l.address)) {
      if (absl::Status s = gspy::RestrictUnixSocket(l.address); !s.ok()) {
        GSPY_LOG(ERROR) << s.message();
        return 1;
      }
      gspy::LogPlain(absl::StrCat("gspyd: listening on unix://",
                                  gspy::UnixSocketPath(l.address)));
      continue;
    }
    if (l.port == 0) {
      GSPY_LOG(ERROR) << "cannot listen on " << l.address;
      return 1;
    }
    // Not a log line: tests and scripts wait for it and read the port.
    gspy::LogPlain(absl::StrCat("gspyd: listening on ",
                                l.address.substr(0, l.address.rfind(':')), ":",
                                l.port));
  }
  if (!flags.transport.tls_cert_file.empty()) {
    GSPY_LOG(INFO) << "TCP listeners speak TLS"
                   << (flags.transport.tls_client_ca_file.empty()
                           ? ""
                           : " and require a client certificate")
                   << "; certificates read again every "
                   << flags.transport.tls_reload_interval;
  }
  if (gc_metrics != nullptr) gc_metrics->Start();
  if (*captures != nullptr) (*captures)->Start();
  if (*push != nullptr) {
    (*push)->Start();
    GSPY_LOG(INFO) << (*push)->Describe();
  }

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  // Freed heap goes back to the system every 10 s (heap_release.h).
  gspy::HeapReleaser heap_release(absl::Seconds(10));
  while (!g_stop) {
    absl::SleepFor(absl::Milliseconds(100));
    heap_release.MaybeRelease(absl::Now());
  }
  GSPY_LOG(INFO) << "stopping";
  // Captures first: one under way may still go to the push backends.
  if (*captures != nullptr) (*captures)->Stop();
  if (*push != nullptr) (*push)->Stop(absl::Seconds(5));
  if (wait_watch != nullptr) wait_watch->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (metrics_server != nullptr) metrics_server->Stop();
  if (gc_metrics != nullptr) gc_metrics->Stop();
  return 0;
}
