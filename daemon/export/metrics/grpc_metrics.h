// GrpcMetrics: every gRPC call gspyd serves, counted by a server
// interceptor, so that no service has to report its own errors:
//   gspy_grpc_calls_total{service,method,code}   calls ended, by status
//   gspy_grpc_errors_total{service,method,code}  those whose status is not OK
//   gspy_grpc_calls_in_flight{service,method}    calls running now: profile
//                                                pulls and GC watches
#ifndef GSPY_DAEMON_EXPORT_METRICS_GRPC_METRICS_H_
#define GSPY_DAEMON_EXPORT_METRICS_GRPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/metrics_registry.h"

namespace gspy {

class GrpcMetrics {
 public:
  // For grpc::ServerBuilder::experimental().SetInterceptorCreators; the
  // factory refers to this object, which must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  NewInterceptorFactory();

  // A call of `full_method` ("/gspy.v1.Profiler/ProfileCpu") started or
  // ended with `code`. Public for the interceptor and for tests.
  void CallStarted(const std::string& full_method);
  void CallEnded(const std::string& full_method, grpc::StatusCode code);

  void Collect(MetricFamilies* out) const;

 private:
  mutable absl::Mutex mu_;
  // Sorted maps: the output order is stable from scrape to scrape.
  std::map<std::pair<std::string, int>, uint64_t> ended_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> in_flight_ ABSL_GUARDED_BY(mu_);
};

// "OK", "NOT_FOUND", ...: the names gRPC's documentation and grpcurl use.
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace gspy

#endif  // GSPY_DAEMON_EXPORT_METRICS_GRPC_METRICS_H_
