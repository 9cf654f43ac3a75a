// The runtime's goroutine statuses as the API's enum, and their names
// (golang/goroutines/dump_proto.h).
#include <cstdint>
#include <string>

#include "golang/goroutines/dump_proto.h"
#include "golang/goroutines/g_struct.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

TEST(StatusProtoTest, EveryRuntimeStatusKeepsGosName) {
  for (uint32_t s : {kGIdle, kGRunnable, kGRunning, kGSyscall, kGWaiting,
                     kGDead, kGCopyStack, kGPreempted, kGLeaked, kGDeadExtra}) {
    const gspy::v1::GoroutineStatus api = StatusToProto(s);
    EXPECT_NE(api, gspy::v1::GOROUTINE_STATUS_UNSPECIFIED) << s;
    EXPECT_EQ(GoroutineStatusText(api), StatusName(s)) << s;
  }
  EXPECT_EQ(GoroutineStatusText(StatusToProto(kGWaiting)), "waiting");
  EXPECT_EQ(GoroutineStatusText(StatusToProto(kGDeadExtra)),
            "waiting for cgo callback");
}

TEST(StatusProtoTest, UnknownStatusesAreUnspecified) {
  EXPECT_EQ(StatusToProto(5), gspy::v1::GOROUTINE_STATUS_UNSPECIFIED);
  EXPECT_EQ(StatusToProto(99), gspy::v1::GOROUTINE_STATUS_UNSPECIFIED);
  EXPECT_EQ(GoroutineStatusText(gspy::v1::GOROUTINE_STATUS_UNSPECIFIED), "???");
}

TEST(StatusProtoTest, EveryEnumValueHasAName) {
  const google::protobuf::EnumDescriptor* e =
      gspy::v1::GoroutineStatus_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    const auto status =
        static_cast<gspy::v1::GoroutineStatus>(e->value(i)->number());
    if (status == gspy::v1::GOROUTINE_STATUS_UNSPECIFIED) continue;
    EXPECT_NE(GoroutineStatusText(status), "???") << e->value(i)->name();
  }
}

}  // namespace
}  // namespace gspy
