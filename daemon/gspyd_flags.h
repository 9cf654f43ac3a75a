// gspyd's command line. Every flag of gspyd is defined in gspyd_flags.cc;
// ParseGspydCommandLine turns them into the plain option structs the
// components take, so that no component reads a flag.
#ifndef GSPY_DAEMON_GSPYD_FLAGS_H_
#define GSPY_DAEMON_GSPYD_FLAGS_H_

#include <string>
#include <vector>

#include "base/log.h"
#include "daemon/api/admission.h"
#include "daemon/api/profiler_service.h"
#include "daemon/api/server_transport.h"
#include "daemon/auth/kube_auth.h"
#include "daemon/backoff/backoff_governor.h"
#include "daemon/capture/rule_watcher.h"
#include "daemon/export/metrics/books_collector.h"
#include "daemon/export/metrics/gc_watcher.h"
#include "daemon/export/metrics/goroutine_state_collector.h"
#include "daemon/export/metrics/sampled_wait_watch.h"
#include "daemon/export/push/push_mode.h"
#include "daemon/sources/block/block_tracker.h"
#include "daemon/sources/sampled/sampled_tracker.h"
#include "profile/redact/redactor.h"

namespace gspy {

// Where pod metadata comes from, as given (gspyd_main resolves it).
struct KubeOptions {
  // A URL, "none", or empty for the in-cluster service account.
  std::string api;
  std::string token_file;
  std::string ca_file;
  // Empty: $NODE_NAME, else the host name.
  std::string node_name;
};

struct GspydOptions {
  LogSeverity log_level = LogSeverity::kInfo;
  // Comma-separated: HOST:PORT (TLS with transport's files) and
  // unix:///PATH (root only, no TLS).
  std::string listen = "127.0.0.1:7070";
  TransportOptions transport;
  AdmissionLimits admission;
  int cpu_hz = 99;
  // The CPU sample ring's bytes; 0: the BPF program's own (CpuSampler).
  uint32_t cpu_ring_bytes = 0;
  // period_ns is the sampler's, known once it runs.
  ProfilerServiceOptions profiler;
  BlockTrackerOptions block;
  SampledTrackerOptions sampled;
  // Dynamic back-off of the sampling rates (daemon/backoff), and where the
  // node's PSI files are read ("": none).
  BackoffOptions backoff;
  std::string backoff_psi_dir = "/proc/pressure";
  KubeOptions kube;
  // Empty: no metrics server; then none of the metrics options matter.
  std::string metrics_listen;
  // The GC series: from the runtime's books (books.gc_series), or, with
  // metrics_gc_probes, from uprobes (gc_metrics.watch_gc).
  bool metrics_gc = true;
  bool metrics_gc_probes = false;
  GcMetricsOptions gc_metrics;
  BooksCollectorOptions books;
  bool metrics_goroutines = true;
  GoroutineStateOptions goroutine_states;
  // The sampled gspy_go_block_sampled_* series of every Go process (else
  // only of those continuous mode pushes block or wall profiles of).
  bool metrics_sampled_waits = true;
  SampledWaitWatchOptions sampled_waits;
  PushOptions push;
  // What every exit (pulls, dumps, push, metrics) redacts; a client cannot
  // turn it off.
  RedactOptions redact;
  // The key of label hashes and goroutine-id anonymization; empty: a random
  // key generated at start (hashes then change when gspyd restarts).
  std::string anonymize_key_file;
  // Who may call: "none" (anyone who reaches the listeners) or "kubernetes"
  // (bearer tokens, TokenReview and SubjectAccessReview; kube_auth.h).
  std::string authn = "none";
  KubeAuthOptions auth;
  // Captures that fire on their own (--capture-*); none without rules.
  CaptureOptions capture;
};

// Parses gspyd's command line (exits, as absl does, on an unknown flag or a
// bad value, and for --help) and returns the options it sets.
GspydOptions ParseGspydCommandLine(int argc, char** argv);

// The options the flags hold now.
GspydOptions GspydOptionsFromFlags();

// gspyd's flags are documented with dashes (--cpu-hz) as gspy's are; abseil
// names them with underscores. Returns argv with the dashes of flag names
// (not of values, nor after a bare "--") turned into underscores, so that
// both spellings work.
std::vector<std::string> DashesToUnderscores(int argc, char** argv);

// `args` with every --NAME=V and --NAME V (before a bare "--") replaced by
// one --NAME=V1\nV2... where the first was: absl keeps only the last of a
// repeated flag, and a rule's selector may hold commas.
std::vector<std::string> GatherRepeatedFlag(std::vector<std::string> args,
                                            const std::string& name);

}  // namespace gspy

#endif  // GSPY_DAEMON_GSPYD_FLAGS_H_
