#include "golang/profiles/bucket_list.h"

#include <cstring>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gspy {
namespace {

constexpr uint64_t kBlockRecordBytes = 16;
// Read with the header at once: most stacks are this short or shorter.
constexpr uint64_t kSpeculativeStack = 32;
// No allocation is near this large; a bigger size is not a real bucket.
constexpr uint64_t kMaxSize = uint64_t{1} << 48;

uint64_t Word(const std::string& b, size_t i) {
  uint64_t v;
  memcpy(&v, b.data() + 8 * i, 8);
  return v;
}

void ParseRecord(const std::string& rec, BucketType type, size_t words,
                 RawBucket* b) {
  if (type == BucketType::kMemory) {
    MemCycle* cycles[4] = {&b->active, &b->future[0], &b->future[1],
                           &b->future[2]};
    for (size_t c = 0; c < 4; ++c) {
      MemCycle& m = *cycles[c];
      m.allocs = Word(rec, words * c);
      m.frees = Word(rec, words * c + 1);
      if (words == 4) {
        m.alloc_bytes = Word(rec, 4 * c + 2);
        m.free_bytes = Word(rec, 4 * c + 3);
      } else {
        m.alloc_bytes = m.allocs * b->size;
        m.free_bytes = m.frees * b->size;
      }
    }
    return;
  }
  uint64_t bits = Word(rec, 0);
  memcpy(&b->count, &bits, 8);
  b->cycles = static_cast<int64_t>(Word(rec, 1));
}

}  // namespace

absl::StatusOr<BucketList> ReadBucketList(const MemorySource& memory,
                                          uint64_t head_addr, BucketType type,
                                          const BucketListLimits& limits) {
  if (limits.mem_cycle_words != 2 && limits.mem_cycle_words != 4) {
    return absl::InvalidArgumentError("memRecordCycle has 2 or 4 words");
  }
  // active + future[3]
  const uint64_t record_bytes =
      type == BucketType::kMemory
          ? uint64_t{4} * 8 * static_cast<uint64_t>(limits.mem_cycle_words)
          : kBlockRecordBytes;
  BucketList out;
  absl::StatusOr<uint64_t> head = memory.ReadU64(head_addr);
  if (!head.ok()) {
    if (absl::IsNotFound(head.status())) return head.status();
    return absl::DataLossError(
        absl::StrCat("bucket list head at 0x", absl::Hex(head_addr),
                     " unreadable: ", head.status().message()));
  }
  absl::flat_hash_set<uint64_t> seen;
  std::string buf;
  std::string first_records;  // each kept bucket's record, as walked
  for (uint64_t addr = *head; addr != 0;) {
    if (!seen.insert(addr).second) {
      return absl::DataLossError(
          absl::StrCat("bucket list is cyclic: bucket 0x", absl::Hex(addr),
                       " seen twice after ", seen.size(), " buckets"));
    }
    if (seen.size() > limits.max_buckets) {
      return absl::DataLossError(absl::StrCat("bucket list longer than ",
                                              limits.max_buckets, " buckets"));
    }
    // The header and a short stack and record in one read; the exact size
    // when that runs past the mapping (all or nothing) or the stack is
    // longer.
    const uint64_t spec =
        kBucketHeaderBytes + 8 * kSpeculativeStack + record_bytes;
    buf.resize(spec);
    absl::Status st = memory.Read(addr, absl::MakeSpan(buf));
    if (!st.ok()) {
      if (absl::IsNotFound(st)) return st;
      buf.resize(kBucketHeaderBytes);
      st = memory.Read(addr, absl::MakeSpan(buf));
    }
    if (!st.ok()) {
      if (absl::IsNotFound(st)) return st;
      return absl::DataLossError(
          absl::StrCat("bucket 0x", absl::Hex(addr), " unreadable after ",
                       out.buckets.size(), " buckets: ", st.message()));
    }
    const uint64_t next = Word(buf, 1);  // allnext
    const uint64_t typ = Word(buf, 2);
    const uint64_t size = Word(buf, 4);
    const uint64_t nstk = Word(buf, 5);
    if (typ != static_cast<uint64_t>(type) || nstk > limits.max_stack ||
        (type == BucketType::kMemory && (size == 0 || size > kMaxSize))) {
      ++out.bad_headers;
      addr = next;
      continue;
    }
    const uint64_t body = kBucketHeaderBytes + 8 * nstk + record_bytes;
    if (buf.size() < body) {
      buf.resize(body);
      st = memory.Read(addr, absl::MakeSpan(buf));
      if (absl::IsNotFound(st)) return st;
      if (!st.ok()) {
        ++out.bad_headers;
        addr = next;
        continue;
      }
    }
    RawBucket b;
    b.addr = addr;
    b.size = size;
    b.stack.resize(nstk);
    if (nstk > 0) {
      memcpy(b.stack.data(), buf.data() + kBucketHeaderBytes, 8 * nstk);
    }
    out.buckets.push_back(std::move(b));
    first_records.append(buf, kBucketHeaderBytes + 8 * nstk, record_bytes);
    addr = next;
  }
  // The records are counted into while we read: a record counts when a
  // second read agrees with the walk's. The second reads go in batches
  // (ReadMany: few system calls); a record that changed in between is read
  // again on its own until two reads in a row agree.
  const size_t n = out.buckets.size();
  auto rec_addr = [&](const RawBucket& b) {
    return b.addr + kBucketHeaderBytes + 8 * b.stack.size();
  };
  std::string second(first_records.size(), '\0');
  std::vector<MemoryRange> ranges(n);
  for (size_t i = 0; i < n; ++i) {
    ranges[i] = {
        rec_addr(out.buckets[i]),
        absl::MakeSpan(second.data() + i * record_bytes, record_bytes)};
  }
  std::vector<bool> ok;
  if (n > 0) {
    absl::Status st = memory.ReadMany(ranges, &ok);
    if (!st.ok()) return st;
  }
  std::vector<RawBucket> kept;
  kept.reserve(n);
  std::string prev, rec(record_bytes, '\0');
  for (size_t i = 0; i < n; ++i) {
    prev = first_records.substr(i * record_bytes, record_bytes);
    bool stable = false;
    if (i < ok.size() && ok[i]) {
      rec = second.substr(i * record_bytes, record_bytes);
      stable = rec == prev;
      prev = rec;
    }
    for (int t = 0; t < limits.torn_retries && !stable; ++t) {
      absl::Status st = memory.Read(ranges[i].addr, absl::MakeSpan(rec));
      if (absl::IsNotFound(st)) return st;
      if (!st.ok()) break;
      stable = rec == prev;
      prev = rec;
    }
    if (!stable) {
      ++out.torn_records;
      continue;
    }
    ParseRecord(rec, type, limits.mem_cycle_words, &out.buckets[i]);
    kept.push_back(std::move(out.buckets[i]));
  }
  out.buckets = std::move(kept);
  return out;
}

}  // namespace gspy
