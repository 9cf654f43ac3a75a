#include "cli/captures_command.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace gspy {
namespace {

// A capture is at most gspyd's --capture-max-bytes; one call, one answer.
constexpr auto kDeadline = std::chrono::seconds(60);

bool PlainName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name[0] == '.') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string Where(const gspy::v1::CaptureInfo& c) {
  if (!c.pod().empty()) {
    return absl::StrCat(c.namespace_(), "/", c.pod(), " pid ", c.pid());
  }
  return absl::StrCat("pid ", c.pid(), " ", c.exe());
}

int Fail(const std::string& message) {
  fprintf(stderr, "gspy: %s\n", message.c_str());
  return 1;
}

int FailRpc(const grpc::Status& s) {
  return Fail(absl::StrCat(
      absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())),
      ": ", s.error_message()));
}

}  // namespace

std::string FormatCaptureList(const gspy::v1::ListCapturesResponse& list) {
  if (list.captures().empty()) return "no captures\n";
  std::string out =
      absl::StrFormat("%-40s %-24s %-28s %-32s %-20s %s\n", "ID", "TIME (UTC)",
                      "RULE", "PROCESS", "MEASURED", "BYTES");
  for (const gspy::v1::CaptureInfo& c : list.captures()) {
    absl::StrAppend(
        &out, absl::StrFormat(
                  "%-40s %-24s %-28s %-32s %-20s %d%s\n", c.id(),
                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                   absl::FromUnixNanos(c.unix_nanos()),
                                   absl::UTCTimeZone()),
                  c.rule(), Where(c), c.measured(), c.bytes(),
                  c.warnings().empty()
                      ? ""
                      : absl::StrCat(" (", c.warnings_size(), " warning(s))")));
  }
  return out;
}

absl::Status WriteCaptureFiles(const gspy::v1::GetCaptureResponse& capture,
                               const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir, ": ", ec.message()));
  }
  for (const gspy::v1::CaptureFile& f : capture.files()) {
    if (!PlainName(f.name())) {
      return absl::InvalidArgumentError(
          absl::StrCat("gspyd sent a capture file named \"",
                       absl::CHexEscape(f.name().substr(0, 100)),
                       "\": not a plain file name"));
    }
  }
  for (const gspy::v1::CaptureFile& f : capture.files()) {
    const std::string path = (std::filesystem::path(dir) / f.name()).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(f.data().data(), static_cast<std::streamsize>(f.data().size()));
    out.close();
    if (!out) {
      return absl::UnavailableError(absl::StrCat("cannot write ", path));
    }
  }
  return absl::OkStatus();
}

int CapturesCommand(gspy::v1::Captures::StubInterface& stub,
                    const CommandLine& cl) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  if (cl.positional[1] == "list") {
    gspy::v1::ListCapturesResponse list;
    if (grpc::Status s = stub.ListCaptures(&ctx, {}, &list); !s.ok()) {
      return FailRpc(s);
    }
    fputs(FormatCaptureList(list).c_str(), stdout);
    return 0;
  }
  std::optional<std::string> dir = cl.Get("o");
  if (!dir.has_value()) dir = cl.Get("output");
  if (!dir.has_value() || dir->empty()) {
    fprintf(stderr, "gspy: captures get: -o DIR is required\n");
    return 2;
  }
  gspy::v1::GetCaptureRequest request;
  request.set_id(cl.positional[2]);
  gspy::v1::GetCaptureResponse capture;
  if (grpc::Status s = stub.GetCapture(&ctx, request, &capture); !s.ok()) {
    return FailRpc(s);
  }
  if (absl::Status s = WriteCaptureFiles(capture, *dir); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  const gspy::v1::CaptureInfo& c = capture.info();
  printf("capture %s: %s held for %s (%s)\n", c.id().c_str(), c.rule().c_str(),
         Where(c).c_str(), c.measured().c_str());
  for (const gspy::v1::CaptureFile& f : capture.files()) {
    printf("  %s/%s (%zu bytes)\n", dir->c_str(), f.name().c_str(),
           f.data().size());
  }
  for (const std::string& w : c.warnings()) {
    printf("  warning: %s\n", w.c_str());
  }
  return 0;
}

}  // namespace gspy
