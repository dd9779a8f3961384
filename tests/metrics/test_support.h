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

// Connects to 127.0.0.1:`port` and sends the start of a request, never the
// rest: what a slow or hostile client does to hold a server thread. Closes the
// connection on destruction.
class SlowClient {
 public:
  explicit SlowClient(int port);
  ~SlowClient();
  SlowClient(const SlowClient&) = delete;
  SlowClient& operator=(const SlowClient&) = delete;
  bool connected() const { return connected_; }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace fscanary::metrics::testing
