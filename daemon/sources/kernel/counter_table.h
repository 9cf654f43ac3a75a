// The daemon's side of a BPF program's counter table (bpf/*_types.h lists
// each program's counters once, as X(name, metric, help)). From a table,
//   GSPY_COUNTERS_STRUCT(BlockCounters, GSPY_BLOCK_COUNTERS);
// makes a struct with one uint64_t per counter and Columns(): per counter,
// in map order, its field, metric name and help. ReadCounters fills such a
// struct from the program's per-CPU counters map.
#ifndef GSPY_DAEMON_SOURCES_KERNEL_COUNTER_TABLE_H_
#define GSPY_DAEMON_SOURCES_KERNEL_COUNTER_TABLE_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"

namespace gspy {

template <typename Counters>
struct CounterColumn {
  uint64_t Counters::*field;
  const char* metric;  // "": not exported on its own
  const char* help;
};

#define GSPY_COUNTER_FIELD(name, metric, help) uint64_t name = 0;
#define GSPY_COUNTER_COLUMN(name, metric, help) {&Self::name, metric, help},
#define GSPY_COUNTERS_STRUCT(Type, TABLE)                            \
  struct Type {                                                      \
    TABLE(GSPY_COUNTER_FIELD)                                        \
    /* Column i is the counter at index i of the BPF map. */         \
    static absl::Span<const ::gspy::CounterColumn<Type>> Columns() { \
      using Self = Type;                                             \
      static constexpr ::gspy::CounterColumn<Type> kColumns[] = {    \
          TABLE(GSPY_COUNTER_COLUMN)};                               \
      return kColumns;                                               \
    }                                                                \
  }

// Fills a counters struct from `sum(index)`, the total of the counter at
// that index of the program's map.
template <typename Counters>
Counters ReadCounters(absl::FunctionRef<uint64_t(uint32_t)> sum) {
  Counters out;
  uint32_t index = 0;
  for (const CounterColumn<Counters>& column : Counters::Columns()) {
    out.*column.field = sum(index++);
  }
  return out;
}

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_COUNTER_TABLE_H_
