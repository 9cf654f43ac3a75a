#include "daemon/gspyd_flags.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/version.h"

// Defaults come from the option structs, so that each is written once.
namespace {
const gspy::GspydOptions& Defaults() {
  static const gspy::GspydOptions* const kDefaults = new gspy::GspydOptions();
  return *kDefaults;
}
}  // namespace

ABSL_FLAG(gspy::LogSeverity, log_level, Defaults().log_level,
          "least severity logged: debug, info, warning or error");
ABSL_FLAG(std::string, listen, Defaults().listen,
          "gRPC addresses to serve on, comma-separated: HOST:PORT (port 0 "
          "picks a free port; TLS with --tls-cert-file) or "
          "unix:///run/gspy/gspyd.sock (a socket of mode 0600 that only root "
          "can use, in a directory gspyd creates with mode 0700 if missing; "
          "no TLS)");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of gRPC over TCP; with --tls-key-file, TCP "
          "listeners accept TLS only. Read again every --tls-reload-interval: "
          "a rotated certificate applies to new connections");
ABSL_FLAG(std::string, tls_key_file, "",
          "PEM private key of --tls-cert-file (reloaded with it; replace both "
          "at once, e.g. by a symlink swap)");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "mutual TLS: PEM CA bundle that must verify each client's "
          "certificate (reloaded like the others); clients without one are "
          "refused");
ABSL_FLAG(absl::Duration, tls_reload_interval,
          Defaults().transport.tls_reload_interval,
          "how often the TLS files are read again (whole seconds)");
ABSL_FLAG(int, max_concurrent_pulls, Defaults().admission.max_concurrent_pulls,
          "pulls (profiles, goroutine dumps, GC watches) gspyd serves at once; "
          "more are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_concurrent_pulls_per_client,
          Defaults().admission.max_concurrent_pulls_per_client,
          "pulls one client (its mTLS identity, else its host; the unix "
          "socket is one client) runs at once");
ABSL_FLAG(int, max_filter_terms,
          static_cast<int>(Defaults().admission.max_filter_terms),
          "terms of one --filter; more are refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, max_filter_regex_memory,
          Defaults().admission.max_filter_regex_bytes,
          "bytes of RE2 memory one filter's patterns may use together (each "
          "gets an equal share); a pattern too large for its share is "
          "refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_pids_per_request,
          static_cast<int>(Defaults().admission.max_pids_per_request),
          "distinct pids one request may name (repeats count once); more are "
          "refused with INVALID_ARGUMENT");
ABSL_FLAG(int64_t, max_goroutine_dump_bytes,
          Defaults().admission.max_goroutine_dump_bytes,
          "bytes one goroutine dump call may build and send over all its "
          "processes (label sets shared by goroutines are held once); beyond, "
          "it fails with RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_request_bytes, Defaults().admission.max_request_bytes,
          "largest gRPC request gspyd accepts (gRPC refuses larger ones with "
          "RESOURCE_EXHAUSTED)");
ABSL_FLAG(int, cpu_hz, Defaults().cpu_hz,
          "CPU sampling frequency per CPU, in Hz");
ABSL_FLAG(int64_t, cpu_ring_bytes, Defaults().cpu_ring_bytes,
          "size of the ring buffer CPU samples go through to gspyd (a power "
          "of two, at least a page); 0 for the default 8 MiB. Samples that "
          "find it full are lost, and gspyd backs off");
ABSL_FLAG(absl::Duration, max_duration, Defaults().profiler.max_duration,
          "longest profile a client may ask for");
ABSL_FLAG(int, max_stacks_per_profile,
          static_cast<int>(Defaults().profiler.max_stacks_per_profile),
          "distinct stacks one profile keeps; further samples are counted as "
          "dropped");
ABSL_FLAG(double, block_max_parks_per_second,
          Defaults().block.max_parks_per_second,
          "budget of the block and sched-latency probes: above this many "
          "goroutine parks per second (all profiled processes together), new "
          "waits are recorded only part of the time and the profile is scaled "
          "(it says by how much); 0 for no limit");
ABSL_FLAG(double, block_detach_above_parks_per_second,
          Defaults().block.trap.max_parks_per_second,
          "trap budget of the block probes (0, the default: none): above this "
          "many parks per second (measured while attached), the probes are "
          "attached only for one --block-detach-window per period and "
          "detached in between, so the uprobe traps fall too. For long block "
          "and sched-latency pulls of park-heavy servers: waits are "
          "reweighted, waits longer than half a window are left out, and "
          "counts are those of the target while probed, extrapolated (low "
          "when the probes slow it); the profile says so. Wall pulls keep the "
          "probes attached");
ABSL_FLAG(absl::Duration, block_detach_window, Defaults().block.trap.window,
          "attached window of the block probes' trap duty cycle");
ABSL_FLAG(double, block_detach_min_fraction, Defaults().block.trap.min_fraction,
          "smallest share of time the block probes stay attached");
ABSL_FLAG(double, sampled_cpu_budget, Defaults().sampled.budget.cpu_fraction,
          "sampled block, sched-latency and wall pulls (the default; --exact "
          "on the CLI uses the uprobes): gspyd's CPU time per watched "
          "process, as a fraction of one core; sweeps of its goroutines are "
          "spaced to stay within it");
ABSL_FLAG(absl::Duration, sampled_min_interval,
          Defaults().sampled.budget.min_interval,
          "shortest time between two sweeps of a process's goroutines");
ABSL_FLAG(absl::Duration, sampled_max_interval,
          Defaults().sampled.budget.max_interval,
          "longest time between two sweeps of a process's goroutines (a "
          "process too costly for the budget is still swept this often; the "
          "default lets the budget hold up to ~1M goroutines)");
ABSL_FLAG(bool, backoff, Defaults().backoff.enabled,
          "lower the sampling rates (--cpu-hz, the sweep budget, the block "
          "recording budget) while gspyd's CPU use, its memory, ring-buffer "
          "losses or the node's pressure (PSI) are over their limits; "
          "profiles carry the rate they were taken at, /metrics shows it "
          "(gspy_effective_cpu_sampling_hz, gspy_backoff_scale, "
          "gspy_backoff_reason)");
ABSL_FLAG(double, backoff_cpu_budget, Defaults().backoff.cpu_budget_cores,
          "gspyd's own CPU use, in cores (averaged over a few seconds), above "
          "which it backs off; 0 for no limit");
ABSL_FLAG(int64_t, backoff_memory_budget,
          Defaults().backoff.memory_budget_bytes,
          "gspyd's resident memory, in bytes, above which it backs off; 0 for "
          "no limit (set it below the container's memory limit)");
ABSL_FLAG(double, backoff_psi_cpu, Defaults().backoff.psi_cpu_percent,
          "the node's CPU pressure (PSI some avg10, percent) above which "
          "gspyd backs off (e.g. 90); 0, the default, ignores it: a saturated "
          "node is when its CPU profiles matter most");
ABSL_FLAG(double, backoff_psi_memory, Defaults().backoff.psi_memory_percent,
          "the node's memory pressure (PSI some avg10, percent) above which "
          "gspyd backs off; 0 to ignore it");
ABSL_FLAG(std::string, backoff_psi_dir, Defaults().backoff_psi_dir,
          "directory of the PSI files cpu and memory (a missing file is no "
          "signal); empty for none");
ABSL_FLAG(double, backoff_min_scale, Defaults().backoff.min_scale,
          "the least share of its configured rates gspyd backs off to");
ABSL_FLAG(absl::Duration, backoff_recover_after,
          Defaults().backoff.recover_after,
          "how long every signal must stay well under its limit before the "
          "rates climb back (a step a second)");

ABSL_FLAG(std::string, kube_api, "",
          "Kubernetes API server for pod metadata: a URL (https://host:port or "
          "http://...), \"none\", or empty for the in-cluster service account "
          "when KUBERNETES_SERVICE_HOST is set");
ABSL_FLAG(std::string, kube_token_file, "",
          "bearer token for --kube-api (in-cluster: the service account's)");
ABSL_FLAG(std::string, kube_ca_file, "",
          "CA bundle for --kube-api's certificate (in-cluster: the service "
          "account's)");
ABSL_FLAG(std::string, node_name, "",
          "this node's name, for the pod watch and the \"node\" label "
          "(default: $NODE_NAME, else the host name)");
ABSL_FLAG(std::string, authn, Defaults().authn,
          "who may call the gRPC services and /metrics: none (whoever reaches "
          "the listeners: keep them on loopback) or kubernetes (a bearer "
          "token, checked with a TokenReview, each request authorized with a "
          "SubjectAccessReview: get pods/profile or nodes/profile in API group "
          "gspy.dev, get nodes/metrics for /metrics; the API server is "
          "--kube-api's, or the in-cluster one)");
ABSL_FLAG(absl::Duration, authn_cache_ttl, Defaults().auth.allowed_ttl,
          "how long an authenticated token and an allowed request are "
          "remembered (--authn=kubernetes)");
ABSL_FLAG(absl::Duration, authn_denied_cache_ttl, Defaults().auth.denied_ttl,
          "how long a rejected token and a refused request are remembered");
ABSL_FLAG(int, authn_cache_entries,
          static_cast<int>(Defaults().auth.max_entries),
          "entries of the token cache and of the decision cache, each");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT to serve Prometheus metrics on (/metrics, /healthz); "
          "empty for none, port 0 picks a free port");
ABSL_FLAG(bool, metrics_gc, Defaults().metrics_gc,
          "with --metrics-listen, export the GC cycles and pauses of every Go "
          "process found");
ABSL_FLAG(bool, metrics_gc_probes, Defaults().metrics_gc_probes,
          "with --metrics-gc, take the GC series from uprobes on each Go "
          "process's runtime (adds gspy_go_stw_pauses_total by reason) "
          "instead of reading its runtime books (no probe; pauses in Go's own "
          "histogram buckets)");
ABSL_FLAG(
    bool, metrics_books, Defaults().books.runtime_metrics,
    "with --metrics-listen, export every Go process's own runtime/metrics "
    "values (gspy_go_gc_*, gspy_go_sched_*, ...), read from its memory "
    "at each scrape (no probe, no stop)");
ABSL_FLAG(gspy::HistogramBuckets, metrics_histogram_buckets,
          Defaults().books.histogram_buckets,
          "buckets of the runtime histograms in /metrics: coarse (a subset "
          "of Go's own bounds, one per doubling: about 25 instead of 160 "
          "per time histogram; counts stay exact at each bound) or go (all "
          "of Go's bounds)");
ABSL_FLAG(int, metrics_books_max_processes,
          static_cast<int>(Defaults().books.max_processes),
          "most Go processes whose runtime books a scrape reads");
ABSL_FLAG(absl::Duration, metrics_gc_rescan, Defaults().gc_metrics.rescan,
          "how often to look for new and exited Go processes for the metrics");
ABSL_FLAG(int, metrics_gc_max_processes,
          static_cast<int>(Defaults().gc_metrics.max_processes),
          "most Go processes whose GC the metrics watch at once");
ABSL_FLAG(bool, metrics_goroutines, Defaults().metrics_goroutines,
          "with --metrics-listen, count the goroutines of every Go process by "
          "state and wait reason at each scrape (read from outside, no stop)");
ABSL_FLAG(bool, metrics_sampled_waits, Defaults().metrics_sampled_waits,
          "with --metrics-listen, keep sweeping the goroutine states of every "
          "Go process (read from outside, no probe; within the sampled "
          "source's CPU budget) for gspy_go_block_sampled_wait_seconds_total "
          "by wait reason");
ABSL_FLAG(int, metrics_sampled_waits_max_processes,
          static_cast<int>(Defaults().sampled_waits.max_processes),
          "most Go processes swept at once for the sampled wait metrics");
ABSL_FLAG(int, metrics_goroutines_max_processes,
          static_cast<int>(Defaults().goroutine_states.max_processes),
          "most Go processes whose goroutines a scrape counts");
ABSL_FLAG(int, metrics_goroutines_max,
          static_cast<int>(Defaults().goroutine_states.max_goroutines),
          "most goroutines counted per process and scrape");

ABSL_FLAG(std::string, push_pyroscope_url, "",
          "continuous mode: push profiles (--push-profiles) to this Pyroscope "
          "(push.v1.PusherService/Push): https://HOST:PORT, http://HOST:PORT "
          "(plaintext) or HOST:PORT (TLS)");
ABSL_FLAG(std::string, push_parca_url, "",
          "continuous mode: push profiles (--push-profiles) to this Parca "
          "(ProfileStoreService/WriteRaw); same forms as --push-pyroscope-url");
ABSL_FLAG(std::string, push_otlp_url, "",
          "continuous mode: push profiles (--push-profiles) to this "
          "OpenTelemetry receiver, e.g. a Collector's otlp receiver (OTLP "
          "profiles v1development, ProfilesService/Export over gRPC); same "
          "forms as --push-pyroscope-url");
ABSL_FLAG(std::vector<std::string>, push_profiles, Defaults().push.profiles,
          "continuous mode: the profile types pushed, from cpu, block "
          "(sampled waiting time), wall (running, runnable and waiting "
          "time), heap (in use, and the interval's allocations; where the "
          "binary links the memory profiler), goroutine (goroutines by "
          "stack and labels at each cut), or all. Only cpu sets probes; "
          "block and wall sweep goroutine states from outside, heap reads "
          "the runtime's own buckets, goroutine its goroutines: no trap");
ABSL_FLAG(absl::Duration, push_interval, Defaults().push.interval,
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
ABSL_FLAG(bool, push_insecure_skip_verify, Defaults().push.insecure_skip_verify,
          "do not verify the push backends' TLS certificates");
ABSL_FLAG(std::string, push_bearer_token_file, "",
          "file whose content is sent as Authorization: Bearer TOKEN with each "
          "push; read again when it changes");
ABSL_FLAG(absl::Duration, push_timeout, Defaults().push.timeout,
          "deadline of one push request");
ABSL_FLAG(int, push_queue_max_profiles, Defaults().push.queue_max_profiles,
          "profiles one backend's queue keeps while it cannot be reached; "
          "the oldest are dropped beyond (counted)");
ABSL_FLAG(int64_t, push_queue_max_bytes, Defaults().push.queue_max_bytes,
          "bytes one backend's queue keeps (see --push-queue-max-profiles)");
ABSL_FLAG(int, push_max_attempts, Defaults().push.max_attempts,
          "tries of one push request before its profiles are dropped "
          "(counted); 0: no limit");
ABSL_FLAG(absl::Duration, push_retry_initial_backoff,
          Defaults().push.retry_initial_backoff,
          "wait before the first retry; doubles each retry, with jitter");
ABSL_FLAG(absl::Duration, push_retry_max_backoff,
          Defaults().push.retry_max_backoff, "longest wait between retries");
ABSL_FLAG(std::string, redact_functions, "",
          "RE2 pattern (unanchored): frames of matching functions become "
          "[redacted], file and line cleared, in everything gspyd sends "
          "(pulls, dumps, push); stacks and sample counts are unchanged");
ABSL_FLAG(std::string, redact_files, "",
          "RE2 pattern (unanchored) on source file paths: frames in matching "
          "files are redacted as with --redact-functions");
ABSL_FLAG(std::vector<std::string>, redact_labels, {},
          "label keys (pprof labels, pod metadata, push series) whose values "
          "are replaced by \"redacted:\" and a keyed hash (HMAC-SHA256 under "
          "the --anonymize-key-file key): equal values stay equal");
ABSL_FLAG(std::vector<std::string>, drop_labels, {},
          "label keys removed from everything gspyd sends");
ABSL_FLAG(bool, anonymize_goroutine_ids, false,
          "replace every goroutine id (goid, parent goid, the goid label of "
          "profiles) by HMAC-SHA256 under the --anonymize-key-file key, "
          "truncated to 63 bits: stable while the key is, irreversible "
          "without it");
ABSL_FLAG(std::string, anonymize_key_file, "",
          "file holding the secret key (at least 16 bytes) of "
          "--redact-labels and --anonymize-goroutine-ids; empty: a random key "
          "generated at start, so hashes change when gspyd restarts");
ABSL_FLAG(std::string, capture_rule, "",
          "a rule that takes a capture when it holds for a process, e.g. "
          "'gc_pause>5ms', 'goroutines>50000;exe=/srv/api', "
          "'goroutine_growth>100/s;pod=shop/checkout-1', "
          "'sched_latency_p99>10ms;namespace=shop;selector=app=web', "
          "'cpu>80%' (percent of one CPU); give it once per rule. A capture "
          "is a goroutine dump, the runtime books and a CPU and a wall "
          "profile of the next --capture-duration, in --capture-dir");
ABSL_FLAG(std::string, capture_dir, gspy::CaptureStoreOptions().dir,
          "where captures are kept (created with mode 0700); they survive "
          "a restart");
ABSL_FLAG(int, capture_max_count, gspy::CaptureStoreOptions().max_count,
          "captures kept; the oldest are removed beyond");
ABSL_FLAG(int64_t, capture_max_bytes, gspy::CaptureStoreOptions().max_bytes,
          "bytes of captures kept; the oldest are removed beyond");
ABSL_FLAG(absl::Duration, capture_interval, Defaults().capture.interval,
          "how often the rules look at the processes they select (from "
          "outside: no probe, no stop)");
ABSL_FLAG(absl::Duration, capture_cooldown, Defaults().capture.cooldown,
          "no second capture of one rule and process within this");
ABSL_FLAG(absl::Duration, capture_duration, Defaults().capture.profile_duration,
          "length of a capture's CPU and wall profiles");
ABSL_FLAG(bool, capture_push, Defaults().capture.push,
          "also push each capture (its CPU and wall profiles and goroutine "
          "dump) to the --push-* backends, labelled gspy_capture_rule and "
          "gspy_capture_id; needs --push-pyroscope-url or --push-parca-url");
ABSL_FLAG(int, capture_max_in_flight, Defaults().capture.max_in_flight,
          "captures taken at once; a rule that holds beyond is counted as "
          "dropped");

namespace gspy {
namespace {

size_t NonNegative(int v) { return static_cast<size_t>(std::max(0, v)); }

}  // namespace

GspydOptions GspydOptionsFromFlags() {
  GspydOptions o;
  o.log_level = absl::GetFlag(FLAGS_log_level);
  o.listen = absl::GetFlag(FLAGS_listen);
  o.transport.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  o.transport.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  o.transport.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  o.transport.tls_reload_interval =
      std::max(absl::GetFlag(FLAGS_tls_reload_interval), absl::Seconds(1));
  AdmissionLimits& a = o.admission;
  a.max_concurrent_pulls =
      std::max(1, absl::GetFlag(FLAGS_max_concurrent_pulls));
  a.max_concurrent_pulls_per_client =
      std::max(1, absl::GetFlag(FLAGS_max_concurrent_pulls_per_client));
  a.max_filter_terms = NonNegative(absl::GetFlag(FLAGS_max_filter_terms));
  a.max_filter_regex_bytes =
      std::max<int64_t>(0, absl::GetFlag(FLAGS_max_filter_regex_memory));
  a.max_pids_per_request =
      NonNegative(absl::GetFlag(FLAGS_max_pids_per_request));
  a.max_goroutine_dump_bytes =
      std::max<int64_t>(0, absl::GetFlag(FLAGS_max_goroutine_dump_bytes));
  a.max_request_bytes = std::max(1024, absl::GetFlag(FLAGS_max_request_bytes));
  o.cpu_hz = absl::GetFlag(FLAGS_cpu_hz);
  o.cpu_ring_bytes = static_cast<uint32_t>(std::clamp<int64_t>(
      absl::GetFlag(FLAGS_cpu_ring_bytes), 0, int64_t{1} << 30));
  o.profiler.max_duration = absl::GetFlag(FLAGS_max_duration);
  o.profiler.max_stacks_per_profile =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_stacks_per_profile));

  o.block.max_parks_per_second =
      absl::GetFlag(FLAGS_block_max_parks_per_second);
  o.block.trap.max_parks_per_second =
      absl::GetFlag(FLAGS_block_detach_above_parks_per_second);
  o.block.trap.window = absl::GetFlag(FLAGS_block_detach_window);
  o.block.trap.min_fraction =
      std::clamp(absl::GetFlag(FLAGS_block_detach_min_fraction), 0.001, 1.0);

  o.sampled.budget.cpu_fraction =
      std::clamp(absl::GetFlag(FLAGS_sampled_cpu_budget), 1e-5, 1.0);
  o.sampled.budget.min_interval = std::max(
      absl::GetFlag(FLAGS_sampled_min_interval), absl::Microseconds(100));
  o.sampled.budget.max_interval = std::max(
      absl::GetFlag(FLAGS_sampled_max_interval), o.sampled.budget.min_interval);

  o.backoff.enabled = absl::GetFlag(FLAGS_backoff);
  o.backoff.cpu_budget_cores =
      std::max(0.0, absl::GetFlag(FLAGS_backoff_cpu_budget));
  o.backoff.memory_budget_bytes =
      std::max<int64_t>(0, absl::GetFlag(FLAGS_backoff_memory_budget));
  o.backoff.psi_cpu_percent =
      std::max(0.0, absl::GetFlag(FLAGS_backoff_psi_cpu));
  o.backoff.psi_memory_percent =
      std::max(0.0, absl::GetFlag(FLAGS_backoff_psi_memory));
  o.backoff_psi_dir = absl::GetFlag(FLAGS_backoff_psi_dir);
  o.backoff.min_scale =
      std::clamp(absl::GetFlag(FLAGS_backoff_min_scale), 0.001, 1.0);
  o.backoff.recover_after = std::max(absl::GetFlag(FLAGS_backoff_recover_after),
                                     absl::ZeroDuration());

  o.kube.api = absl::GetFlag(FLAGS_kube_api);
  o.kube.token_file = absl::GetFlag(FLAGS_kube_token_file);
  o.kube.ca_file = absl::GetFlag(FLAGS_kube_ca_file);
  o.kube.node_name = absl::GetFlag(FLAGS_node_name);

  o.authn = absl::GetFlag(FLAGS_authn);
  o.auth.allowed_ttl = absl::GetFlag(FLAGS_authn_cache_ttl);
  o.auth.denied_ttl = absl::GetFlag(FLAGS_authn_denied_cache_ttl);
  o.auth.max_entries = NonNegative(absl::GetFlag(FLAGS_authn_cache_entries));

  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.metrics_gc = absl::GetFlag(FLAGS_metrics_gc);
  o.metrics_gc_probes = absl::GetFlag(FLAGS_metrics_gc_probes);
  o.gc_metrics.watch_gc = o.metrics_gc && o.metrics_gc_probes;
  o.books.gc_series = o.metrics_gc && !o.metrics_gc_probes;
  o.books.runtime_metrics = absl::GetFlag(FLAGS_metrics_books);
  o.books.histogram_buckets = absl::GetFlag(FLAGS_metrics_histogram_buckets);
  o.books.max_processes =
      NonNegative(absl::GetFlag(FLAGS_metrics_books_max_processes));
  o.gc_metrics.rescan = absl::GetFlag(FLAGS_metrics_gc_rescan);
  o.gc_metrics.max_processes =
      NonNegative(absl::GetFlag(FLAGS_metrics_gc_max_processes));
  o.metrics_goroutines = absl::GetFlag(FLAGS_metrics_goroutines);
  o.metrics_sampled_waits = absl::GetFlag(FLAGS_metrics_sampled_waits);
  o.sampled_waits.max_processes =
      NonNegative(absl::GetFlag(FLAGS_metrics_sampled_waits_max_processes));
  o.goroutine_states.max_processes =
      NonNegative(absl::GetFlag(FLAGS_metrics_goroutines_max_processes));
  o.goroutine_states.max_goroutines =
      NonNegative(absl::GetFlag(FLAGS_metrics_goroutines_max));

  PushOptions& p = o.push;
  p.pyroscope_url = absl::GetFlag(FLAGS_push_pyroscope_url);
  p.parca_url = absl::GetFlag(FLAGS_push_parca_url);
  p.otlp_url = absl::GetFlag(FLAGS_push_otlp_url);
  p.interval = absl::GetFlag(FLAGS_push_interval);
  p.profiles = absl::GetFlag(FLAGS_push_profiles);
  p.exe = absl::GetFlag(FLAGS_push_exe);
  p.namespace_ = absl::GetFlag(FLAGS_push_namespace);
  p.selector = absl::GetFlag(FLAGS_push_selector);
  p.service_name = absl::GetFlag(FLAGS_push_service_name);
  p.labels = absl::GetFlag(FLAGS_push_labels);
  p.tls_ca_file = absl::GetFlag(FLAGS_push_tls_ca_file);
  p.insecure_skip_verify = absl::GetFlag(FLAGS_push_insecure_skip_verify);
  p.bearer_token_file = absl::GetFlag(FLAGS_push_bearer_token_file);
  p.timeout = absl::GetFlag(FLAGS_push_timeout);
  p.queue_max_profiles = absl::GetFlag(FLAGS_push_queue_max_profiles);
  p.queue_max_bytes = absl::GetFlag(FLAGS_push_queue_max_bytes);
  p.max_attempts = absl::GetFlag(FLAGS_push_max_attempts);
  p.retry_initial_backoff = absl::GetFlag(FLAGS_push_retry_initial_backoff);
  p.retry_max_backoff = absl::GetFlag(FLAGS_push_retry_max_backoff);

  o.redact.functions = absl::GetFlag(FLAGS_redact_functions);
  o.redact.files = absl::GetFlag(FLAGS_redact_files);
  o.redact.redact_labels = absl::GetFlag(FLAGS_redact_labels);
  o.redact.drop_labels = absl::GetFlag(FLAGS_drop_labels);
  o.redact.anonymize_goroutine_ids =
      absl::GetFlag(FLAGS_anonymize_goroutine_ids);
  o.anonymize_key_file = absl::GetFlag(FLAGS_anonymize_key_file);

  // Repeated --capture-rule flags arrive joined by newlines (see
  // GatherRepeatedFlag).
  o.capture.rules = absl::StrSplit(absl::GetFlag(FLAGS_capture_rule), '\n',
                                   absl::SkipEmpty());
  o.capture.store.dir = absl::GetFlag(FLAGS_capture_dir);
  o.capture.store.max_count = absl::GetFlag(FLAGS_capture_max_count);
  o.capture.store.max_bytes = absl::GetFlag(FLAGS_capture_max_bytes);
  o.capture.interval = absl::GetFlag(FLAGS_capture_interval);
  o.capture.cooldown = absl::GetFlag(FLAGS_capture_cooldown);
  o.capture.profile_duration = absl::GetFlag(FLAGS_capture_duration);
  o.capture.max_in_flight = absl::GetFlag(FLAGS_capture_max_in_flight);
  o.capture.push = absl::GetFlag(FLAGS_capture_push);
  return o;
}

std::vector<std::string> DashesToUnderscores(int argc, char** argv) {
  std::vector<std::string> out;
  out.reserve(argc);
  bool flags_ended = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      flags_ended = true;
    } else if (i > 0 && !flags_ended && arg.rfind("--", 0) == 0) {
      const size_t end = std::min(arg.find('='), arg.size());
      for (size_t j = 2; j < end; ++j) {
        if (arg[j] == '-') arg[j] = '_';
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

std::vector<std::string> GatherRepeatedFlag(std::vector<std::string> args,
                                            const std::string& name) {
  const std::string flag = absl::StrCat("--", name);
  std::vector<std::string> out;
  std::vector<std::string> values;
  size_t first = std::string::npos;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") flags_ended = true;
    std::string value;
    if (!flags_ended && absl::StartsWith(a, flag + "=")) {
      value = a.substr(flag.size() + 1);
    } else if (!flags_ended && a == flag && i + 1 < args.size()) {
      value = args[++i];
    } else {
      out.push_back(a);
      continue;
    }
    if (first == std::string::npos) {
      first = out.size();
      out.emplace_back();
    }
    values.push_back(std::move(value));
  }
  if (first != std::string::npos) {
    out[first] = absl::StrCat(flag, "=", absl::StrJoin(values, "\n"));
  }
  return out;
}

GspydOptions ParseGspydCommandLine(int argc, char** argv) {
  // absl's --help lists the flags of the file named like the program
  // (gspyd.cc, gspyd_main.cc); gspyd's are all here.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "daemon/gspyd_flags.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  usage.version_string = [] {
    return absl::StrCat("gspyd ", kGspyVersion, "\n");
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "gspyd --listen=127.0.0.1:7070: the gspy profiling daemon (run as "
      "root)");
  std::vector<std::string> storage =
      GatherRepeatedFlag(DashesToUnderscores(argc, argv), "capture_rule");
  std::vector<char*> args;
  args.reserve(storage.size());
  for (std::string& a : storage) args.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  return GspydOptionsFromFlags();
}

}  // namespace gspy
