// A CPU-style profile built the way the daemon will build one: two sample
// types like runtime/pprof's CPU profile, an inlined frame, string and
// numeric labels. Shared by the builder, decoder and go tool pprof tests.
#ifndef GSPY_TESTS_UNIT_PROFILE_PPROF_TEST_PROFILES_H_
#define GSPY_TESTS_UNIT_PROFILE_PPROF_TEST_PROFILES_H_

#include <memory>

#include "absl/time/time.h"
#include "golang/binary/go_binary.h"
#include "profile/pprof/profile_builder.h"

namespace gspy::testing {

inline std::unique_ptr<ProfileBuilder> MakeCpuProfile() {
  auto b = std::make_unique<ProfileBuilder>(
      std::vector<ValueType>{{"samples", "count"}, {"cpu", "nanoseconds"}},
      ValueType{"cpu", "nanoseconds"}, 10'000'000);
  b->SetTime(absl::FromUnixSeconds(1'700'000'000), absl::Seconds(10));
  b->AddComment("built by gspy tests");
  const uint64_t m = b->AddMapping({.memory_start = 0x400000,
                                    .memory_limit = 0x800000,
                                    .filename = "/app/server",
                                    .build_id = "abc123"});
  // main.handle with main.parseRequest inlined into it (innermost first).
  const Frame inlined[] = {
      {"main.parseRequest", "/src/app/parse.go", 12, 10, true},
      {"main.handle", "/src/app/main.go", 40, 30, false}};
  const Frame main_frame[] = {{"main.main", "/src/app/main.go", 20, 15, false}};
  const Frame work_frame[] = {
      {"main.computeHash", "/src/app/hash.go", 7, 5, false}};
  const uint64_t l_handle = b->LocationId(m, 0x401000, inlined);
  const uint64_t l_main = b->LocationId(m, 0x402000, main_frame);
  const uint64_t l_hash = b->LocationId(m, 0x403000, work_frame);
  const uint64_t l_kernel = b->SyntheticLocationId("[kernel] do_syscall_64");

  const SampleLabel checkout[] = {
      {.key = "handler", .str = "checkout"},
      {.key = "bytes", .num = 4096, .num_unit = "bytes", .is_num = true}};
  const SampleLabel search[] = {{.key = "handler", .str = "search"}};
  const uint64_t s1[] = {l_handle, l_main};
  const uint64_t s2[] = {l_hash, l_handle, l_main};
  const uint64_t s3[] = {l_kernel, l_hash, l_main};
  b->AddSample(s1, {3, 30'000'000}, checkout);
  b->AddSample(s2, {5, 50'000'000}, checkout);
  b->AddSample(s3, {2, 20'000'000}, search);
  return b;
}

}  // namespace gspy::testing

#endif  // GSPY_TESTS_UNIT_PROFILE_PPROF_TEST_PROFILES_H_
