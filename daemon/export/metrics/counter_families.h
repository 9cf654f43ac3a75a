// A BPF counter table (daemon/sources/kernel/counter_table.h) as metric
// families: one counter family per counter the table names a metric for,
// with the table's name and help.
#ifndef GSPY_DAEMON_EXPORT_METRICS_COUNTER_FAMILIES_H_
#define GSPY_DAEMON_EXPORT_METRICS_COUNTER_FAMILIES_H_

#include <string>
#include <utility>

#include "base/metrics_registry.h"
#include "daemon/sources/kernel/counter_table.h"

namespace gspy {

template <typename Counters>
void AppendCounterFamilies(const Counters& counters, MetricFamilies* out) {
  for (const CounterColumn<Counters>& column : Counters::Columns()) {
    if (column.metric[0] == '\0') continue;
    MetricFamily f(column.metric, MetricType::kCounter, column.help);
    f.Add({}, static_cast<double>(counters.*column.field));
    out->push_back(std::move(f));
  }
}

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_COUNTER_FAMILIES_H_
