#include "daemon/auth/kube_auth.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/auth/request_access.h"

namespace gspy {
namespace {

constexpr char kHowToAuthenticate[] =
    "present a Kubernetes bearer token (gspy --token-file=FILE, or the "
    "service account's in a pod)";

// One key per distinct question: user, uid, groups, extra and the
// attributes, each field ended by a NUL (which none contains).
std::string DecisionKey(const k8s::UserInfo& user,
                        const k8s::ResourceAttributes& a) {
  std::string key;
  auto add = [&key](absl::string_view s) {
    key.append(s.data(), s.size());
    key.push_back('\0');
  };
  add(user.username());
  add(user.uid());
  for (const std::string& g : user.groups()) add(g);
  add("");
  std::vector<std::string> extra_keys;
  for (const auto& [k, v] : user.extra()) extra_keys.push_back(k);
  std::sort(extra_keys.begin(), extra_keys.end());
  for (const std::string& k : extra_keys) {
    add(k);
    for (const auto& v : user.extra().at(k).values()) add(v.string_value());
    add("");
  }
  add("");
  for (const std::string* f : {&a.verb(), &a.group(), &a.resource(),
                               &a.subresource(), &a.namespace_(), &a.name()}) {
    add(*f);
  }
  return key;
}

}  // namespace

KubeAuth::KubeAuth(KubeAuthOptions options,
                   std::unique_ptr<AccessReviewer> reviewer)
    : options_(options),
      reviewer_(std::move(reviewer)),
      tokens_(options.max_entries),
      decisions_(options.max_entries) {}

absl::StatusOr<k8s::UserInfo> KubeAuth::Authenticate(
    absl::string_view authorization) {
  authorization = absl::StripAsciiWhitespace(authorization);
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("no credentials: ", kHowToAuthenticate));
  }
  if (authorization.size() < 7 ||
      !absl::EqualsIgnoreCase(authorization.substr(0, 7), "bearer ")) {
    return absl::UnauthenticatedError(
        absl::StrCat("the authorization metadata is not \"Bearer <token>\": ",
                     kHowToAuthenticate));
  }
  const std::string token(absl::StripAsciiWhitespace(authorization.substr(7)));
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the bearer token is empty or longer than ", kMaxTokenBytes, " bytes"));
  }
  const absl::Time now = absl::Now();
  std::optional<TokenDecision> d = tokens_.Get(token, now);
  if (!d.has_value()) {
    absl::StatusOr<k8s::TokenReviewStatus> review =
        reviewer_->ReviewToken(token);
    if (!review.ok()) {
      return absl::UnavailableError(
          absl::StrCat("cannot check the bearer token (TokenReview): ",
                       review.status().message()));
    }
    d = TokenDecision{
        review->authenticated() && !review->user().username().empty(),
        review->user(), review->error()};
    tokens_.Put(token, *d,
                d->authenticated ? options_.allowed_ttl : options_.denied_ttl,
                now);
  }
  if (!d->authenticated) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the Kubernetes API server did not authenticate the bearer token",
        d->error.empty() ? "" : ": ", d->error));
  }
  return d->user;
}

absl::Status KubeAuth::Authorize(const k8s::UserInfo& user,
                                 const k8s::ResourceAttributes& access) {
  const std::string key = DecisionKey(user, access);
  const absl::Time now = absl::Now();
  std::optional<AccessDecision> d = decisions_.Get(key, now);
  if (!d.has_value()) {
    absl::StatusOr<k8s::SubjectAccessReviewStatus> review =
        reviewer_->ReviewAccess(user, access);
    if (!review.ok()) {
      return absl::UnavailableError(
          absl::StrCat("cannot check whether user \"", user.username(),
                       "\" may ", DescribeAccess(access),
                       " (SubjectAccessReview): ", review.status().message()));
    }
    d = AccessDecision{review->allowed() && !review->denied(),
                       review->reason()};
    decisions_.Put(
        key, *d, d->allowed ? options_.allowed_ttl : options_.denied_ttl, now);
  }
  if (!d->allowed) {
    return absl::PermissionDeniedError(
        absl::StrCat("user \"", user.username(), "\" cannot ",
                     DescribeAccess(access), d->reason.empty() ? "" : " (",
                     d->reason, d->reason.empty() ? "" : ")"));
  }
  return absl::OkStatus();
}

}  // namespace gspy
