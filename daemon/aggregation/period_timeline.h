// PeriodTimeline: when, within one CPU profile, gspyd sampled at which
// period. gspyd lowers the sampling rate under load (back-off) and raises
// it again after; a profile that only said "periods from 10 to 50 ms" would
// not tell whether the slow stretch was the first second or the last ten,
// which is what a reader needs to judge the profile's detail over time.
#ifndef GSPY_DAEMON_AGGREGATION_PERIOD_TIMELINE_H_
#define GSPY_DAEMON_AGGREGATION_PERIOD_TIMELINE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gspy {

class PeriodTimeline {
 public:
  // At most `max_runs` stretches of one period are kept, so memory stays
  // bounded whatever the rate does; the samples after that are only counted.
  explicit PeriodTimeline(size_t max_runs = 16) : max_runs_(max_runs) {}

  // One sample, taken at `time_ns` (any monotonic clock) at `period_ns`.
  // Samples come from per-CPU rings, so one taken just before a change of
  // period may arrive just after it: it is counted in the stretch it
  // belongs to, not as a change back and forth.
  void Add(uint64_t time_ns, int64_t period_ns);

  // True when more than one period was seen.
  bool changed() const { return runs_.size() > 1 || later_samples_ > 0; }

  // "0.0-3.2 s every 10.1 ms (99.0 Hz, 320 samples); 3.2-9.8 s every ..."
  // with times in seconds from the first sample.
  std::string Describe() const;

 private:
  struct Run {
    uint64_t first_ns = 0;
    uint64_t last_ns = 0;
    int64_t period_ns = 0;
    int64_t samples = 0;
  };
  const size_t max_runs_;
  std::vector<Run> runs_;
  // Samples after the list overflowed.
  int64_t later_samples_ = 0;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_AGGREGATION_PERIOD_TIMELINE_H_
