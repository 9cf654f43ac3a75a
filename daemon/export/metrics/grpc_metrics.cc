#include "daemon/export/metrics/grpc_metrics.h"

#include <grpcpp/support/interceptor.h>

#include "absl/strings/string_view.h"

namespace gspy {
namespace {

// One per call: created when the call starts, destroyed when it is done.
class CountingInterceptor : public grpc::experimental::Interceptor {
 public:
  CountingInterceptor(GrpcMetrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)) {
    metrics_->CallStarted(method_);
  }
  ~CountingInterceptor() override {
    // A call that ends without sending a status was cancelled (the client
    // went away or its deadline passed).
    metrics_->CallEnded(method_, status_sent_ ? code_ : grpc::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      status_sent_ = true;
      code_ = methods->GetSendStatus().error_code();
    }
    methods->Proceed();
  }

 private:
  GrpcMetrics* const metrics_;
  const std::string method_;
  bool status_sent_ = false;
  grpc::StatusCode code_ = grpc::OK;
};

class CountingFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(GrpcMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    return new CountingInterceptor(
        metrics_, method != nullptr && method[0] != '\0' ? method : "unknown");
  }

 private:
  GrpcMetrics* const metrics_;
};

// "/gspy.v1.Profiler/ProfileCpu" -> {"gspy.v1.Profiler", "ProfileCpu"}.
MetricLabels MethodLabels(absl::string_view full) {
  if (!full.empty() && full.front() == '/') full.remove_prefix(1);
  const size_t slash = full.find('/');
  if (slash == absl::string_view::npos) {
    return {{"service", ""}, {"method", std::string(full)}};
  }
  return {{"service", std::string(full.substr(0, slash))},
          {"method", std::string(full.substr(slash + 1))}};
}

}  // namespace

const char* StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::UNKNOWN:
      return "UNKNOWN";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::ABORTED:
      return "ABORTED";
    case grpc::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::INTERNAL:
      return "INTERNAL";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcMetrics::NewInterceptorFactory() {
  return std::make_unique<CountingFactory>(this);
}

void GrpcMetrics::CallStarted(const std::string& full_method) {
  absl::MutexLock lock(&mu_);
  ++in_flight_[full_method];
}

void GrpcMetrics::CallEnded(const std::string& full_method,
                            grpc::StatusCode code) {
  absl::MutexLock lock(&mu_);
  --in_flight_[full_method];
  ++ended_[{full_method, static_cast<int>(code)}];
}

void GrpcMetrics::Collect(MetricFamilies* out) const {
  MetricFamily calls("gspy_grpc_calls_total", MetricType::kCounter,
                     "gRPC calls gspyd finished, by method and status code.");
  MetricFamily errors("gspy_grpc_errors_total", MetricType::kCounter,
                      "gRPC calls gspyd finished with a status other than OK, "
                      "by method and status code.");
  MetricFamily in_flight("gspy_grpc_calls_in_flight", MetricType::kGauge,
                         "gRPC calls running now (profile pulls, GC "
                         "watches), by method.");
  absl::MutexLock lock(&mu_);
  for (const auto& [key, n] : ended_) {
    MetricLabels labels = MethodLabels(key.first);
    labels.emplace_back(
        "code", StatusCodeName(static_cast<grpc::StatusCode>(key.second)));
    if (key.second != grpc::OK) errors.Add(labels, static_cast<double>(n));
    calls.Add(std::move(labels), static_cast<double>(n));
  }
  for (const auto& [method, n] : in_flight_) {
    in_flight.Add(MethodLabels(method), static_cast<double>(n));
  }
  out->push_back(std::move(calls));
  out->push_back(std::move(errors));
  out->push_back(std::move(in_flight));
}

}  // namespace gspy
