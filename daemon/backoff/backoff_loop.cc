#include "daemon/backoff/backoff_loop.h"

#include <utility>

#include "absl/time/clock.h"
#include "base/log.h"

namespace gspy {

BackoffLoop::BackoffLoop(BackoffOptions options, SignalSources sources,
                         Apply apply)
    : options_(options),
      reader_(std::move(sources)),
      governor_(options),
      apply_(std::move(apply)) {
  if (options_.enabled) thread_ = std::thread([this] { Run(); });
}

BackoffLoop::~BackoffLoop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

BackoffState BackoffLoop::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

void BackoffLoop::Run() {
  reader_.Read(absl::Now());  // the CPU clock's first reading
  double applied = 1;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      // Wakes once an interval (or at once to stop).
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.interval)) {
        return;
      }
    }
    const absl::Time now = absl::Now();
    const double scale = governor_.Tick(now, reader_.Read(now));
    if (scale != applied) {
      GSPY_LOG(INFO) << "back-off: sampling at " << scale
                     << " of the configured rates (reason: "
                     << BackoffReasonName(governor_.reason()) << ", pressure "
                     << governor_.pressure() << ")";
      apply_(scale);
      applied = scale;
    }
    absl::MutexLock lock(&mu_);
    state_ = {scale, governor_.reason(), governor_.pressure()};
  }
}

}  // namespace gspy
