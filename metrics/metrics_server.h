#pragma once
// Serves the text exposition of a set of Collectables at GET /metrics for
// Prometheus to scrape. The HTTP server (civetweb) stays inside the .cc.

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "metrics/collectable.h"

namespace fscanary::metrics {

struct MetricsServerState;  // Defined in the .cc, next to civetweb.

// RegisterCollectable() and Scrape() are thread-safe; Start() and Stop() are
// for the owner to call, one at a time. Each scrape runs on one of a few
// server threads and calls Collect() on every registered collectable;
// collectables are held weakly, so one that is destroyed just stops
// appearing. Anything the serializer had to drop (see normalize.h) is logged
// as a warning when it changes, and the rest is served. Other paths answer
// 404; methods other than GET and HEAD, 405. Plain HTTP, no authentication:
// bind to loopback or a management network.
// civetweb serves each connection on one worker thread, so a client that
// connects and sends its request slowly holds a worker. These bound how long
// (every request, from its first byte to the response sent) and leave more
// workers than a few such clients hold; keep-alive is off, so a worker is
// free again after each response.
struct MetricsServerOptions {
  int num_threads = 16;
  int request_timeout_ms = 2000;
};

class MetricsServer {
 public:
  MetricsServer();
  ~MetricsServer();  // Stops the server.
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // May be called before or after Start().
  void RegisterCollectable(std::weak_ptr<const Collectable> collectable);

  // Listens on `listen_address`, an IPv4 address and a port ("127.0.0.1:9464",
  // "0.0.0.0:9464"; port 0 picks a free port), and returns the port bound.
  // InvalidArgument for another form of address, FailedPrecondition if
  // already started, Unavailable if the server cannot listen there (the
  // message carries civetweb's reason, such as the port being in use).
  absl::StatusOr<int> Start(std::string_view listen_address,
                            const MetricsServerOptions& options = {});

  // Stops listening and waits for scrapes in progress. Does nothing if not
  // started; Start() may be called again afterwards.
  void Stop();

  // The body GET /metrics returns now.
  std::string Scrape() const;

 private:
  std::unique_ptr<MetricsServerState> state_;
};

}  // namespace fscanary::metrics
