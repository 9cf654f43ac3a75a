// gspyd: the gspy daemon. Loads the BPF programs, finds Go processes and
// serves profiles over gRPC (gspy.v1.Profiler).
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "daemon/sources/block/block_tracker.h"
#include "daemon/api/gc_service.h"
#include "daemon/sources/gc/gc_tracker.h"
#include "k8s/kube_labeler.h"
#include "k8s/pod_cache.h"
#include "k8s/pod_watcher.h"
#include "daemon/export/metrics/block_collector.h"
#include "daemon/export/metrics/bpf_stats_collector.h"
#include "daemon/export/metrics/gc_watcher.h"
#include "daemon/export/metrics/goroutine_state_collector.h"
#include "daemon/export/metrics/grpc_metrics.h"
#include "daemon/export/metrics/health_collector.h"
#include "base/metrics_registry.h"
#include "daemon/export/metrics/metrics_server.h"
#include "daemon/export/metrics/self_process_collector.h"
#include "daemon/preflight/preflight.h"
#include "golang/process/binary_cache.h"
#include "golang/process/go_process.h"
#include "daemon/export/push/push_mode.h"
#include "daemon/sources/cpu/cpu_sampler.h"
#include "daemon/api/profiler_service.h"
#include "daemon/aggregation/cpu_sessions.h"
#include "daemon/sources/sampled/sampled_tracker.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070",
          "gRPC address to serve on; port 0 picks a free port");
ABSL_FLAG(int, cpu_hz, 99, "CPU sampling frequency per CPU, in Hz");
ABSL_FLAG(absl::Duration, max_duration, absl::Minutes(5),
          "longest profile a client may ask for");
ABSL_FLAG(int, max_stacks_per_profile, 100000,
          "distinct stacks one profile keeps; further samples are counted as "
          "dropped");
ABSL_FLAG(double, block_max_parks_per_second, 50000,
          "budget of the block and sched-latency probes: above this many "
          "goroutine parks per second (all profiled processes together), new "
          "waits are recorded only part of the time and the profile is scaled "
          "(it says by how much); 0 for no limit");
ABSL_FLAG(double, block_detach_above_parks_per_second, 0,
          "trap budget of the block probes (0, the default: none): above this "
          "many parks per second (measured while attached), the probes are "
          "attached only for one --block-detach-window per period and "
          "detached in between, so the uprobe traps fall too. For long block "
          "and sched-latency pulls of park-heavy servers: waits are "
          "reweighted, waits longer than half a window are left out, and "
          "counts are those of the target while probed, extrapolated (low "
          "when the probes slow it); the profile says so. Wall pulls keep the "
          "probes attached");
ABSL_FLAG(absl::Duration, block_detach_window, absl::Seconds(1),
          "attached window of the block probes' trap duty cycle");
ABSL_FLAG(double, block_detach_min_fraction, 0.05,
          "smallest share of time the block probes stay attached");
ABSL_FLAG(double, sampled_cpu_budget, 0.01,
          "sampled block, sched-latency and wall pulls (the default; --exact "
          "on the CLI uses the uprobes): gspyd's CPU time per watched "
          "process, as a fraction of one core; sweeps of its goroutines are "
          "spaced to stay within it");
ABSL_FLAG(absl::Duration, sampled_min_interval, absl::Milliseconds(10),
          "shortest time between two sweeps of a process's goroutines");
ABSL_FLAG(absl::Duration, sampled_max_interval, absl::Seconds(1),
          "longest time between two sweeps of a process's goroutines (a "
          "process too costly for the budget is still swept this often)");
ABSL_FLAG(std::string, kube_api, "",
          "Kubernetes API server for pod metadata: a URL (https://host:port or "
          "http://...), \"none\", or empty for the in-cluster service account "
          "when KUBERNETES_SERVICE_HOST is set");
ABSL_FLAG(std::string, kube_token_file, "",
          "bearer token for --kube-api (in-cluster: the service account's)");
ABSL_FLAG(std::string, kube_ca_file, "",
          "CA bundle for --kube-api's certificate (in-cluster: the service "
          "account's)");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT to serve Prometheus metrics on (/metrics, /healthz); "
          "empty for none, port 0 picks a free port");
ABSL_FLAG(bool, metrics_gc, true,
          "with --metrics-listen, watch the GC of every Go process found and "
          "export its pauses and cycles");
ABSL_FLAG(absl::Duration, metrics_gc_rescan, absl::Seconds(5),
          "how often to look for new and exited Go processes for the metrics");
ABSL_FLAG(bool, metrics_goroutines, true,
          "with --metrics-listen, count the goroutines of every Go process by "
          "state and wait reason at each scrape (read from outside, no stop)");
ABSL_FLAG(int, metrics_goroutines_max_processes, 64,
          "most Go processes whose goroutines a scrape counts");
ABSL_FLAG(int, metrics_goroutines_max, 200000,
          "most goroutines counted per process and scrape");
ABSL_FLAG(int, metrics_gc_max_processes, 256,
          "most Go processes whose GC the metrics watch at once");
ABSL_FLAG(std::string, node_name, "",
          "this node's name, for the pod watch and the \"node\" label "
          "(default: $NODE_NAME, else the host name)");

namespace {
std::string NodeName() {
  std::string node = absl::GetFlag(FLAGS_node_name);
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
absl::StatusOr<gspy::KubeApiConfig> KubeConfigFromFlags() {
  const std::string api = absl::GetFlag(FLAGS_kube_api);
  if (api == "none") {
    return absl::FailedPreconditionError("--kube-api=none");
  }
  if (api.empty()) {
    absl::StatusOr<gspy::KubeApiConfig> c = gspy::InClusterConfig(NodeName());
    if (c.ok() && !absl::GetFlag(FLAGS_kube_token_file).empty()) {
      c->token_file = absl::GetFlag(FLAGS_kube_token_file);
    }
    if (c.ok() && !absl::GetFlag(FLAGS_kube_ca_file).empty()) {
      c->ca_file = absl::GetFlag(FLAGS_kube_ca_file);
    }
    return c;
  }
  gspy::KubeApiConfig c;
  c.server = api;
  c.token_file = absl::GetFlag(FLAGS_kube_token_file);
  c.ca_file = absl::GetFlag(FLAGS_kube_ca_file);
  c.node_name = NodeName();
  return c;
}

std::atomic<bool> g_stop{false};

// gspyd's flags are documented with dashes (--cpu-hz) as gspy's are; abseil
// names them with underscores. Accept both spellings.
std::vector<char*> DashesToUnderscores(int argc, char** argv,
                                       std::vector<std::string>* storage) {
  storage->reserve(argc);
  std::vector<char*> out;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0 && arg.rfind("--", 0) == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      for (size_t j = 2; j < end; ++j) {
        if (arg[j] == '-') arg[j] = '_';
      }
    }
    storage->push_back(std::move(arg));
    out.push_back(storage->back().data());
  }
  return out;
}

void OnSignal(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "gspyd --listen=127.0.0.1:7070: the gspy profiling daemon (run as root)");
  std::vector<std::string> arg_storage;
  std::vector<char*> args = DashesToUnderscores(argc, argv, &arg_storage);
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());

  gspy::PreflightReport preflight = gspy::RunPreflight();
  for (const std::string& w : preflight.warnings) {
    fprintf(stderr, "gspyd: warning: %s\n", w.c_str());
  }
  if (absl::Status s = preflight.ToStatus(); !s.ok()) {
    fprintf(stderr, "gspyd: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  gspy::SessionRegistry sessions;
  absl::StatusOr<std::unique_ptr<gspy::CpuSampler>> sampler =
      gspy::CpuSampler::Start(
          absl::GetFlag(FLAGS_cpu_hz),
          [&sessions](const gspy_cpu_sample& s) { sessions.Route(s); });
  if (!sampler.ok()) {
    fprintf(stderr, "gspyd: %s\n", sampler.status().ToString().c_str());
    return 1;
  }
  sessions.set_sampler(sampler->get());

  gspy::BinaryCache binaries;
  gspy::ProcessTable processes(&binaries);
  gspy::PodCache pods;
  std::unique_ptr<gspy::PodWatcher> pod_watcher;
  absl::StatusOr<gspy::KubeApiConfig> kube = KubeConfigFromFlags();
  if (kube.ok()) {
    pod_watcher = std::make_unique<gspy::PodWatcher>(*kube, &pods);
    pod_watcher->Start();
    fprintf(stderr, "gspyd: watching the pods of node %s at %s\n",
            kube->node_name.c_str(), kube->server.c_str());
  } else {
    fprintf(stderr, "gspyd: no pod metadata: %s\n",
            std::string(kube.status().message()).c_str());
  }
  // Outside Kubernetes, no "node" label: one host's profiles need none.
  gspy::KubeLabeler labeler(pod_watcher != nullptr ? &pods : nullptr,
                            pod_watcher != nullptr ? kube->node_name : "");
  processes.set_labeler(&labeler);
  gspy::ProfilerServiceOptions options;
  options.max_duration = absl::GetFlag(FLAGS_max_duration);
  options.period_ns = (*sampler)->period_ns();
  options.max_stacks_per_profile =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_stacks_per_profile));
  gspy::BlockTrackerOptions block_options;
  block_options.max_parks_per_second =
      absl::GetFlag(FLAGS_block_max_parks_per_second);
  block_options.trap.max_parks_per_second =
      absl::GetFlag(FLAGS_block_detach_above_parks_per_second);
  block_options.trap.window = absl::GetFlag(FLAGS_block_detach_window);
  block_options.trap.min_fraction =
      std::clamp(absl::GetFlag(FLAGS_block_detach_min_fraction), 0.001, 1.0);
  absl::StatusOr<std::unique_ptr<gspy::BlockTracker>> block_tracker =
      gspy::BlockTracker::Start(block_options);
  if (!block_tracker.ok()) {
    fprintf(stderr, "gspyd: %s\n", block_tracker.status().ToString().c_str());
    return 1;
  }
  gspy::ProfilerService service(options, &processes, &sessions,
                                block_tracker->get());
  gspy::SampledTrackerOptions sampled_options;
  sampled_options.budget.cpu_fraction =
      std::clamp(absl::GetFlag(FLAGS_sampled_cpu_budget), 1e-5, 1.0);
  sampled_options.budget.min_interval = std::max(
      absl::GetFlag(FLAGS_sampled_min_interval), absl::Microseconds(100));
  sampled_options.budget.max_interval =
      absl::GetFlag(FLAGS_sampled_max_interval);
  gspy::SampledTracker sampled_tracker(sampled_options);
  service.set_sampled_tracker(&sampled_tracker);

  absl::StatusOr<std::unique_ptr<gspy::GcTracker>> gc_tracker =
      gspy::GcTracker::Start();
  if (!gc_tracker.ok()) {
    fprintf(stderr, "gspyd: %s\n", gc_tracker.status().ToString().c_str());
    return 1;
  }
  gspy::GcServiceOptions gc_options;
  gc_options.max_duration = options.max_duration;
  gspy::GcService gc_service(gc_options, &processes, gc_tracker->get());
  service.set_gc_tracker(gc_tracker->get());

  // Metrics: collectors read the numbers where they live at scrape time.
  // Declared before the gRPC server, so they outlive it (and the metrics
  // server, declared after them, stops before they go).
  gspy::MetricsRegistry metrics;
  gspy::GrpcMetrics grpc_metrics;
  std::unique_ptr<gspy::BpfStatsCollector> bpf_stats;
  std::unique_ptr<gspy::GcMetricsWatcher> gc_metrics;
  std::unique_ptr<gspy::GoroutineStateCollector> goroutine_states;
  std::unique_ptr<gspy::MetricsServer> metrics_server;
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  // Continuous mode (--push-*). Stopped (its collector unregistered) before
  // the registry goes.
  absl::StatusOr<std::unique_ptr<gspy::PushMode>> push =
      gspy::PushMode::FromFlags(&processes, &sessions, &labeler,
                                options.period_ns,
                                options.max_stacks_per_profile);
  if (!push.ok()) {
    fprintf(stderr, "gspyd: %s\n",
            std::string(push.status().message()).c_str());
    return 1;
  }
  if (!metrics_listen.empty()) {
    std::string warning;
    bpf_stats = gspy::BpfStatsCollector::Create(&warning);
    if (!warning.empty()) {
      fprintf(stderr, "gspyd: warning: %s\n", warning.c_str());
    }
    gspy::GcMetricsOptions gc_metrics_options;
    gc_metrics_options.watch_gc = absl::GetFlag(FLAGS_metrics_gc);
    gc_metrics_options.rescan = absl::GetFlag(FLAGS_metrics_gc_rescan);
    gc_metrics_options.max_processes = static_cast<size_t>(
        std::max(0, absl::GetFlag(FLAGS_metrics_gc_max_processes)));
    gc_metrics = std::make_unique<gspy::GcMetricsWatcher>(
        gc_metrics_options, &processes, gc_tracker->get());
    metrics.Register("process", gspy::CollectSelfProcess);
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
    metrics.Register("gc", [w = gc_metrics.get()](gspy::MetricFamilies* out) {
      w->Collect(out);
    });
    if (absl::GetFlag(FLAGS_metrics_goroutines)) {
      gspy::GoroutineStateOptions states_options;
      states_options.max_processes = static_cast<size_t>(
          std::max(0, absl::GetFlag(FLAGS_metrics_goroutines_max_processes)));
      states_options.max_goroutines = static_cast<size_t>(
          std::max(0, absl::GetFlag(FLAGS_metrics_goroutines_max)));
      goroutine_states = std::make_unique<gspy::GoroutineStateCollector>(
          states_options, &processes);
      metrics.Register("goroutines",
                       [c = goroutine_states.get()](gspy::MetricFamilies* out) {
                         c->Collect(out);
                       });
    }
    if (*push != nullptr) (*push)->RegisterMetrics(&metrics);
    metrics.Register("block",
                     [b = block_tracker->get()](gspy::MetricFamilies* out) {
                       gspy::CollectBlock(b, out);
                     });
    absl::StatusOr<std::unique_ptr<gspy::MetricsServer>> started =
        gspy::MetricsServer::Start(metrics_listen, &metrics);
    if (!started.ok()) {
      fprintf(stderr, "gspyd: --metrics-listen: %s\n",
              std::string(started.status().message()).c_str());
      return 1;
    }
    metrics_server = *std::move(started);
    fprintf(stderr, "gspyd: metrics on http://%s:%d/metrics\n",
            metrics_listen.substr(0, metrics_listen.rfind(':')).c_str(),
            metrics_server->port());
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  if (metrics_server != nullptr) {
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        interceptors;
    interceptors.push_back(grpc_metrics.NewInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  int port = 0;
  const std::string listen = absl::GetFlag(FLAGS_listen);
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.RegisterService(&gc_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    fprintf(stderr, "gspyd: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::string host = listen.substr(0, listen.rfind(':'));
  fprintf(stderr, "gspyd: listening on %s:%d\n", host.c_str(), port);
  fflush(stderr);
  if (gc_metrics != nullptr) gc_metrics->Start();
  if (*push != nullptr) {
    (*push)->Start();
    fprintf(stderr, "gspyd: %s\n", (*push)->Describe().c_str());
    fflush(stderr);
  }

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  while (!g_stop) absl::SleepFor(absl::Milliseconds(100));
  fprintf(stderr, "gspyd: stopping\n");
  if (*push != nullptr) (*push)->Stop(absl::Seconds(5));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (metrics_server != nullptr) metrics_server->Stop();
  if (gc_metrics != nullptr) gc_metrics->Stop();
  return 0;
}
