// CapturePusher: gspyd --capture-push. A capture that fired (daemon/capture)
// goes to the push backends too, next to the continuous profiles: its CPU
// and wall profiles and its goroutine dump (a goroutine-count profile), each
// named as the backend names that type (push_types.h), on the series of its
// process with two labels more that mark it as a capture:
// gspy_capture_rule (the rule as written) and gspy_capture_id (for
// `gspy captures get`). Through the same senders and queues as continuous
// mode, so the same bounds, retries and metrics.
#ifndef GSPY_DAEMON_EXPORT_PUSH_CAPTURE_PUSH_H_
#define GSPY_DAEMON_EXPORT_PUSH_CAPTURE_PUSH_H_

#include <string>
#include <vector>

#include "daemon/capture/capture_store.h"
#include "daemon/export/push/push_profile.h"
#include "daemon/export/push/push_sender.h"
#include "golang/process/go_process.h"
#include "profile/redact/redactor.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

inline constexpr char kCaptureRuleLabel[] = "gspy_capture_rule";
inline constexpr char kCaptureIdLabel[] = "gspy_capture_id";

class CapturePusher {
 public:
  // Nothing is owned; the senders and the redactor outlive the pusher.
  CapturePusher(std::vector<PushSender*> senders, PushLabelOptions labels,
                const Redactor* redactor)
      : senders_(std::move(senders)),
        labels_(std::move(labels)),
        redactor_(redactor) {}

  // Queues the capture's profiles to every backend; how many were queued
  // (per backend, each profile counts once). Files that do not decode are
  // left out (logged).
  int Push(const GoProcess& process, const gspy::v1::CaptureInfo& info,
           const std::vector<CaptureFileData>& files);

 private:
  const std::vector<PushSender*> senders_;
  const PushLabelOptions labels_;
  const Redactor* const redactor_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_PUSH_CAPTURE_PUSH_H_
