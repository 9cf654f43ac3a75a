#include "golang/goroutines/series_growth.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gspy {

LinearFit FitLine(const std::vector<CountPoint>& points) {
  LinearFit fit;
  const size_t n = points.size();
  if (n < 2) return fit;
  double mean_x = 0, mean_y = 0;
  std::vector<double> xs(n);
  for (size_t i = 0; i < n; ++i) {
    xs[i] = absl::ToDoubleSeconds(points[i].time - points[0].time);
    mean_x += xs[i];
    mean_y += static_cast<double>(points[i].count);
  }
  mean_x /= static_cast<double>(n);
  mean_y /= static_cast<double>(n);
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double dx = xs[i] - mean_x;
    const double dy = static_cast<double>(points[i].count) - mean_y;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx <= 0) return fit;
  fit.slope = sxy / sxx;
  fit.intercept = mean_y - fit.slope * mean_x;
  // R^2 = explained / total variance; a constant count has none to explain.
  fit.r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0;
  return fit;
}

GrowthVerdict JudgeGrowth(const std::vector<CountPoint>& points,
                          const GrowthCriterion& criterion) {
  GrowthVerdict v;
  const int n = static_cast<int>(points.size());
  if (n < std::max(criterion.min_points, 2)) {
    v.reason = absl::StrCat("only ", n, " snapshots (", criterion.min_points,
                            " needed)");
    return v;
  }
  v.fit = FitLine(points);
  const int64_t growth = points.back().count - points.front().count;
  if (growth < criterion.min_growth) {
    v.reason = absl::StrCat("net growth ", growth, " < ", criterion.min_growth);
    return v;
  }
  if (v.fit.slope <= 0 || v.fit.r2 < criterion.min_r2) {
    v.reason = absl::StrFormat("line slope %.3g/s R2 %.2f (needs > 0, >= %.2f)",
                               v.fit.slope, v.fit.r2, criterion.min_r2);
    return v;
  }
  const int third = std::max(1, n / 3);
  int64_t first_max = points[0].count, last_min = points[n - 1].count;
  for (int i = 0; i < third; ++i) {
    first_max = std::max(first_max, points[i].count);
    last_min = std::min(last_min, points[n - 1 - i].count);
  }
  if (last_min <= first_max) {
    v.reason = absl::StrCat("last third's minimum ", last_min,
                            " <= first third's maximum ", first_max);
    return v;
  }
  int peak = 0;
  for (int i = 1; i < n; ++i) {
    if (points[i].count >= points[peak].count) peak = i;
  }
  if (peak < n - third) {
    v.reason = absl::StrCat("peaked at snapshot ", peak + 1, " of ", n,
                            ", before the last third");
    return v;
  }
  int64_t lowest = points[0].count;
  for (const CountPoint& p : points) lowest = std::min(lowest, p.count);
  const int64_t peak_count = points[peak].count;
  if (4 * (peak_count - points[n - 1].count) > peak_count - lowest) {
    v.reason = absl::StrCat("fell back from its peak ", peak_count, " to ",
                            points[n - 1].count, " at the end");
    return v;
  }
  v.growing = true;
  return v;
}

}  // namespace gspy
