#include "daemon/export/metrics/metrics_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gspy {
namespace {

using ::testing::HasSubstr;

MetricsRegistry* TestRegistry() {
  static MetricsRegistry* registry = [] {
    auto* r = new MetricsRegistry();
    r->Register("test", [](MetricFamilies* out) {
      MetricFamily f("gspy_test_up", MetricType::kGauge, "Test family.");
      f.Add({{"who", "test"}}, 1);
      out->push_back(std::move(f));
    });
    return r;
  }();
  return registry;
}

TEST(ParseHostPortTest, Forms) {
  auto hp = ParseHostPort("127.0.0.1:7071");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "127.0.0.1");
  EXPECT_EQ(hp->second, 7071);
  hp = ParseHostPort("[::1]:0");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "::1");
  hp = ParseHostPort(":9000");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "0.0.0.0");
  EXPECT_FALSE(ParseHostPort("localhost").ok());
  EXPECT_FALSE(ParseHostPort("localhost:http").ok());
  EXPECT_FALSE(ParseHostPort("localhost:70000").ok());
  EXPECT_FALSE(ParseHostPort("::1:80").ok());
}

TEST(MetricsServerTest, ServesMetricsAndHealthzOverARealSocket) {
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start("127.0.0.1:0", TestRegistry());
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  httplib::Client client("127.0.0.1", (*server)->port());
  httplib::Result res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(res->body, HasSubstr("# TYPE gspy_test_up gauge\n"
                                   "gspy_test_up{who=\"test\"} 1\n"));
  EXPECT_THAT(res->body, HasSubstr("gspy_metrics_scrapes_total"));

  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");

  res = client.Get("/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);

  (*server)->Stop();
  (*server)->Stop();  // idempotent
  httplib::Client after("127.0.0.1", (*server)->port());
  after.set_connection_timeout(1, 0);
  EXPECT_FALSE(after.Get("/healthz"));
}

TEST(MetricsServerTest, StopRightAfterStartReturns) {
  for (int i = 0; i < 5; ++i) {
    auto server = MetricsServer::Start("127.0.0.1:0", TestRegistry());
    ASSERT_TRUE(server.ok()) << server.status();
  }  // the destructor stops and joins
}

TEST(MetricsServerTest, PortInUseIsAClearError) {
  auto first = MetricsServer::Start("127.0.0.1:0", TestRegistry());
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = MetricsServer::Start(address, TestRegistry());
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr(address));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
}

TEST(MetricsServerTest, BadAddressesAreClearErrors) {
  auto no_port = MetricsServer::Start("127.0.0.1", TestRegistry());
  ASSERT_FALSE(no_port.ok());
  EXPECT_THAT(no_port.status().message(), HasSubstr("HOST:PORT"));

  auto bad_host =
      MetricsServer::Start("no-such-host.invalid:7071", TestRegistry());
  ASSERT_FALSE(bad_host.ok());
  EXPECT_THAT(bad_host.status().message(), HasSubstr("no-such-host.invalid"));

  // An address that is not this machine's cannot be bound.
  auto foreign = MetricsServer::Start("192.0.2.1:0", TestRegistry());
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(foreign.status().message(), HasSubstr("cannot listen"));
}

}  // namespace
}  // namespace gspy
