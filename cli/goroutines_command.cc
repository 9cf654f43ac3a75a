#include "cli/goroutines_command.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cli/leak_watch_command.h"
#include "golang/binary/go_binary.h"
#include "golang/goroutines/core_match.h"
#include "golang/goroutines/dump_proto.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/goroutines_stream.h"
#include "golang/goroutines/memory_source.h"

namespace gspy {
namespace {

int Fail(const std::string& message) {
  fprintf(stderr, "gspy: %s\n", message.c_str());
  return 1;
}

std::string Quoted(const std::string& s) {
  return absl::StrCat("\"", absl::CHexEscape(s), "\"");
}

void AppendFrame(const gspy::v1::StackFrame& f, std::string* out) {
  if (f.function().empty()) {
    absl::StrAppendFormat(out, "?()\n\t?:0 pc=%#x\n", f.pc());
    return;
  }
  absl::StrAppend(out, f.function(), "(...)\n\t", f.file(), ":", f.line());
  if (!f.inlined()) absl::StrAppendFormat(out, " +%#x", f.offset());
  out->push_back('\n');
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The load bias of the executable in the core: where NT_FILE says the file
// (by base name) is mapped at offset 0, minus the page of its first PT_LOAD.
absl::StatusOr<uint64_t> CoreLoadBias(const CoreFileMemory& core,
                                      const GoBinary& binary,
                                      const std::string& exe) {
  if (!binary.is_pie()) return 0;
  uint64_t first = ~uint64_t{0};
  for (const LoadSegment& s : binary.segments()) {
    if (s.offset == 0) first = s.vaddr & ~uint64_t{0xfff};
  }
  for (const auto& [name, start] : core.mapped_files()) {
    if (Basename(name) == Basename(exe) && first != ~uint64_t{0}) {
      return start - first;
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the core does not say where ", exe,
      " was mapped (no NT_FILE entry with its name): is it the executable "
      "of this core?"));
}

// A dump of a core file, read here without gspyd, cut into GetGoroutines'
// messages and joined again as gspyd's answer is.
absl::StatusOr<GoroutinesDumps> DumpCore(const CommandLine& cl,
                                         const std::string& core_path) {
  const std::optional<std::string> exe = cl.Get("exe");
  if (!exe.has_value()) {
    return absl::InvalidArgumentError(
        "--core needs --exe=PATH, the executable the core came from");
  }
  absl::StatusOr<std::unique_ptr<GoBinary>> binary = GoBinary::Open(*exe);
  if (!binary.ok()) return binary.status();
  absl::StatusOr<std::string> exe_bytes = ReadWholeFile(*exe);
  if (!exe_bytes.ok()) return exe_bytes.status();
  absl::StatusOr<std::unique_ptr<CoreFileMemory>> core =
      CoreFileMemory::Open(core_path);
  if (!core.ok()) return core.status();
  absl::StatusOr<uint64_t> bias = CoreLoadBias(**core, **binary, *exe);
  if (!bias.ok()) return bias.status();
  // Before AddExecutable: the check must read the core alone.
  if (absl::Status s = CheckCoreMatchesExecutable(**core, core_path, *exe_bytes,
                                                  *exe, *bias);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = (*core)->AddExecutable(*exe_bytes, *bias); !s.ok()) {
    return s;
  }
  absl::StatusOr<SampleFilter> filter =
      SampleFilter::Parse(cl.Get("filter").value_or(""));
  if (!filter.ok()) return filter.status();
  DumpOptions options;
  options.include_system = cl.Has("system");
  const absl::Time start = absl::Now();
  absl::StatusOr<GoroutineDump> dump =
      TakeGoroutineDump(**binary, **core, *bias, options);
  if (!dump.ok()) {
    return absl::Status(dump.status().code(),
                        absl::StrCat(core_path, ": ", dump.status().message()));
  }
  gspy::v1::ProcessGoroutines p;
  for (const std::string& w : (*core)->warnings()) p.add_warnings(w);
  DumpProtoOptions to_proto;
  to_proto.filter = &*filter;
  to_proto.shared_label_sets = true;  // as gspyd sends them to gspy
  DumpToProto(*dump, **binary, *bias, to_proto, &p);
  p.set_dump_nanos(absl::ToInt64Nanoseconds(absl::Now() - start));
  GoroutinesDumps out;
  absl::Status joined;
  auto add = [&](const gspy::v1::GetGoroutinesResponse& m) {
    joined = out.Add(m);
    return joined.ok();
  };
  if (cl.Get("format").value_or("text") == "pprof") {
    const std::string pprof =
        GoroutinesPprof({&p}, absl::ToUnixNanos(absl::Now()));
    p.clear_goroutines();
    p.clear_label_sets();
    if (EmitProcessParts(std::move(p), kGoroutinesPartBytes, add)) {
      EmitPprofPieces(pprof, kGoroutinesPartBytes, add);
    }
  } else {
    EmitProcessParts(std::move(p), kGoroutinesPartBytes, add);
  }
  if (!joined.ok()) return joined;
  if (absl::Status s = out.Finish(); !s.ok()) return s;
  return out;
}

}  // namespace

std::string FormatGoroutinesText(const gspy::v1::ProcessGoroutines& p) {
  std::string text;
  WriteGoroutinesText(p, [&](std::string_view piece) { text.append(piece); });
  return text;
}

void WriteGoroutinesText(const gspy::v1::ProcessGoroutines& p,
                         absl::FunctionRef<void(std::string_view)> write) {
  constexpr size_t kPieceBytes = 1 << 20;
  std::string out;
  for (const gspy::v1::Goroutine& g : p.goroutines()) {
    if (out.size() >= kPieceBytes) {
      write(out);
      out.clear();
    }
    std::string state = g.wait_reason().empty()
                            ? std::string(GoroutineStatusText(g.status()))
                            : g.wait_reason();
    if (g.status() == gspy::v1::GOROUTINE_STATUS_LEAKED) {
      absl::StrAppend(&state, " (leaked)");
    }
    if (g.scan()) absl::StrAppend(&state, " (scan)");
    if (g.wait_nanos() >= 60'000'000'000) {
      absl::StrAppend(&state, ", ", g.wait_nanos() / 60'000'000'000,
                      " minutes");
    }
    const google::protobuf::RepeatedPtrField<gspy::v1::Label>& labels =
        GoroutineLabels(p, g);
    if (!labels.empty()) {
      absl::StrAppend(&state, " labels:{");
      for (int i = 0; i < labels.size(); ++i) {
        absl::StrAppend(&state, i ? ", " : "", Quoted(labels[i].key()), ": ",
                        Quoted(labels[i].value()));
      }
      absl::StrAppend(&state, "}");
    }
    absl::StrAppend(&out, "goroutine ", g.goid(), " [", state, "]:\n");
    if (g.running()) {
      absl::StrAppend(&out,
                      "\tgoroutine running on other thread; stack "
                      "unavailable\n");
    }
    for (const gspy::v1::StackFrame& f : g.frames()) {
      // Go's tracebacks end above goexit.
      if (f.function() == "runtime.goexit") break;
      AppendFrame(f, &out);
    }
    if (!g.stack_error().empty()) {
      absl::StrAppend(&out, "...stack ends early: ", g.stack_error(), "\n");
    }
    // Go does not say who created main (goroutine 1).
    if (!g.created_by().function().empty() && g.goid() != 1) {
      absl::StrAppend(&out, "created by ", g.created_by().function());
      if (g.parent_goid() != 0) {
        absl::StrAppend(&out, " in goroutine ", g.parent_goid());
      }
      absl::StrAppend(&out, "\n\t", g.created_by().file(), ":",
                      g.created_by().line());
      if (!g.created_by().inlined()) {
        absl::StrAppendFormat(&out, " +%#x", g.created_by().offset());
      }
      out.push_back('\n');
    }
    out.push_back('\n');
  }
  if (!out.empty()) write(out);
}

absl::StatusOr<gspy::v1::GetGoroutinesRequest> GoroutinesRequestFromFlags(
    const CommandLine& cl) {
  gspy::v1::GetGoroutinesRequest request;
  for (const std::string& p : cl.GetAll("pid")) {
    int pid;
    if (!absl::SimpleAtoi(p, &pid)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--pid=", p, ": not a number"));
    }
    request.mutable_selector()->add_pids(pid);
  }
  for (const std::string& e : cl.GetAll("exe")) {
    request.mutable_selector()->add_exe_paths(e);
  }
  for (const std::string& p : cl.GetAll("pod")) {
    request.mutable_selector()->add_pods(p);
  }
  if (auto ns = cl.Get("namespace")) {
    request.mutable_selector()->set_namespace_(*ns);
  }
  if (auto sel = cl.Get("selector")) {
    request.mutable_selector()->set_pod_label_selector(*sel);
  }
  request.set_filter(cl.Get("filter").value_or(""));
  request.set_include_system(cl.Has("system"));
  // Each distinct label set once: gspy resolves them (GoroutineLabels).
  request.set_shared_label_sets(true);
  return request;
}

absl::StatusOr<GoroutinesDumps> ReadGoroutines(
    gspy::v1::Profiler::Stub& stub,
    const gspy::v1::GetGoroutinesRequest& request, absl::Duration deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  std::unique_ptr<grpc::ClientReader<gspy::v1::GetGoroutinesResponse>> reader =
      stub.GetGoroutines(&ctx, request);
  GoroutinesDumps out;
  absl::Status joined;
  gspy::v1::GetGoroutinesResponse m;
  while (reader->Read(&m)) {
    if (joined.ok()) joined = out.Add(std::move(m));
    if (!joined.ok()) ctx.TryCancel();
  }
  const grpc::Status s = reader->Finish();
  if (!joined.ok()) return joined;
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        s.error_message());
  }
  if (absl::Status f = out.Finish(); !f.ok()) return f;
  return out;
}

int GoroutinesCommand(gspy::v1::Profiler::Stub& stub, const CommandLine& cl) {
  if (cl.Has("watch")) {
    if (cl.Has("core")) {
      return Fail("goroutines: --watch needs live processes, not --core");
    }
    return LeakWatchCommand(stub, cl);
  }
  // Leak detection's flags mean nothing to a single dump: a forgotten
  // --watch, not to be ignored.
  for (const char* flag :
       {"interval", "min-growth", "min-r2", "min-snapshots"}) {
    if (cl.Has(flag)) {
      fprintf(stderr, "gspy: goroutines: --%s needs --watch\n", flag);
      return 2;
    }
  }
  const std::string format = cl.Get("format").value_or("text");
  if (format != "text" && format != "pprof") {
    return Fail("goroutines: --format must be text or pprof");
  }
  const std::string out_path =
      cl.Get("o").value_or(cl.Get("output").value_or(""));
  if (format == "pprof" && out_path.empty()) {
    return Fail("goroutines: --format=pprof needs -o FILE");
  }
  absl::StatusOr<GoroutinesDumps> r;
  if (std::optional<std::string> core = cl.Get("core")) {
    r = DumpCore(cl, *core);
  } else {
    absl::StatusOr<gspy::v1::GetGoroutinesRequest> request =
        GoroutinesRequestFromFlags(cl);
    if (!request.ok()) return Fail(std::string(request.status().message()));
    if (format == "pprof") {
      request->set_format(gspy::v1::GOROUTINES_FORMAT_PPROF);
    }
    r = ReadGoroutines(stub, *request, absl::Seconds(120));
  }
  if (!r.ok()) {
    return Fail(absl::StrCat(absl::StatusCodeToString(r.status().code()), ": ",
                             r.status().message()));
  }
  const GoroutinesDumps& response = *r;
  for (const std::string& w : response.warnings) {
    fprintf(stderr, "gspy: warning: %s\n", w.c_str());
  }
  // The text is written as it is made (WriteGoroutinesText), to stdout or
  // to the file.
  std::ofstream file;
  if (!out_path.empty()) {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(absl::StrCat("cannot write ", out_path));
  }
  auto write = [&](std::string_view piece) {
    if (out_path.empty()) {
      fwrite(piece.data(), 1, piece.size(), stdout);
    } else {
      file.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    }
  };
  for (const gspy::v1::ProcessGoroutines& p : response.processes) {
    for (const std::string& w : p.warnings()) {
      fprintf(stderr, "gspy: warning: pid %d: %s\n", p.pid(), w.c_str());
    }
    fprintf(stderr,
            "gspy: pid %d (%s): %lld goroutines (%lld kept, %lld filtered "
            "out, %lld system skipped, %lld dropped as torn, %lld retried) "
            "read in %.1f ms\n",
            p.pid(), p.go_version().c_str(), static_cast<long long>(p.total()),
            static_cast<long long>(p.total() - p.filtered_out()),
            static_cast<long long>(p.filtered_out()),
            static_cast<long long>(p.system_skipped()),
            static_cast<long long>(p.dropped()),
            static_cast<long long>(p.retried()),
            static_cast<double>(p.dump_nanos()) / 1e6);
    if (format == "pprof") continue;
    if (response.processes.size() > 1) {
      write(absl::StrCat("== pid ", p.pid(), " ==\n"));
    }
    WriteGoroutinesText(p, write);
  }
  if (format == "pprof") write(response.pprof);
  if (out_path.empty()) {
    if (fflush(stdout) != 0) return Fail("cannot write to stdout");
    return 0;
  }
  file.close();
  if (!file) return Fail(absl::StrCat("cannot write ", out_path));
  fprintf(stderr, "gspy: wrote %s\n", out_path.c_str());
  return 0;
}

}  // namespace gspy
