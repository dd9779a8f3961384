#include "tests/metrics/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "metrics/exposition_check.h"
#include "metrics/text_format.h"

namespace fscanary::metrics::testing {
namespace {

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

absl::Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) return ErrnoToStatus(errno, "send");
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReceiveToEnd(int fd) {
  std::string received;
  char buffer[16384];
  for (;;) {
    const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoToStatus(errno, "recv");
    if (got == 0) return received;
    received.append(buffer, static_cast<size_t>(got));
  }
}

absl::StatusOr<HttpResponse> ParseResponse(std::string_view raw) {
  const size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    return absl::DataLossError(absl::StrCat("no end of headers in: ", std::string(raw)));
  }
  std::string_view head = raw.substr(0, header_end);
  HttpResponse response;
  response.body = std::string(raw.substr(header_end + 4));
  const size_t status_line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, status_line_end);
  // "HTTP/1.1 200 OK"
  const size_t space = status_line.find(' ');
  if (space == std::string_view::npos) return absl::DataLossError("bad status line");
  std::from_chars(status_line.data() + space + 1, status_line.data() + status_line.size(),
                  response.status);
  head.remove_prefix(status_line_end == std::string_view::npos ? head.size() : status_line_end + 2);
  while (!head.empty()) {
    const size_t end = std::min(head.find("\r\n"), head.size());
    const std::string_view line = head.substr(0, end);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      absl::AsciiStrToLower(&name);
      std::string_view value = line.substr(colon + 1);
      while (value.starts_with(' ')) value.remove_prefix(1);
      response.headers[name] = std::string(value);
    }
    head.remove_prefix(std::min(end + 2, head.size()));
  }
  return response;
}

}  // namespace

std::string SerializeChecked(std::vector<MetricFamily> families) {
  TextExposition exposition = SerializeText(std::move(families));
  EXPECT_TRUE(exposition.problems.empty()) << exposition.problems.front();
  const absl::Status check = CheckTextExposition(exposition.text);
  EXPECT_TRUE(check.ok()) << check << "\n" << exposition.text;
  return exposition.text;
}

absl::StatusOr<HttpResponse> HttpRequest(int port, std::string_view method, std::string_view path) {
  Socket socket_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket_fd.fd() < 0) return ErrnoToStatus(errno, "socket");
  // A server that never answers fails the test instead of hanging it.
  const timeval timeout{.tv_sec = 20, .tv_usec = 0};
  setsockopt(socket_fd.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(socket_fd.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("connect to 127.0.0.1:", port));
  }
  RETURN_IF_ERROR(SendAll(socket_fd.fd(), absl::StrCat(std::string(method), " ", std::string(path),
                                                       " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                                       "Connection: close\r\n\r\n")));
  ASSIGN_OR_RETURN(const std::string raw, ReceiveToEnd(socket_fd.fd()));
  return ParseResponse(raw);
}

SlowClient::SlowClient(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in address{.sin_family = AF_INET, .sin_port = htons(static_cast<uint16_t>(port))};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  constexpr char kHalf[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (connected_) connected_ = send(fd_, kHalf, sizeof(kHalf) - 1, MSG_NOSIGNAL) > 0;
}

SlowClient::~SlowClient() { close(fd_); }

}  // namespace fscanary::metrics::testing
