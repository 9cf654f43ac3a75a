// Whether a count sampled over time "keeps growing": the statistics behind
// goroutine leak detection (leak_detector.h), kept apart so the criterion can
// be tested and tuned on plain numbers.
//
// A count keeps growing when all of these hold (GrowthCriterion):
//  1. it was sampled at least `min_points` times;
//  2. its net growth, the last count minus the first, is at least
//     `min_growth` (a handful of new goroutines is not worth a report);
//  3. the least-squares line through (time, count) rises and fits: slope > 0
//     and R^2 >= `min_r2`. A population that comes and goes (requests, worker
//     pools) scatters around a flat or poorly fitting line;
//  4. every count of the last third exceeds every count of the first third:
//     the growth is larger than the fluctuation around it, so one lucky
//     low start or high end does not make a trend;
//  5. it is still at its high at the end: the highest count is in the last
//     third, and the last count is within a quarter of the range (highest
//     minus lowest) of it. A group that grew and then shrank has stopped
//     growing, whatever its line says.
// The rate reported is the slope, in goroutines per second.
#ifndef GSPY_GOLANG_GOROUTINES_SERIES_GROWTH_H_
#define GSPY_GOLANG_GOROUTINES_SERIES_GROWTH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace gspy {

struct GrowthCriterion {
  int min_points = 6;
  int64_t min_growth = 10;
  double min_r2 = 0.8;
};

struct CountPoint {
  absl::Time time;
  int64_t count = 0;
};

struct LinearFit {
  double slope = 0;      // count per second
  double intercept = 0;  // at the first point's time
  double r2 = 0;         // 0 when the counts do not vary (nothing to explain)
};

// Least squares of count on seconds since points[0].time. Needs 2+ points
// at distinct times; otherwise all zero.
LinearFit FitLine(const std::vector<CountPoint>& points);

struct GrowthVerdict {
  bool growing = false;
  LinearFit fit;
  // Why it is not growing, by the first criterion that failed ("" when it
  // is): for the curious, and for the tests to check the right rule fired.
  std::string reason;
};

// `points` in time order.
GrowthVerdict JudgeGrowth(const std::vector<CountPoint>& points,
                          const GrowthCriterion& criterion);

}  // namespace gspy

#endif  // GSPY_GOLANG_GOROUTINES_SERIES_GROWTH_H_
