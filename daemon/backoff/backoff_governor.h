// BackoffGovernor: how much of its configured sampling gspyd may do now.
// Pure policy: fed gspyd's own CPU use, its resident memory, the ring-buffer
// losses and the node's pressure (PSI) once a tick, it returns a scale in
// [min_scale, 1] that the sources multiply their rates by (CPU Hz, sweep
// budget, block recording budget). It drops fast (at once, by how far the
// worst signal is over its limit, at most halving a tick) and recovers
// slowly (a step a tick, only after every signal has stayed well under its
// limit for a while): between the two thresholds it holds, so the rate does
// not flap.
#ifndef GSPY_DAEMON_BACKOFF_BACKOFF_GOVERNOR_H_
#define GSPY_DAEMON_BACKOFF_BACKOFF_GOVERNOR_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gspy {

struct BackoffOptions {
  bool enabled = true;
  // gspyd's CPU time per second, in cores. 0: no limit.
  double cpu_budget_cores = 0.5;
  // Weight of the newest tick in the moving average of the CPU use: one
  // second of symbolizing a large binary is no reason to back off, seconds
  // of it are.
  double cpu_smoothing = 0.3;
  // gspyd's resident memory. 0: no limit.
  int64_t memory_budget_bytes = 0;
  // The node's pressure: PSI "some avg10", in percent. 0: ignored.
  // CPU pressure is off by default: a saturated node (a task nearly always
  // waits for a CPU) is when its CPU profiles matter most, and gspyd's own
  // share of it is what cpu_budget_cores bounds. On a 2-vCPU VM under load
  // 15-30 it stayed above 90% and took gspyd down to its floor.
  double psi_cpu_percent = 0;
  double psi_memory_percent = 20;
  // Any ring-buffer loss in a tick counts as this far over the limit.
  double ring_loss_pressure = 2;
  // A quarter of the rates keeps profiles usable (25 Hz of 99) while
  // cutting gspyd's sampling cost by four; lower it for harder limits.
  double min_scale = 0.25;
  // Recovery: once every signal has stayed below recover_below x its limit
  // for recover_after, the scale grows by recover_step a tick.
  double recover_below = 0.8;
  absl::Duration recover_after = absl::Seconds(30);
  double recover_step = 0.05;
  // How often the signals are read (BackoffLoop).
  absl::Duration interval = absl::Seconds(1);
};

// One tick's readings. A negative value: no reading (a missing PSI file,
// the first tick of the CPU clock), which never counts as pressure.
struct BackoffSignals {
  double cpu_cores = -1;  // gspyd's CPU use since the last tick
  int64_t rss_bytes = -1;
  uint64_t ring_losses = 0;  // records lost since the last tick
  double psi_cpu_some_avg10 = -1;
  double psi_memory_some_avg10 = -1;
};

// Which signal last lowered the scale (kNone once it is back at 1).
enum class BackoffReason {
  kNone,
  kCpu,
  kMemory,
  kRingLosses,
  kPsiCpu,
  kPsiMemory,
};
inline constexpr BackoffReason kAllBackoffReasons[] = {
    BackoffReason::kNone,   BackoffReason::kCpu,
    BackoffReason::kMemory, BackoffReason::kRingLosses,
    BackoffReason::kPsiCpu, BackoffReason::kPsiMemory};
// "none", "cpu", "memory", "ring_losses", "psi_cpu", "psi_memory".
absl::string_view BackoffReasonName(BackoffReason reason);

class BackoffGovernor {
 public:
  explicit BackoffGovernor(BackoffOptions options) : options_(options) {}

  // Takes one tick's readings at `now`; returns the scale from now on.
  double Tick(absl::Time now, const BackoffSignals& signals);

  double scale() const { return scale_; }
  BackoffReason reason() const { return reason_; }
  // The worst signal's reading over its limit at the last tick (0: none).
  double pressure() const { return pressure_; }

 private:
  const BackoffOptions options_;
  double scale_ = 1;
  BackoffReason reason_ = BackoffReason::kNone;
  double pressure_ = 0;
  double cpu_average_ = 0;  // from 0: a first reading alone is a spike
  bool loud_ever_ = false;
  absl::Time last_loud_;  // when a signal was last above recover_below
};

}  // namespace gspy

#endif  // GSPY_DAEMON_BACKOFF_BACKOFF_GOVERNOR_H_
