// gspy: the command-line client of gspyd. Lists Go processes, pulls profiles
// and writes them as pprof, folded stacks or an SVG flame graph.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cli/books_command.h"
#include "cli/captures_command.h"
#include "cli/cluster_pull.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/contention_command.h"
#include "cli/goroutines_command.h"
#include "cli/grpc_channel.h"
#include "cli/heap_command.h"
#include "cli/progress_pull.h"
#include "cli/pull_progress.h"
#include "cli/render/flame_graph.h"
#include "cli/render_output.h"
#include "cli/version_command.h"
#include "cli/view_command.h"
#include "profile/pprof/profile_builder.h"
#include "proto/gspy/v1/profiler.grpc.pb.h"

namespace gspy {
namespace {

constexpr char kUsage[] = R"(usage: gspy [--server=HOST:PORT] COMMAND [FLAGS]

Every command accepts --server (default 127.0.0.1:7070) and --help; a flag
the command does not take is an error (exit code 2).
  --server=unix:///run/gspy/gspyd.sock   gspyd's local socket (root only)
  --tls                         TLS, the server verified by the system's roots
  --tls-ca-file=F               ... or by this CA bundle (implies --tls)
  --tls-cert-file=F --tls-key-file=F   client certificate (gspyd's mTLS)
  --tls-server-name=NAME        the name gspyd's certificate must carry, when
                                not --server's host (also for cluster pulls,
                                which use these flags for every node)
  --token-file=FILE             the bearer token gspyd --authn=kubernetes checks
                                (default: the pod's service-account token when
                                present); cluster pulls present it to every node

commands:
  version, --version            gspy's version and API version, and gspyd's
                                when it answers at --server (exit code 0
                                when it does not: the line says so)
  targets                       Go processes on the node: pid, Go version, exe,
                                module, probes attached, pod, whether its
                                heap profile can be read (HEAP)
  profile cpu                   pull a CPU profile
  profile block                 pull a block profile: where goroutines waited
                                and how long (contentions, delay), with the
                                wait reason as label "wait_reason"
  profile sched-latency         pull wake-up-to-running delays (scheduling
                                latency) by the stack the goroutine waited at
  profile wall                  pull on- and off-CPU time of every goroutine,
                                label "state": running, waiting, runnable
  profile heap --pid=PID -o F   the heap profile (alloc/inuse objects and
                                space) as the program's /debug/pprof/heap
                                would write it, read here from the Go
                                runtime's own profile buckets: no gspyd, no
                                probe, no stop (needs CAP_SYS_PTRACE)
      --delta=10s               alloc_* of the next 10s only (in use as at
                                the end)
  profile mutex --pid=PID -o F  the program's own mutex profile (contentions,
                                delay) as pprof.Lookup("mutex") writes it, read
                                from the runtime's buckets like heap; needs
                                runtime.SetMutexProfileFraction(N) in the program
  profile block --source=runtime --pid=PID -o F
                                the same for the program's own block profile
                                (runtime.SetBlockProfileRate); without
                                --source=runtime, gspyd's eBPF block profile
                                (heap, mutex, block --source=runtime: one
                                --pid is read here, other selectors go
                                through gspyd; --filter works both ways)
      --pid=PID                 a process to profile (may repeat)
      --exe=PATH                every process running this executable (may repeat)
      --pod=NAMESPACE/NAME      every Go process of a pod on the node (may repeat)
      --namespace=NS            every Go process of the namespace's pods ...
      --selector=K=V,K2!=V2     ... or of the pods these labels select
                                (no selector: every Go process)
      --duration=10s            how long to sample
      --group-by=KEY            label whose values group the folded/SVG output
      --labels=K1,K2            keep only these pprof labels (default: all)
      --filter='TERMS'          keep only matching samples, e.g.
                                'label:handler=checkout stack:~net/http\.'
                                (label:K=V|K!=V|K=~RE|K, status:S, reason:R,
                                stack:FUNC|~RE; -TERM negates; all must hold)
      --goroutine-ids           add each sample's goroutine id as label "goid"
      --kernel                  include kernel frames (cpu only)
      --exact                   block, sched-latency, wall: measure every wait
                                with uprobes (exact counts; each park traps,
                                ~17us of the process's time) instead of
                                sampling goroutine states from outside (the
                                default: no probes, gspyd's CPU within a
                                budget; counts are distinct waits observed)
      -o FILE                   .pb.gz/.pprof (pprof), .html (interactive
                                flame graph: zoom, search, tooltips,
                                --group-by colours), .folded, or .svg
      --kube-api=URL            cluster-wide: find the nodes of the selected pods
                                and the gspy pod on each through this API server
                                (e.g. http://127.0.0.1:8001 from `kubectl proxy`,
                                or in-cluster), pull from each, merge
      --kube-token-file=F --kube-ca-file=F   credentials for --kube-api
      --gspy-namespace=gspy --gspy-selector=app.kubernetes.io/name=gspy
                                where the gspy DaemonSet's pods are
  view FILE -o OUT.html         render a pprof file (gspy's or Go's) as an
                                interactive flame graph (.html), .svg or
                                .folded; no gspyd
      --group-by=KEY            colour by this label's values, with a legend
      --sample-index=N|TYPE     which sample value (default: the last, as
                                pprof)
  diff BASE NEW -o OUT.html     differential flame graph (.html, .svg,
                                .folded): NEW's shape, frames red where
                                their share of the total grew since BASE,
                                blue where it shrank
      --widths=base             draw BASE's shape instead, to see what
                                shrank or went away (the .html toggles)
  gc                            print every stop-the-world pause as it happens,
                                then count, GC cycles, total, p50/p99/max
      --pid=PID / --exe=PATH    as for profile (may repeat)
      --duration=60s            how long to watch (ends early when all exit)
      --books --pid=PID         instead, every cycle's pause from the process's
                                own pause ring (MemStats.PauseNs), read from
                                its memory here: no gspyd, no probe
      --interval=100ms          how often --books reads the ring
  books --pid=PID               the runtime's own books (runtime/metrics values:
                                GC cycles, heap goal, pause and scheduling
                                histograms, GOMAXPROCS, ...) and the GC pause
                                ring, read from the process's memory here, no
                                gspyd, no probe, no stop (needs CAP_SYS_PTRACE)
      --json                    as JSON, by runtime/metrics name
      --no-symtab               find the runtime's globals as in a stripped
                                binary even when .symtab has them
  goroutines                    every goroutine, read from outside without
                                stopping the process: printed like Go's
                                debug=2 (state, wait, labels, stack, creator)
      --pid=PID / --exe=PATH / --pod=NS/NAME   as for profile
      --filter='TERMS'          as for profile (status is the goroutine's)
      --system                  include the runtime's own goroutines
      --format=text|pprof       pprof: goroutine/count by stack and labels
      -o FILE                   write there instead of stdout
      --core=FILE --exe=PATH    read a core file (e.g. from gcore) of PATH
                                here, without gspyd
      --watch=60s               leak detection: a dump every --interval
                                (default watch/12, at least 1s), then the
                                goroutine groups (creator and stack) of each
                                process that kept growing, with their rate;
                                --min-growth=10 --min-r2=0.8 --min-snapshots=6
                                set the criterion; --format=text|json
  captures list                 the captures gspyd took on its own when one
                                of its --capture-rule held: id, time, rule,
                                process or pod, what was measured
  captures get ID -o DIR        fetch a capture's files: goroutines.pb.gz,
                                cpu.pb.gz, wall.pb.gz, books.txt
)";

int Fail(const std::string& message) {
  fprintf(stderr, "gspy: %s\n", message.c_str());
  return 1;
}

// A command line gspy does not understand: exit code 2, as for no command.
int UsageError(const std::string& message) {
  fprintf(stderr, "gspy: %s\n", message.c_str());
  return 2;
}

int FailRpc(const grpc::Status& status) {
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  return Fail(absl::StrCat(absl::StatusCodeToString(code), ": ",
                           status.error_message()));
}

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// As the PROBES column shows them.
std::string ProbesText(int probes) {
  switch (probes) {
    case gspy::v1::PROBES_GC:
      return "gc";
    case gspy::v1::PROBES_BLOCK:
      return "block";
    case gspy::v1::PROBES_SAMPLED:
      return "sampled";
    default:
      return absl::StrCat("unknown(", probes, ")");
  }
}

int Targets(gspy::v1::Profiler::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  gspy::v1::ListTargetsResponse response;
  grpc::Status s = stub.ListTargets(&ctx, {}, &response);
  if (!s.ok()) return FailRpc(s);
  printf("PID\tGO_VERSION\tEXE\tMODULE\tPROBES\tPOD\tHEAP\tNOTE\n");
  for (const auto& t : response.targets()) {
    std::string probes = absl::StrJoin(
        t.probes(), ",",
        [](std::string* out, int p) { out->append(ProbesText(p)); });
    std::string pod = "-";
    if (auto ns = t.metadata().find("namespace"),
        name = t.metadata().find("pod");
        ns != t.metadata().end() && name != t.metadata().end()) {
      pod = absl::StrCat(ns->second, "/", name->second);
    }
    // HEAP: whether `gspy profile heap` can read it ("yes", else why not).
    std::string heap = "yes";
    if (!t.heap_profile_unavailable().empty()) {
      // The reason's first clause; `gspy profile heap` gives all of it.
      absl::string_view why = absl::StripPrefix(t.heap_profile_unavailable(),
                                                "heap profile unavailable: ");
      why = why.substr(0, why.find(" ("));
      heap = absl::StrCat("no: ", why);
    } else if (!t.unsupported_reason().empty()) {
      heap = "-";
    }
    printf("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.pid(), t.go_version().c_str(),
           t.exe().c_str(), t.module_path().c_str(),
           probes.empty() ? "-" : probes.c_str(), pod.c_str(), heap.c_str(),
           t.unsupported_reason().c_str());
  }
  return 0;
}

// Writes the profile in the format the file name asks for.
absl::Status WriteProfile(const std::string& path, const std::string& pprof,
                          const RenderOptions& render) {
  if (absl::EndsWith(path, ".pb.gz") || absl::EndsWith(path, ".pprof") ||
      absl::EndsWith(path, ".pb") || absl::EndsWith(path, ".gz")) {
    return WriteFile(path, pprof);
  }
  if (!IsRenderedOutput(path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": unknown output type; use .pb.gz, .pprof, .html, .folded or .svg"));
  }
  absl::StatusOr<perftools::profiles::Profile> profile = DecodeProfile(pprof);
  if (!profile.ok()) return profile.status();
  return WriteRendered(path, *profile, render);
}

// Fills the selector and the duration fields every pull and watch request
// has, from --pid (repeatable), --exe (repeatable) and --duration. The server
// validates the duration; the client only carries it, negative included.
template <typename Request>
absl::StatusOr<absl::Duration> ReadTargetsAndDuration(
    const CommandLine& cl, absl::Duration default_duration, Request* request) {
  for (const std::string& p : cl.GetAll("pid")) {
    int pid;
    if (!absl::SimpleAtoi(p, &pid)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--pid=", p, ": not a number"));
    }
    request->mutable_selector()->add_pids(pid);
  }
  for (const std::string& e : cl.GetAll("exe")) {
    request->mutable_selector()->add_exe_paths(e);
  }
  for (const std::string& p : cl.GetAll("pod")) {
    request->mutable_selector()->add_pods(p);
  }
  if (auto ns = cl.Get("namespace")) {
    request->mutable_selector()->set_namespace_(*ns);
  }
  if (auto sel = cl.Get("selector")) {
    request->mutable_selector()->set_pod_label_selector(*sel);
  }
  absl::Duration duration = default_duration;
  if (auto d = cl.Get("duration");
      d.has_value() && !absl::ParseDuration(*d, &duration)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--duration=", *d, ": not a duration (e.g. 10s)"));
  }
  const int64_t nanos = absl::ToInt64Nanoseconds(duration);
  // google.protobuf.Duration: nanos carry the sign of seconds, as % does.
  request->mutable_duration()->set_seconds(nanos / 1'000'000'000);
  request->mutable_duration()->set_nanos(
      static_cast<int32_t>(nanos % 1'000'000'000));
  return duration;
}

struct ProfileKind {
  const char* name;  // as typed after "profile"
  gspy::v1::ProfileType type;
  // Which sample value folded stacks and flame graphs show.
  int value_index;
  const char* title;
  const char* counted;  // what GetProfileResponse.samples counts
};

// Read from the runtime's own buckets by gspyd (PullBucketProfile).
constexpr ProfileKind kHeapKind = {"heap", gspy::v1::PROFILE_TYPE_HEAP, 3,
                                   "gspy heap profile (inuse_space)",
                                   "samples"};
constexpr ProfileKind kMutexKind = {"mutex", gspy::v1::PROFILE_TYPE_MUTEX, 1,
                                    "gspy mutex profile (delay)", "samples"};
constexpr ProfileKind kRuntimeBlockKind = {
    "block", gspy::v1::PROFILE_TYPE_RUNTIME_BLOCK, 1,
    "gspy block profile (delay)", "samples"};

constexpr ProfileKind kProfileKinds[] = {
    // Samples, as flamegraph.pl counts them.
    {"cpu", gspy::v1::PROFILE_TYPE_CPU, 0, "gspy CPU profile", "samples"},
    // Time waited, as `go tool pprof` shows a block profile by default.
    {"block", gspy::v1::PROFILE_TYPE_BLOCK, 1, "gspy block profile (delay)",
     "waits"},
    {"sched-latency", gspy::v1::PROFILE_TYPE_SCHED_LATENCY, 1,
     "gspy scheduling latency (delay)", "wake-ups"},
    {"wall", gspy::v1::PROFILE_TYPE_WALL, 1,
     "gspy wall clock (running, waiting, runnable)", "samples and waits"},
};

// `gspy profile heap`: read here, written like a pulled profile.
int HeapCommand(const CommandLine& cl) {
  const std::string out = cl.Get("o").value_or(cl.Get("output").value_or(""));
  if (out.empty()) return Fail("profile heap: -o FILE is required");
  absl::StatusOr<std::string> pprof = HeapProfileFor(cl);
  if (!pprof.ok()) {
    return Fail(absl::StrCat(absl::StatusCodeToString(pprof.status().code()),
                             ": ", pprof.status().message()));
  }
  RenderOptions render;
  render.value_index = 3;  // inuse_space, Go's default for a heap profile
  render.title = "gspy heap profile (inuse_space)";
  if (absl::Status w = WriteProfile(out, *pprof, render); !w.ok()) {
    return Fail(std::string(w.message()));
  }
  return 0;
}

// `gspy profile mutex` and `gspy profile block --source=runtime`: read
// here, written like a pulled profile.
int ContentionCommand(const CommandLine& cl, ContentionKind kind) {
  const std::string out = cl.Get("o").value_or(cl.Get("output").value_or(""));
  const char* name = ContentionKindName(kind);
  if (out.empty())
    return Fail(absl::StrCat("profile ", name, ": -o FILE is required"));
  absl::StatusOr<std::string> pprof = ContentionProfileFor(cl, kind);
  if (!pprof.ok()) {
    return Fail(absl::StrCat(absl::StatusCodeToString(pprof.status().code()),
                             ": ", pprof.status().message()));
  }
  RenderOptions render;
  render.value_index = 1;  // delay, as `go tool pprof` shows by default
  render.title = absl::StrCat("gspy ", name, " profile (delay)");
  if (absl::Status w = WriteProfile(out, *pprof, render); !w.ok()) {
    return Fail(std::string(w.message()));
  }
  return 0;
}

// --kube-api=URL|in-cluster and the flags that go with it.
absl::StatusOr<ClusterOptions> ClusterOptionsFrom(const CommandLine& cl,
                                                  const std::string& api) {
  ClusterOptions o;
  if (api == "in-cluster") {
    absl::StatusOr<KubeApiConfig> c = InClusterConfig("");
    if (!c.ok()) return c.status();
    o.api = *c;
  } else {
    o.api.server = api;
  }
  if (auto f = cl.Get("kube-token-file")) o.api.token_file = *f;
  if (auto f = cl.Get("kube-ca-file")) o.api.ca_file = *f;
  if (auto ns = cl.Get("gspy-namespace")) o.gspy_namespace = *ns;
  if (auto sel = cl.Get("gspy-selector")) o.gspy_selector = *sel;
  return o;
}

int PullProfile(gspy::v1::Profiler::Stub& stub, const ProfileKind& kind,
                const CommandLine& cl, const ClientTransport& transport) {
  gspy::v1::GetProfileRequest request;
  request.set_type(kind.type);
  absl::StatusOr<absl::Duration> duration =
      ReadTargetsAndDuration(cl, absl::Seconds(10), &request);
  if (!duration.ok()) return Fail(std::string(duration.status().message()));
  if (auto labels = cl.Get("labels")) {
    for (absl::string_view k :
         absl::StrSplit(*labels, ',', absl::SkipEmpty())) {
      request.add_label_keys(std::string(k));
    }
  }
  request.set_goroutine_ids(cl.Has("goroutine-ids"));
  request.set_kernel_stacks(cl.Has("kernel"));
  request.set_exact(cl.Has("exact"));
  request.set_filter(cl.Get("filter").value_or(""));
  const std::string out = cl.Get("o").value_or(cl.Get("output").value_or(""));
  if (out.empty()) return Fail("profile: -o FILE is required");
  if (kind.type == gspy::v1::PROFILE_TYPE_HEAP ||
      kind.type == gspy::v1::PROFILE_TYPE_MUTEX ||
      kind.type == gspy::v1::PROFILE_TYPE_RUNTIME_BLOCK) {
    // No window unless --delta: the profile since the program started.
    request.clear_duration();
    if (auto d = cl.Get("delta")) {
      absl::Duration delta;
      if (!absl::ParseDuration(*d, &delta) || delta <= absl::ZeroDuration()) {
        return Fail(absl::StrCat("--delta=", *d,
                                 ": not a positive duration (e.g. 10s)"));
      }
      request.mutable_duration()->set_seconds(absl::ToInt64Seconds(delta));
      request.mutable_duration()->set_nanos(static_cast<int32_t>(
          absl::ToInt64Nanoseconds(delta) % 1'000'000'000));
      *duration = delta;
    }
  }

  const absl::Duration timeout =
      absl::AbsDuration(*duration) + absl::Seconds(120);
  gspy::v1::GetProfileResponse response;
  if (auto api = cl.Get("kube-api")) {
    absl::StatusOr<ClusterOptions> cluster = ClusterOptionsFrom(cl, *api);
    if (!cluster.ok()) return Fail(std::string(cluster.status().message()));
    // Each node's gspyd as --server's: the same TLS and client certificate.
    cluster->dial = [&transport](const std::string& address) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(-1);
      return Dial(address, transport, args);
    };
    absl::StatusOr<gspy::v1::GetProfileResponse> r;
    {
      const PullProgress progress(
          STDERR_FILENO, absl::StrCat(kind.name, " profile, cluster-wide"),
          *duration);
      r = ClusterPull(*cluster, request, timeout);
    }
    if (!r.ok()) {
      return Fail(absl::StrCat(absl::StatusCodeToString(r.status().code()),
                               ": ", r.status().message()));
    }
    response = *std::move(r);
  } else {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     absl::ToChronoSeconds(timeout));
    grpc::Status s;
    {
      PullProgress progress(STDERR_FILENO, absl::StrCat(kind.name, " profile"),
                            *duration);
      s = progress.enabled() ? PullWithProgress(stub, ctx.deadline(), request,
                                                &progress, &response)
                             : stub.GetProfile(&ctx, request, &response);
    }
    if (!s.ok()) return FailRpc(s);
  }
  for (const std::string& w : response.warnings()) {
    fprintf(stderr, "gspy: warning: %s\n", w.c_str());
  }
  RenderOptions render;
  render.group_by_label = cl.Get("group-by").value_or("");
  render.value_index = kind.value_index;
  render.title = kind.title;
  if (absl::Status w = WriteProfile(out, response.pprof(), render); !w.ok()) {
    return Fail(std::string(w.message()));
  }
  std::string sampled;
  if (response.sampling_ratio() > 0 && response.sampling_ratio() < 1) {
    sampled = absl::StrFormat(", %.1f%% of all, scaled: duty-cycled",
                              response.sampling_ratio() * 100);
  }
  std::string mode;
  if (response.sample_interval_nanos() > 0) {
    const double ms = response.sample_interval_nanos() / 1e6;
    mode = absl::StrFormat("; sampled: goroutine states every %.2f ms, %.1f Hz",
                           ms, 1e3 / ms);
  } else if (kind.type != gspy::v1::PROFILE_TYPE_CPU) {
    mode = "; exact: block uprobes";
  }
  fprintf(stderr, "gspy: wrote %s (%lld %s%s%s)\n", out.c_str(),
          static_cast<long long>(response.samples()), kind.counted,
          sampled.c_str(), mode.c_str());
  return 0;
}

std::string Micros(int64_t nanos) {
  return absl::StrFormat("%.1fus", static_cast<double>(nanos) / 1e3);
}

int WatchGc(gspy::v1::GcPauses::Stub& stub, const CommandLine& cl) {
  gspy::v1::WatchGcPausesRequest request;
  absl::StatusOr<absl::Duration> duration =
      ReadTargetsAndDuration(cl, absl::Seconds(60), &request);
  if (!duration.ok()) return Fail(std::string(duration.status().message()));

  grpc::ClientContext ctx;
  ctx.set_deadline(
      std::chrono::system_clock::now() +
      absl::ToChronoSeconds(absl::AbsDuration(*duration) + absl::Seconds(120)));
  std::unique_ptr<grpc::ClientReader<gspy::v1::GcPauseEvent>> reader =
      stub.WatchGcPauses(&ctx, request);
  gspy::v1::GcPauseEvent ev;
  bool have_summary = false;
  gspy::v1::GcPauseSummary summary;
  while (reader->Read(&ev)) {
    if (ev.has_summary()) {
      summary = ev.summary();
      have_summary = true;
      continue;
    }
    if (ev.attached()) {
      fprintf(stderr, "gspy: watching pid %d (%s)\n", ev.pid(),
              ev.go_version().c_str());
      continue;
    }
    const absl::Time start = absl::FromUnixNanos(ev.start_unix_nanos());
    printf("%s  pid=%d  cycle=%lld  %-22s %s%s\n",
           absl::FormatTime("%H:%M:%E6S", start, absl::LocalTimeZone()).c_str(),
           ev.pid(), static_cast<long long>(ev.gc_cycle()), ev.reason().c_str(),
           Micros(ev.duration_nanos()).c_str(),
           ev.runtime_clock() ? "" : " (probe times)");
    fflush(stdout);
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) return FailRpc(s);
  if (!have_summary) return Fail("the stream ended without a summary");
  for (const std::string& w : summary.warnings()) {
    fprintf(stderr, "gspy: warning: %s\n", w.c_str());
  }
  printf(
      "pauses=%lld total=%s gc_pauses=%lld gc_total=%s gc_cycles=%lld "
      "p50=%s p99=%s max=%s lost_events=%lld\n",
      static_cast<long long>(summary.pauses()),
      Micros(summary.total_nanos()).c_str(),
      static_cast<long long>(summary.gc_pauses()),
      Micros(summary.gc_total_nanos()).c_str(),
      static_cast<long long>(summary.gc_cycles()),
      Micros(summary.p50_nanos()).c_str(), Micros(summary.p99_nanos()).c_str(),
      Micros(summary.max_nanos()).c_str(),
      static_cast<long long>(summary.lost_events()));
  return 0;
}

}  // namespace
}  // namespace gspy

int main(int argc, char** argv) {
  using gspy::Fail;
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<gspy::CommandLine> cl =
      gspy::ParseCommandLine(args, gspy::AllFlags());
  if (!cl.ok()) return gspy::UsageError(std::string(cl.status().message()));
  const std::vector<std::string>& pos = cl->positional;
  const bool version =
      cl->Has("version") || (!pos.empty() && pos[0] == "version");
  if (!version && pos.empty()) {
    // `gspy --hlep` is a typo of a global flag, not a request for usage.
    if (absl::Status s = gspy::CheckFlags(*cl, gspy::GlobalFlags()); !s.ok()) {
      return gspy::UsageError(std::string(s.message()));
    }
  }
  if (!version && (cl->Has("help") || pos.empty())) {
    fputs(gspy::kUsage, cl->Has("help") ? stdout : stderr);
    return cl->Has("help") ? 0 : 2;
  }
  const gspy::CommandSpec* command = version && pos.empty()
                                         ? gspy::FindCommand({"version"})
                                         : gspy::FindCommand(pos);
  if (command == nullptr) {
    if (pos[0] == "profile") {
      return gspy::UsageError(
          "profile: the profile type must be given: gspy profile "
          "cpu|block|sched-latency|wall|heap ...");
    }
    if (pos[0] == "captures") {
      return gspy::UsageError("captures: gspy captures list|get ID -o DIR");
    }
    fputs(gspy::kUsage, stderr);
    return gspy::UsageError(absl::StrCat("unknown command: ", pos[0]));
  }
  if (absl::Status s = gspy::CheckCommandLine(*cl, *command); !s.ok()) {
    return gspy::UsageError(std::string(s.message()));
  }
  const std::string server = cl->Get("server").value_or("127.0.0.1:7070");
  grpc::ChannelArguments channel_args;
  if (command->words[0] == "profile" || command->words[0] == "captures") {
    // A profile is one pprof in one message, and one of 100k stacks
    // (--max-stacks-per-profile) can exceed gRPC's default 4 MiB. Goroutine
    // dumps, the larger answers, come in parts well under it.
    channel_args.SetMaxReceiveMessageSize(-1);
  }
  absl::StatusOr<gspy::ClientTransport> transport =
      gspy::ClientTransportFrom(*cl);
  if (!transport.ok()) {
    return gspy::UsageError(std::string(transport.status().message()));
  }
  auto channel = gspy::Dial(server, *transport, channel_args);
  auto stub = gspy::v1::Profiler::NewStub(channel);
  if (version) return gspy::PrintVersion(*stub, server);
  if (pos[0] == "targets") return gspy::Targets(*stub);
  if (pos[0] == "view") return gspy::ViewCommand(*cl);
  if (pos[0] == "diff") return gspy::DiffCommand(*cl);
  if (pos[0] == "books") return gspy::BooksCommand(*cl);
  // Profiles from the runtime's buckets: read here for one --pid (no
  // gspyd needed), through gspyd (--server) for any other selector.
  const bool via_gspyd = cl->GetAll("pid").size() != 1 || cl->Has("exe") ||
                         cl->Has("pod") || cl->Has("namespace") ||
                         cl->Has("selector") || cl->Has("kube-api");
  if (pos[0] == "profile" && pos[1] == "heap") {
    if (via_gspyd) {
      return gspy::PullProfile(*stub, gspy::kHeapKind, *cl, *transport);
    }
    return gspy::HeapCommand(*cl);
  }
  if (pos[0] == "profile" && pos[1] == "mutex") {
    if (via_gspyd) {
      return gspy::PullProfile(*stub, gspy::kMutexKind, *cl, *transport);
    }
    return gspy::ContentionCommand(*cl, gspy::ContentionKind::kMutex);
  }
  if (pos[0] == "profile" && pos[1] == "block" && cl->Has("source")) {
    const std::string source = cl->Get("source").value_or("");
    if (source == "runtime" && via_gspyd) {
      return gspy::PullProfile(*stub, gspy::kRuntimeBlockKind, *cl, *transport);
    }
    if (source == "runtime") {
      return gspy::ContentionCommand(*cl, gspy::ContentionKind::kBlock);
    }
    if (source != "ebpf") {
      return gspy::UsageError(absl::StrCat(
          "--source=", source, ": ebpf (gspyd, the default) or runtime"));
    }
  }
  if (pos[0] == "goroutines") return gspy::GoroutinesCommand(*stub, *cl);
  if (pos[0] == "captures") {
    auto captures_stub = gspy::v1::Captures::NewStub(channel);
    return gspy::CapturesCommand(*captures_stub, *cl);
  }
  if (pos[0] == "gc" && cl->Has("books")) return gspy::BooksGcCommand(*cl);
  if (pos[0] == "gc") {
    auto gc_stub = gspy::v1::GcPauses::NewStub(channel);
    return gspy::WatchGc(*gc_stub, *cl);
  }
  for (const gspy::ProfileKind& kind : gspy::kProfileKinds) {
    if (pos[1] == kind.name) {
      return gspy::PullProfile(*stub, kind, *cl, *transport);
    }
  }
  return Fail(absl::StrCat("no handler for ", pos[0]));
}
