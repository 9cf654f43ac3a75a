#include "daemon/export/push/capture_push.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "base/log.h"
#include "daemon/export/push/push_types.h"
#include "profile/pprof/profile_builder.h"

namespace gspy {
namespace {

// What a capture's file is pushed as: its type, and its name at Pyroscope
// and at Parca (push_types.h).
struct CaptureFileType {
  const char* file;
  const char* pyroscope;
  const char* parca;
};
constexpr CaptureFileType kPushed[] = {
    {"cpu.pb.gz", kCpuProfileName, kCpuProfileName},
    {"wall.pb.gz", kWallProfileName, kWallProfileName},
    {"goroutines.pb.gz", kPyroscopeGoroutineProfileName,
     kParcaGoroutineProfileName},
};

}  // namespace

int CapturePusher::Push(const GoProcess& process,
                        const gspy::v1::CaptureInfo& info,
                        const std::vector<CaptureFileData>& files) {
  LabelList base = PushLabels(process, process.metadata, labels_);
  base.emplace_back(kCaptureRuleLabel, info.rule());
  base.emplace_back(kCaptureIdLabel, info.id());
  int queued = 0;
  for (const CaptureFileType& type : kPushed) {
    auto file = std::find_if(
        files.begin(), files.end(),
        [&](const CaptureFileData& f) { return f.name == type.file; });
    if (file == files.end()) continue;  // not captured (a warning says why)
    absl::StatusOr<perftools::profiles::Profile> decoded =
        DecodeProfile(file->data);
    if (!decoded.ok()) {
      GSPY_LOG(ERROR) << "capture " << info.id() << ": " << type.file
                      << " not pushed: " << decoded.status().message();
      continue;
    }
    const absl::Time start = absl::FromUnixNanos(decoded->time_nanos());
    const absl::Time end = start + absl::Nanoseconds(decoded->duration_nanos());
    for (PushSender* sender : senders_) {
      const bool parca = sender->backend() == "parca";
      perftools::profiles::Profile profile = *decoded;
      if (parca && type.file == std::string("wall.pb.gz")) {
        RenameWallForParca(&profile);
      }
      // Made by gspyd's own API, through the redaction: redacted again all
      // the same, as every pushed profile (cheap, and one rule for all).
      absl::StatusOr<std::string> pprof =
          redactor_->RedactPprof(GzipCompress(profile.SerializeAsString()));
      if (!pprof.ok()) {
        GSPY_LOG(ERROR) << "capture " << info.id() << ": " << type.file
                        << " not pushed: " << pprof.status().message();
        continue;
      }
      auto push = std::make_shared<PushProfile>();
      push->pprof = *std::move(pprof);
      push->start = start;
      push->end = end;
      push->id = NewProfileId();
      push->labels = base;
      for (auto& [k, v] : push->labels) {
        if (k == "__name__") v = parca ? type.parca : type.pyroscope;
      }
      std::sort(push->labels.begin(), push->labels.end());
      redactor_->RedactLabelPairs(&push->labels);
      sender->Enqueue(std::move(push));
      ++queued;
    }
  }
  GSPY_LOG(INFO) << "capture " << info.id() << ": " << queued
                 << " profile(s) queued to the push backends";
  return queued;
}

}  // namespace gspy
