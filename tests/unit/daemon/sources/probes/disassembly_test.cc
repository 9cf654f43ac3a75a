// Capstone-based code reading: RET instructions, the end of the frame setup,
// the return addresses of calls.
#include <cstdint>
#include <vector>

#include "daemon/sources/probes/disassembly.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(RetFinder, Amd64) {
  // push rbp; mov rbp,rsp; ret; int3; ret 8; nop
  const std::string code("\x55\x48\x89\xe5\xc3\xcc\xc2\x08\x00\x90", 10);
  absl::StatusOr<std::vector<uint64_t>> rets =
      FindReturnInstructions(code, 0x401000, "amd64");
  ASSERT_TRUE(rets.ok()) << rets.status();
  EXPECT_EQ(*rets, (std::vector<uint64_t>{0x401004, 0x401006}));
}

TEST(RetFinder, Arm64) {
  // mov x0, #0 (d2800000); ret (d65f03c0)
  const std::string code("\x00\x00\x80\xd2\xc0\x03\x5f\xd6", 8);
  absl::StatusOr<std::vector<uint64_t>> rets =
      FindReturnInstructions(code, 0x10000, "arm64");
  ASSERT_TRUE(rets.ok()) << rets.status();
  EXPECT_EQ(*rets, (std::vector<uint64_t>{0x10004}));
}

TEST(RetFinder, Errors) {
  // A C3 byte inside another instruction is not a RET: mov eax, 0xc3.
  const std::string no_ret("\xb8\xc3\x00\x00\x00", 5);
  EXPECT_EQ(FindReturnInstructions(no_ret, 0x1000, "amd64").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FindReturnInstructions("\xc3", 0x1000, "riscv64").status().code(),
            absl::StatusCode::kUnimplemented);
}

// Prologues of runtime.gopark as Go emits them (go tool objdump).
TEST(FrameSetupEnd, Amd64Go126PushMov) {
  // cmp rsp,[r14+0x10]; jbe; push rbp; mov rbp,rsp; sub rsp,0x10
  const std::string code(
      "\x49\x3b\x66\x10\x0f\x86\xdc\x00\x00\x00\x55\x48\x89\xe5"
      "\x48\x83\xec\x10",
      18);
  absl::StatusOr<uint64_t> at = FindFrameSetupEnd(code, 0x479500, "amd64");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, 0x47950eu);
}

TEST(FrameSetupEnd, Amd64Go118SubMovLea) {
  // cmp; jbe; sub rsp,0x18; mov [rsp+0x10],rbp; lea rbp,[rsp+0x10]; mov
  // rdx,[r14+0x30]
  const std::string code(
      "\x49\x3b\x66\x10\x0f\x86\xe9\x00\x00\x00\x48\x83\xec\x18"
      "\x48\x89\x6c\x24\x10\x48\x8d\x6c\x24\x10\x49\x8b\x56\x30",
      28);
  absl::StatusOr<uint64_t> at = FindFrameSetupEnd(code, 0x432740, "amd64");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, 0x432758u);
}

TEST(FrameSetupEnd, Arm64) {
  // str x30,[sp,#-32]!; stur x29,[sp,#-8]; sub x29,sp,#8; mov x0,#0
  const std::string code(
      "\xfe\x0f\x1e\xf8\xfd\x83\x1f\xf8\xfd\x23\x00\xd1\x00\x00"
      "\x80\xd2",
      16);
  absl::StatusOr<uint64_t> at = FindFrameSetupEnd(code, 0x10000, "arm64");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, 0x1000cu);
}

TEST(FrameSetupEnd, NoFrame) {
  // A frameless function: mov eax,1; ret. And the setup as last instruction.
  EXPECT_EQ(FindFrameSetupEnd(std::string("\xb8\x01\x00\x00\x00\xc3", 6),
                              0x1000, "amd64")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(FindFrameSetupEnd("\x48\x89\xe5", 0x1000, "amd64").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ReturnsFromCalls, Amd64GoparkCallsMcall) {
  // go1.26 gopark's end: call runtime.mcall (0x47d6a0); add rsp,0x10;
  // pop rbp; ret; then a call elsewhere.
  const std::string code(
      "\xe8\xd2\x40\x00\x00\x48\x83\xc4\x10\x5d\xc3"
      "\xe8\x00\x00\x00\x00",
      16);
  absl::StatusOr<std::vector<uint64_t>> at =
      FindReturnsFromCallsTo(code, 0x4795c9, "amd64", 0x47d6a0);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, std::vector<uint64_t>{0x4795ce});
  EXPECT_EQ(
      FindReturnsFromCallsTo(code, 0x4795c9, "amd64", 0x1234).status().code(),
      absl::StatusCode::kNotFound);
}

TEST(ReturnsFromCalls, Arm64Bl) {
  // bl +0x100 (94000040); mov x0, #0
  const std::string code("\x40\x00\x00\x94\x00\x00\x80\xd2", 8);
  absl::StatusOr<std::vector<uint64_t>> at =
      FindReturnsFromCallsTo(code, 0x10000, "arm64", 0x10100);
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, std::vector<uint64_t>{0x10004});
}

}  // namespace
}  // namespace gspy
