#pragma once
// Helpers shared by the metrics tests: serialising through the checker, and a
// minimal HTTP/1.1 client over a plain socket (so the server is tested from
// outside, as Prometheus sees it).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/metric_family.h"

namespace fscanary::metrics::testing {

// SerializeText(families).text, after checking it with CheckTextExposition
// and that nothing had to be dropped (a gtest failure otherwise).
std::string SerializeChecked(std::vector<MetricFamily> families);

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names lower-cased.
  std::string body;
};

// Sends one request with "Connection: close" to 127.0.0.1:`port` and reads the
// response to the end.
absl::StatusOr<HttpResponse> HttpRequest(int port, std::string_view method, std::string_view path);

}  // namespace fscanary::metrics::testing
