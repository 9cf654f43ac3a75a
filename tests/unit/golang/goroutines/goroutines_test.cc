// The goroutine dump's parsers on synthetic memory: allgs discovery, g
// decoding, labels (slice and map), the unwinder, torn and garbage reads,
// and the core-file source.
#include <elf.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "golang/binary/layout_table.h"
#include "golang/goroutines/allgs_finder.h"
#include "golang/goroutines/g_struct.h"
#include "golang/goroutines/goroutine_dump.h"
#include "golang/goroutines/labels_reader.h"
#include "golang/goroutines/memory_source.h"
#include "golang/goroutines/pc_info_memo.h"
#include "golang/goroutines/stack_unwinder.h"
#include "golang/runtime/wait_reasons.h"
#include "gtest/gtest.h"
#include "tests/unit/testing/fake_go_binary.h"
#include "tests/unit/testing/fake_go_memory.h"

namespace gspy {
namespace {

using testing::FakeGoBinary;
using testing::FakeMemory;
using testing::Image;
using testing::kAllgs;
using testing::kArray;
using testing::kBgsweep;
using testing::kBlock;
using testing::kForEachG;
using testing::kGoexit;
using testing::kGopark;
using testing::PutSliceLabels;

TEST(DataReferences, Amd64RipRelative) {
  // From go1.26.8's runtime.forEachG: MOVQ runtime.allgs(SB), CX at
  // 0x44a0e5, allgs at 0x583db0 (go tool nm).
  const std::string code("\x48\x8b\x0d\xc4\x9c\x13\x00", 7);
  absl::StatusOr<std::vector<uint64_t>> refs =
      DataReferences(code, 0x44a0e5, "amd64");
  ASSERT_TRUE(refs.ok()) << refs.status();
  EXPECT_EQ(*refs, std::vector<uint64_t>{0x583db0});
  EXPECT_FALSE(DataReferences(code, 0, "riscv64").ok());
}

TEST(Allgs, FoundByDecodingAndChecked) {
  Image im;
  im.AddG(0x10000, 1, kGWaiting, 0x7000000);
  im.AddG(0x11000, 2, kGDead, 0x7100000);
  im.SetAllgs({0x10000, 0x11000});
  absl::StatusOr<AllgsLocation> at = FindAllgs(im.bin, im.mem, 0, im.l());
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->addr, kAllgs);
}

TEST(Allgs, GarbageIsRejected) {
  Image im;
  im.mem.PutU64(kAllgs, kArray);
  im.mem.PutU64(kAllgs + 8, 5);
  im.mem.PutU64(kAllgs + 16, 3);  // len > cap
  absl::StatusOr<AllgsLocation> at = FindAllgs(im.bin, im.mem, 0, im.l());
  EXPECT_EQ(at.status().code(), absl::StatusCode::kFailedPrecondition);
  // Pointers to things that are not g's.
  im.mem.PutU64(kAllgs + 16, 5);
  for (int i = 0; i < 5; ++i) im.mem.PutU64(kArray + i * 8, 0x900000);
  im.mem.Zero(0x900000, 512);
  im.mem.PutU32(0x900000 + im.l().g_atomicstatus, 77);
  EXPECT_FALSE(CheckAllgs(im.mem, im.l(), kAllgs).ok);
}

TEST(Unwind, FromSchedWithPcspFrameSizes) {
  Image im;
  im.AddG(0x10000, 7, kGWaiting, 0x7000000);
  absl::StatusOr<GFields> g = ReadG(im.mem, im.l(), 0x10000);
  ASSERT_TRUE(g.ok());
  UnwoundStack s = UnwindSaved(
      im.mem, im.bin, 0,
      {g->sched_pc, g->sched_sp, g->sched_bp, g->stack_lo, g->stack_hi});
  EXPECT_TRUE(s.complete) << s.error;
  EXPECT_EQ(s.pcs, (std::vector<uint64_t>{kGopark + 0x50, kBlock + 0x20,
                                          kGoexit + 1}));
}

TEST(Unwind, UsesTheStackBytesAndTheMemoItIsGiven) {
  Image im;
  im.AddG(0x10000, 7, kGWaiting, 0x7000000);
  absl::StatusOr<GFields> g = ReadG(im.mem, im.l(), 0x10000);
  ASSERT_TRUE(g.ok());
  const SavedContext ctx{g->sched_pc, g->sched_sp, g->sched_bp, g->stack_lo,
                         g->stack_hi};
  const UnwoundStack plain = UnwindSaved(im.mem, im.bin, 0, ctx);
  ASSERT_TRUE(plain.complete) << plain.error;
  // The caller's copy of the stack is what the walk reads: clobbering the
  // memory after the copy changes nothing.
  absl::StatusOr<std::string> copy =
      im.mem.ReadAt(g->sched_sp, g->stack_hi - g->sched_sp);
  ASSERT_TRUE(copy.ok());
  im.mem.Zero(g->sched_sp, g->stack_hi - g->sched_sp);
  PcInfoMemo memo(im.bin);
  for (int pass = 0; pass < 2; ++pass) {  // the second from the memo
    const UnwoundStack s = UnwindSaved(im.mem, im.bin, 0, ctx, 512,
                                       WrapperFrames::kElide, *copy, &memo);
    EXPECT_TRUE(s.complete) << s.error;
    EXPECT_EQ(s.pcs, plain.pcs);
  }
  // Without the copy, the clobbered stack is what there is.
  EXPECT_FALSE(UnwindSaved(im.mem, im.bin, 0, ctx).complete);
}

TEST(PcInfoMemo, AnswersAsTheBinaryDoesThroughCollisions) {
  Image im;
  PcInfoMemo memo(im.bin);
  // More pcs than slots, twice over: every answer, fresh or remembered or
  // after its slot was taken, is the binary's own.
  int found = 0, missed = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t pc = kGopark; pc < kGopark + 3 * PcInfoMemo::kSlots;
         pc += 3) {
      const PcInfo& info = memo.Lookup(pc);
      const std::optional<FuncInfo> want = im.bin.FindFunction(pc);
      ASSERT_EQ(info.func.has_value(), want.has_value()) << pc;
      if (!want.has_value()) {
        EXPECT_FALSE(info.sp_delta.has_value());
        ++missed;
        continue;
      }
      ++found;
      EXPECT_EQ(info.func->name, want->name);
      EXPECT_EQ(info.func->entry, want->entry);
      EXPECT_EQ(info.sp_delta, im.bin.SpDelta(pc)) << pc;
    }
  }
  // Both kinds of answer were checked.
  EXPECT_GT(found, 0);
  EXPECT_GT(missed, 0);
}

TEST(Unwind, GarbageStackEndsWithAnError) {
  Image im;
  im.AddG(0x10000, 7, kGWaiting, 0x7000000);
  // gopark's return address points back into gopark, with a frame that
  // would not move up: the walk must stop, not loop.
  const uint64_t sp = 0x7002000 - 0x100;
  im.mem.PutU64(sp + 24, 0xdead0000);
  UnwoundStack s = UnwindSaved(im.mem, im.bin, 0,
                               {kGopark + 0x50, sp, 0, 0x7000000, 0x7002000});
  EXPECT_FALSE(s.complete);
  EXPECT_NE(s.error.find("no Go function"), std::string::npos) << s.error;
  // sp outside the stack.
  s = UnwindSaved(im.mem, im.bin, 0,
                  {kGopark + 0x50, 0x1, 0, 0x7000000, 0x7002000});
  EXPECT_TRUE(s.pcs.empty());
  EXPECT_FALSE(s.error.empty());
}

TEST(Labels, Slice) {
  FakeMemory mem;
  PutSliceLabels(mem, 0x20000, {{"worker", "x"}, {"shard", "3"}});
  absl::StatusOr<LabelList> l = ReadLabels(mem, 0x20000, LabelsLayout::kSlice);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(*l, (LabelList{{"shard", "3"}, {"worker", "x"}}));
  // A garbage length is refused, not allocated.
  mem.PutU64(0x20008, uint64_t{1} << 40);
  mem.PutU64(0x20010, uint64_t{1} << 40);
  EXPECT_EQ(ReadLabels(mem, 0x20000, LabelsLayout::kSlice).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(ReadLabels(mem, 0, LabelsLayout::kSlice)->empty());
}

TEST(Labels, MapWithOneBucket) {
  FakeMemory mem;
  const uint64_t label_map = 0x30000, hmap = 0x31000, bucket = 0x32000;
  mem.PutU64(label_map, hmap);
  mem.Zero(hmap, 48);
  mem.PutU64(hmap, 2);  // count; B = 0
  mem.PutU64(hmap + 16, bucket);
  mem.Zero(bucket, 272);
  mem.Put(bucket, std::string("\x00\x09\x00\x07", 4));  // slots 1 and 3 live
  mem.Put(0x33000, "handlercheckoutk2v2");
  auto put_str = [&](uint64_t at, uint64_t ptr, uint64_t len) {
    mem.PutU64(at, ptr);
    mem.PutU64(at + 8, len);
  };
  put_str(bucket + 8 + 1 * 16, 0x33000, 7);        // key 1
  put_str(bucket + 8 + 128 + 1 * 16, 0x33007, 8);  // value 1
  put_str(bucket + 8 + 3 * 16, 0x3300f, 2);        // key 3
  put_str(bucket + 8 + 128 + 3 * 16, 0x33011, 2);  // value 3
  absl::StatusOr<LabelList> l = ReadLabels(mem, label_map, LabelsLayout::kMap);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(*l, (LabelList{{"handler", "checkout"}, {"k2", "v2"}}));
  // A count that the buckets do not hold: torn or garbage.
  mem.PutU64(hmap, 3);
  EXPECT_EQ(ReadLabels(mem, label_map, LabelsLayout::kMap).status().code(),
            absl::StatusCode::kDataLoss);
}

// Makes the goroutine at `g` run between every two reads of it: its
// sched.pc moves at each read (written without a read of its own).
void RunBetweenReads(Image* im, uint64_t g) {
  const uint64_t pc_at = g + im->l().g_sched + im->l().gobuf_pc;
  FakeMemory* mem = &im->mem;
  im->mem.mutate = [reads = 0, mem, pc_at, g](uint64_t addr) mutable {
    if (addr != g) return;
    ++reads;
    mem->PutU64(pc_at, kGopark + (reads % 2 ? 0x50 : 0x60));
  };
}

TEST(Dump, StatesLabelsSystemAndDead) {
  Image im;
  PutSliceLabels(im.mem, 0x40000, {{"k", "v"}});
  im.AddG(0x10000, 1, kGWaiting, 0x7000000, kBlock, 0x40000);
  im.AddG(0x11000, 2, kGRunning, 0x7100000);
  im.AddG(0x12000, 3, kGDead, 0x7200000);
  im.AddG(0x13000, 4, kGWaiting | kGScanBit, 0x7300000, kBgsweep);
  for (uint64_t g : {0x14000, 0x15000, 0x16000}) {
    im.AddG(g, 0, kGDead, 0x7400000 + g * 0x100);
  }
  // One garbage pointer among 8: allgs still checks out (7/8 plausible).
  im.SetAllgs({0x10000, 0x11000, 0x12000, 0x13000, 0x14000, 0x15000, 0x16000,
               0x77770000});
  absl::StatusOr<GoroutineDump> d = TakeGoroutineDump(im.bin, im.mem, 0, {});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->goroutines.size(), 2u);
  const GoroutineRecord& parked = d->goroutines[0];
  EXPECT_EQ(parked.goid, 1u);
  EXPECT_EQ(parked.status, kGWaiting);
  EXPECT_EQ(parked.wait_reason, WaitReasons::ForGoMinor(26)->Name(14));
  ASSERT_NE(parked.labels, nullptr);
  EXPECT_EQ(*parked.labels, (LabelList{{"k", "v"}}));
  EXPECT_EQ(parked.parent_goid, 1u);
  EXPECT_EQ(parked.gopc, kBlock + 0x80);
  EXPECT_TRUE(parked.stack.complete);
  EXPECT_EQ(parked.stack.pcs.size(), 3u);
  const GoroutineRecord& running = d->goroutines[1];
  EXPECT_EQ(running.status, kGRunning);
  EXPECT_FALSE(running.stack_read);
  EXPECT_EQ(d->dead, 4);
  EXPECT_EQ(d->system_skipped, 1);
  EXPECT_EQ(d->unreadable, 1);  // the pointer to nowhere
  EXPECT_EQ(d->dropped, 0);

  DumpOptions with_system;
  with_system.include_system = true;
  d = TakeGoroutineDump(im.bin, im.mem, 0, with_system);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->goroutines.size(), 3u);
  EXPECT_TRUE(d->goroutines[2].system);
  EXPECT_TRUE(d->goroutines[2].scan);
}

TEST(Dump, StatesOnlyReadsNoLabelsNorStacks) {
  Image im;
  PutSliceLabels(im.mem, 0x40000, {{"k", "v"}});
  im.AddG(0x10000, 1, kGWaiting, 0x7000000, kBlock, 0x40000);
  im.AddG(0x11000, 2, kGRunnable, 0x7100000);
  im.AddG(0x13000, 4, kGWaiting, 0x7300000, kBgsweep);
  im.SetAllgs({0x10000, 0x11000, 0x13000});
  // Goroutine 2 runs between every two reads of its g: a full dump drops
  // it, a count of states reads each g once and keeps it.
  RunBetweenReads(&im, 0x11000);
  DumpOptions states;
  states.states_only = true;
  states.include_system = true;
  absl::StatusOr<GoroutineDump> d =
      TakeGoroutineDump(im.bin, im.mem, 0, states);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->goroutines.size(), 3u);
  EXPECT_EQ(d->goroutines[0].wait_reason,
            WaitReasons::ForGoMinor(26)->Name(14));
  EXPECT_EQ(d->goroutines[0].labels, nullptr);
  EXPECT_FALSE(d->goroutines[0].stack_read);
  EXPECT_EQ(d->goroutines[1].status, kGRunnable);
  EXPECT_TRUE(d->goroutines[2].system);
  EXPECT_EQ(d->dropped, 0);
  EXPECT_EQ(d->retried, 0);
}

// A dump given where an earlier one found allgs reads it there: no search
// (which costs dozens of reads); a stale location is an error, not a search.
TEST(Dump, KnownAllgsIsNotSearchedAgain) {
  Image im;
  im.AddG(0x10000, 1, kGWaiting, 0x7000000);
  im.SetAllgs({0x10000});
  absl::StatusOr<GoroutineDump> first =
      TakeGoroutineDump(im.bin, im.mem, 0, {});
  ASSERT_TRUE(first.ok()) << first.status();
  DumpOptions again;
  again.known_allgs = &first->allgs;
  absl::StatusOr<GoroutineDump> second =
      TakeGoroutineDump(im.bin, im.mem, 0, again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->allgs.addr, first->allgs.addr);
  ASSERT_EQ(second->goroutines.size(), 1u);
  EXPECT_EQ(second->goroutines[0].goid, 1u);
  const AllgsLocation nowhere{0xdead0000, "a stale location"};
  DumpOptions stale;
  stale.known_allgs = &nowhere;
  EXPECT_FALSE(TakeGoroutineDump(im.bin, im.mem, 0, stale).ok());
}

TEST(Dump, TornGoroutinesAreRetriedThenDropped) {
  Image im;
  im.AddG(0x10000, 1, kGWaiting, 0x7000000);
  im.AddG(0x11000, 2, kGWaiting, 0x7100000);
  im.SetAllgs({0x10000, 0x11000});
  // Goroutine 2 runs between every two reads of its g.
  RunBetweenReads(&im, 0x11000);
  absl::StatusOr<GoroutineDump> d = TakeGoroutineDump(im.bin, im.mem, 0, {});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->goroutines.size(), 1u);
  EXPECT_EQ(d->dropped, 1);
  EXPECT_EQ(d->retried, 1);
  ASSERT_FALSE(d->warnings.empty());
  EXPECT_NE(d->warnings.back().find("changed"), std::string::npos);
}

TEST(CoreFile, SegmentsTruncationAndWrongFiles) {
  const std::string path = ::testing::TempDir() + "/core.test";
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_CORE;
  eh.e_phoff = sizeof(eh);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = 0x1000;
  ph.p_vaddr = 0xc000000000;
  ph.p_filesz = ph.p_memsz = 0x2000;
  std::string file(reinterpret_cast<char*>(&eh), sizeof(eh));
  file.append(reinterpret_cast<char*>(&ph), sizeof(ph));
  file.resize(0x1000, '\0');
  for (int i = 0; i < 0x1800; ++i) file.push_back(static_cast<char>(i));
  std::ofstream(path, std::ios::binary) << file;  // 0x800 bytes short

  absl::StatusOr<std::unique_ptr<CoreFileMemory>> core =
      CoreFileMemory::Open(path);
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ((*core)->ReadAt(0xc000000001, 2).value(), std::string("\x01\x02"));
  EXPECT_EQ((*core)->ReadAt(0xc000001900, 8).status().code(),
            absl::StatusCode::kOutOfRange);
  ASSERT_EQ((*core)->warnings().size(), 1u);
  EXPECT_NE((*core)->warnings()[0].find("truncated"), std::string::npos);

  eh.e_type = ET_EXEC;
  std::ofstream(path, std::ios::binary)
      << std::string(reinterpret_cast<char*>(&eh), sizeof(eh));
  EXPECT_EQ(CoreFileMemory::Open(path).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::ofstream(path, std::ios::binary) << "not an elf";
  EXPECT_EQ(CoreFileMemory::Open(path).status().code(),
            absl::StatusCode::kInvalidArgument);
  unlink(path.c_str());
}

TEST(ProcessMemory, GoneAndUnmapped) {
  ProcessMemory self(getpid());
  uint64_t v = 0x1234;
  EXPECT_EQ(self.ReadU64(reinterpret_cast<uint64_t>(&v)).value(), 0x1234u);
  EXPECT_EQ(self.ReadU64(8).status().code(), absl::StatusCode::kOutOfRange);
  ProcessMemory gone(0x7ffffff0);
  EXPECT_EQ(gone.ReadU64(reinterpret_cast<uint64_t>(&v)).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gspy
