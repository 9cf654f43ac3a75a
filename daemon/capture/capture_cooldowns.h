// CaptureCooldowns: when each rule last fired for each process, so that a
// rule that goes on holding captures once per --capture-cooldown. A process
// is its pid and its start time (a pid alone may be reused), a rule is its
// text as written; both are kept with every capture (CaptureInfo), so the
// cooldowns of a restarted gspyd are read back from its store: a restart
// while the rule still holds does not capture again at once.
#ifndef GSPY_DAEMON_CAPTURE_CAPTURE_COOLDOWNS_H_
#define GSPY_DAEMON_CAPTURE_CAPTURE_COOLDOWNS_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "proto/gspy/v1/profiler.pb.h"

namespace gspy {

class CaptureCooldowns {
 public:
  explicit CaptureCooldowns(absl::Duration cooldown) : cooldown_(cooldown) {}

  // The firings the stored captures record (those whose process start is
  // known), newest kept per rule and process. Rules no longer configured
  // are left out: a changed rule is a new rule.
  void Restore(const std::vector<gspy::v1::CaptureInfo>& stored,
               const std::vector<std::string>& rules);

  // Whether `rule` fired for the process within the cooldown before `at`.
  bool Within(const std::string& rule, int pid, uint64_t start_ticks,
              absl::Time at) const;
  // `rule` fires for the process at `at`.
  void Fired(const std::string& rule, int pid, uint64_t start_ticks,
             absl::Time at);

  size_t size() const { return last_.size(); }

 private:
  using Key = std::tuple<std::string, int, uint64_t>;
  // Forgets the firings whose cooldown is over: they no longer matter, and
  // short-lived processes would otherwise pile up.
  void Prune(absl::Time now);

  const absl::Duration cooldown_;
  std::map<Key, absl::Time> last_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_CAPTURE_CAPTURE_COOLDOWNS_H_
