// Refusals gRPC decides on its own, before any handler of gspyd runs,
// counted in gspy_requests_refused_total{reason} beside Admission's: a
// client that hits gRPC's limits shows up in the same counter as one that
// hits gspyd's.
//   server_threads: every thread of the synchronous server's ResourceQuota
//     (gspyd_main.cc: the admitted pulls plus a few) was busy, so gRPC
//     answered RESOURCE_EXHAUSTED from its own handler instead of ours.
// Not counted: a request larger than gRPC's receive limit
// (--max-request-bytes). gRPC's core fails such a call before it is handed
// to the C++ server (no interceptor, no handler, no callback sees it; gRPC
// 1.51), so the client's RESOURCE_EXHAUSTED has no trace in gspyd.
#ifndef GSPY_DAEMON_API_REFUSAL_INTERCEPTOR_H_
#define GSPY_DAEMON_API_REFUSAL_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <optional>

#include "absl/strings/string_view.h"
#include "daemon/api/admission.h"

namespace gspy {

// Which refusal of gRPC's own a call's final status is, if any.
std::optional<Refusal> GrpcOwnRefusal(grpc::StatusCode code,
                                      absl::string_view message);

// For grpc::ServerBuilder::experimental().SetInterceptorCreators: counts
// each call whose final status is one of gRPC's own refusals in
// `admission`, which must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRefusalCountingInterceptorFactory(Admission* admission);

}  // namespace gspy

#endif  // GSPY_DAEMON_API_REFUSAL_INTERCEPTOR_H_
