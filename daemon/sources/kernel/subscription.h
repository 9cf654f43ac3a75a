// Subscription: a consumer's claim on a source's events for one target (a
// process). Every source hands them out the same way,
//   absl::StatusOr<Subscription> Subscribe(const GoProcess& target, sink);
// and the source delivers the target's events to the sink until the
// subscription is cancelled or destroyed. A source that is not fed by BPF
// (a sampler reading /proc, say) plugs into the same model.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_SUBSCRIPTION_H_
#define GSPY_DAEMON_SOURCES_KERNEL_SUBSCRIPTION_H_

#include <functional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gspy {

class Subscription {
 public:
  // An inactive subscription (nothing to cancel).
  Subscription() = default;
  // `cancel` ends the subscription; it runs once, at Cancel or destruction.
  explicit Subscription(std::function<void()> cancel)
      : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept
      : cancel_(std::exchange(other.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      Cancel();
      cancel_ = std::exchange(other.cancel_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { Cancel(); }

  // Ends the subscription now; no-op when it has ended.
  void Cancel() {
    if (!cancel_) return;
    std::function<void()> cancel = std::exchange(cancel_, nullptr);
    cancel();
  }
  bool active() const { return static_cast<bool>(cancel_); }

 private:
  std::function<void()> cancel_;
};

// The subscriptions of one consumer over several targets (a pull's),
// ended together.
class Subscriptions {
 public:
  // Keeps `s` when it is ok; returns its status.
  absl::Status Add(absl::StatusOr<Subscription> s) {
    if (!s.ok()) return s.status();
    held_.push_back(*std::move(s));
    return absl::OkStatus();
  }
  // Ends them all, in the order they started.
  void Clear() { held_.clear(); }

 private:
  std::vector<Subscription> held_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_SUBSCRIPTION_H_
