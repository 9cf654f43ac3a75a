// A BlockSink that feeds one or more BlockProfiles (a wall-clock pull feeds
// its block and scheduling-latency halves from the same waits).
#ifndef GSPY_DAEMON_SERVICE_BLOCK_PROFILE_SINK_H_
#define GSPY_DAEMON_SERVICE_BLOCK_PROFILE_SINK_H_

#include <vector>

#include "daemon/aggregator/block_profile.h"
#include "daemon/block/block_tracker.h"

namespace gspy {

class BlockProfileSink final : public BlockSink {
 public:
  explicit BlockProfileSink(std::vector<BlockProfile*> profiles)
      : profiles_(std::move(profiles)) {}
  // Called from the tracker's poll thread.
  void AddWait(const gspy_block_event& wait,
               absl::Span<const uint64_t> stack) override {
    for (BlockProfile* p : profiles_) p->Add(wait, stack);
  }

 private:
  const std::vector<BlockProfile*> profiles_;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SERVICE_BLOCK_PROFILE_SINK_H_
