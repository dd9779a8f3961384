#include "metrics/metrics_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "metrics/text_format.h"
#include "spdlog/spdlog.h"

namespace fscanary::metrics {

struct MetricsServerState {
  std::mutex mutex;
  std::vector<std::weak_ptr<const Collectable>> collectables;  // Guarded by mutex.
  // What the last scrape had to drop, so that a steady problem is logged
  // once. Guarded by mutex.
  std::vector<std::string> last_problems;
  // civetweb's messages while Start() runs, for the error it returns.
  // Guarded by mutex.
  std::vector<std::string> start_messages;
  std::atomic<bool> starting = false;
  // Only Start() and Stop(), which the owner calls, touch these.
  mg_context* context = nullptr;
  sockaddr_in listening{};  // Where a connection reaches the server.
};

namespace {

absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Checks `address` is "<IPv4 address>:<port>": civetweb also takes forms we
// never want (a bare port binding every interface, a list, an "s" suffix
// asking for TLS), and reports a bad one only as "Failed to setup server ports".
absl::Status CheckListenAddress(std::string_view address) {
  const auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", View(address),
                     "\" is not an IPv4 address and a port, like 127.0.0.1:9464"));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid();
  const std::string host(address.substr(0, colon));
  in_addr parsed{};
  if (inet_pton(AF_INET, host.c_str(), &parsed) != 1) return invalid();
  const std::string_view port_text = address.substr(colon + 1);
  int port = -1;
  const auto result = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || result.ec != std::errc() ||
      result.ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return invalid();
  }
  return absl::OkStatus();
}

// Connects to the server and hangs up, which wakes civetweb's listening
// thread from its poll. Best effort: a failed poke only leaves the stop to
// civetweb's own timeout.
void Poke(const sockaddr_in& address) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  close(fd);
}

int LogCivetwebMessage(const mg_connection* connection, const char* message) {
  const mg_context* context = mg_get_context(connection);
  auto* state = context ? static_cast<MetricsServerState*>(mg_get_user_data(context)) : nullptr;
  if (state != nullptr && state->starting) {
    std::lock_guard lock(state->mutex);
    state->start_messages.emplace_back(message);
  } else {
    spdlog::debug("metrics server: {}", message);
  }
  return 1;  // Handled: civetweb writes nothing to stderr.
}

int HandleMetrics(mg_connection* connection, void* server) {
  const std::string_view method = mg_get_request_info(connection)->request_method;
  if (method != "GET" && method != "HEAD") {
    mg_response_header_start(connection, 405);
    mg_response_header_add(connection, "Allow", "GET, HEAD", -1);
    mg_response_header_add(connection, "Content-Length", "0", -1);
    mg_response_header_send(connection);
    return 405;
  }
  const std::string body = static_cast<const MetricsServer*>(server)->Scrape();
  mg_send_http_ok(connection, kTextContentType.data(), static_cast<long long>(body.size()));
  if (method == "GET") mg_write(connection, body.data(), body.size());
  return 200;
}

}  // namespace

MetricsServer::MetricsServer() : state_(std::make_unique<MetricsServerState>()) {}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::RegisterCollectable(std::weak_ptr<const Collectable> collectable) {
  std::lock_guard lock(state_->mutex);
  state_->collectables.push_back(std::move(collectable));
}

absl::StatusOr<int> MetricsServer::Start(std::string_view listen_address,
                                         const MetricsServerOptions& server_options) {
  if (state_->context != nullptr) {
    return absl::FailedPreconditionError("metrics server already started");
  }
  RETURN_IF_ERROR(CheckListenAddress(listen_address));
  // mg_init_library keeps a count but is not thread-safe; the library stays
  // initialised for the life of the process.
  static std::once_flag civetweb_initialised;
  std::call_once(civetweb_initialised, [] { mg_init_library(0); });

  if (server_options.num_threads < 1 || server_options.request_timeout_ms < 1) {
    return absl::InvalidArgumentError(
        "metrics server: num_threads and request_timeout_ms must be "
        "at least 1");
  }
  const std::string ports(listen_address);
  // Prometheus scrapes one request at a time per server. The rest of the
  // workers are for slow or hostile clients: each holds one for at most the
  // request timeout (civetweb counts it from the request's first byte, so a
  // client trickling its headers is cut off too), and connections beyond the
  // workers wait in civetweb's queue, first come first served.
  const std::string threads = absl::StrCat(server_options.num_threads);
  const std::string timeout = absl::StrCat(server_options.request_timeout_ms);
  const char* options[] = {
      "listening_ports", ports.c_str(),       "num_threads", threads.c_str(), "request_timeout_ms",
      timeout.c_str(),   "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = LogCivetwebMessage;
  mg_init_data init{
      .callbacks = &callbacks, .user_data = state_.get(), .configuration_options = options};
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error{
      .code = &error_code, .text = error_text, .text_buffer_size = sizeof(error_text)};

  {
    std::lock_guard lock(state_->mutex);
    state_->start_messages.clear();
  }
  state_->starting = true;
  mg_context* context = mg_start2(&init, &error);
  state_->starting = false;
  if (context == nullptr) {
    std::vector<std::string> reasons;
    {
      std::lock_guard lock(state_->mutex);
      reasons = std::move(state_->start_messages);
    }
    if (reasons.empty()) reasons.emplace_back(error_text);
    return absl::UnavailableError(absl::StrCat("metrics server cannot listen on ", ports, ": ",
                                               absl::StrJoin(reasons, "; ")));
  }
  mg_server_port port{};
  if (mg_get_server_ports(context, 1, &port) != 1) {
    mg_stop(context);
    return absl::InternalError("metrics server started but reports no listening port");
  }
  mg_set_request_handler(context, "/metrics$", HandleMetrics, this);
  state_->context = context;
  const size_t colon = listen_address.rfind(':');
  sockaddr_in& listening = state_->listening;
  listening =
      sockaddr_in{.sin_family = AF_INET, .sin_port = htons(static_cast<uint16_t>(port.port))};
  inet_pton(AF_INET, std::string(listen_address.substr(0, colon)).c_str(), &listening.sin_addr);
  if (listening.sin_addr.s_addr == htonl(INADDR_ANY))
    listening.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return port.port;
}

void MetricsServer::Stop() {
  if (state_->context == nullptr) return;
  // civetweb 1.15's listening thread polls in 2 s quanta and looks at the stop
  // flag only between polls, so mg_stop() alone takes up to 2 s. Connecting
  // once mg_stop() has raised the flag ends the poll at once (the connection
  // is then refused, not served). The flag is raised inside mg_stop(), so poke
  // until it returns.
  std::mutex mutex;
  std::condition_variable stopped_changed;
  bool stopped = false;
  std::thread poker([&] {
    std::unique_lock lock(mutex);
    while (!stopped) {
      Poke(state_->listening);
      stopped_changed.wait_for(lock, std::chrono::milliseconds(20));
    }
  });
  mg_stop(state_->context);
  {
    std::lock_guard lock(mutex);
    stopped = true;
  }
  stopped_changed.notify_one();
  poker.join();
  state_->context = nullptr;
}

std::string MetricsServer::Scrape() const {
  std::vector<std::shared_ptr<const Collectable>> live;
  {
    std::lock_guard lock(state_->mutex);
    std::erase_if(state_->collectables, [](const auto& weak) { return weak.expired(); });
    for (const auto& weak : state_->collectables) {
      if (auto collectable = weak.lock()) live.push_back(std::move(collectable));
    }
  }
  std::vector<MetricFamily> families;
  for (const auto& collectable : live) {
    for (MetricFamily& family : collectable->Collect()) families.push_back(std::move(family));
  }
  TextExposition exposition = SerializeText(std::move(families));
  std::lock_guard lock(state_->mutex);
  if (exposition.problems != state_->last_problems) {
    for (const std::string& problem : exposition.problems) spdlog::warn("metrics: {}", problem);
    state_->last_problems = std::move(exposition.problems);
  }
  return std::move(exposition.text);
}

}  // namespace fscanary::metrics
