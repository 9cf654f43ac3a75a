#include "daemon/sources/kernel/ring_reader.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gspy {

absl::StatusOr<std::unique_ptr<RingReader>> RingReader::Open(
    int map_fd, absl::Duration interval, Handler handler) {
  std::unique_ptr<RingReader> r(new RingReader(interval, std::move(handler)));
  r->ring_ = ring_buffer__new(map_fd, &RingReader::OnRecord, r.get(), nullptr);
  if (r->ring_ == nullptr) {
    return absl::InternalError(absl::StrCat("ring buffer: ", strerror(errno)));
  }
  r->thread_ = std::thread([p = r.get()] { p->Loop(); });
  return r;
}

RingReader::~RingReader() {
  {
    absl::MutexLock lock(&mu_);  // wakes the idle wait
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (ring_ != nullptr) ring_buffer__free(ring_);
}

int RingReader::OnRecord(void* ctx, void* data, size_t size) {
  static_cast<RingReader*>(ctx)->handler_(data, size);
  return 0;
}

void RingReader::SetActive(bool active) {
  absl::MutexLock lock(&mu_);
  active_ = active;
}

void RingReader::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &RingReader::ActiveOrStopping));
      if (stop_) break;
    }
    absl::SleepFor(interval_);
    absl::MutexLock lock(&consume_mu_);
    if (ring_buffer__consume(ring_) < 0) return;
  }
  Flush();
}

void RingReader::Flush() {
  absl::MutexLock lock(&consume_mu_);
  ring_buffer__consume(ring_);
}

}  // namespace gspy
