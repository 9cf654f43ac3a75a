// RingReader: the thread that drains a BPF ring buffer. The BPF programs
// write without waking anyone (BPF_RB_NO_WAKEUP: a wakeup per event cost
// the machine more than the probe hit), so the reader drains the ring every
// `interval` while active, and sleeps on a condition while idle: an idle
// daemon must not wake up (on a small VM ~200 wakeups a second of gspyd
// cost an HTTP server on the next CPU 10% of its throughput).
#ifndef GSPY_DAEMON_SOURCES_KERNEL_RING_READER_H_
#define GSPY_DAEMON_SOURCES_KERNEL_RING_READER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct ring_buffer;

namespace gspy {

class RingReader {
 public:
  // Called on the reader's thread (or Flush's caller) for each record;
  // `size` bytes of `data` are valid.
  using Handler = std::function<void(const void* data, size_t size)>;

  // Reads the ring buffer map `map_fd`. Starts idle.
  static absl::StatusOr<std::unique_ptr<RingReader>> Open(
      int map_fd, absl::Duration interval, Handler handler);
  // Stops the thread after a last drain.
  ~RingReader();

  // Whether someone wants the events now: the thread drains only then.
  void SetActive(bool active);
  // Delivers every record already in the ring.
  void Flush();

 private:
  RingReader(absl::Duration interval, Handler handler)
      : interval_(interval), handler_(std::move(handler)) {}
  static int OnRecord(void* ctx, void* data, size_t size);
  void Loop();
  bool ActiveOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || active_;
  }

  const absl::Duration interval_;
  const Handler handler_;
  ring_buffer* ring_ = nullptr;
  std::thread thread_;
  absl::Mutex consume_mu_;  // serializes ring_buffer__consume

  absl::Mutex mu_;
  bool active_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gspy

#endif  // GSPY_DAEMON_SOURCES_KERNEL_RING_READER_H_
