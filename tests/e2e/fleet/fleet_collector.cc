// The collector process of the fleet tests: config, start, stop, metrics.
#include "tests/e2e/fleet/fleet_collector.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#ifndef FSCANARY_COLLECTOR
#error "FSCANARY_COLLECTOR must name the fscanary-collector binary"
#endif

namespace fscanary::e2e {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool Listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in address = Loopback(port);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

}  // namespace

absl::StatusOr<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in address = Loopback(0);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return absl::InternalError("bind/getsockname failed");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::optional<double> ScrapeSeries(int port, std::string_view series) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  const sockaddr_in address = Loopback(port);
  // A collector that stops answering must not hang the test.
  const timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  std::string response;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      ssize_t got;
      while ((got = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
        response.append(buffer, static_cast<size_t>(got));
      }
    }
  }
  ::close(fd);
  const std::string line_start = absl::StrCat("\n", std::string(series), " ");
  const size_t at = response.find(line_start);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + line_start.size();
  double value = 0;
  if (!absl::SimpleAtod(response.substr(begin, response.find('\n', begin) - begin), &value)) {
    return std::nullopt;
  }
  return value;
}

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  const std::string all = text.str();
  return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

absl::StatusOr<CollectorProcess> CollectorProcess::Create(const CollectorProcessOptions& options) {
  absl::StatusOr<int> port = FreePort();
  if (!port.ok()) return port.status();
  absl::StatusOr<int> metrics_port = FreePort();
  if (!metrics_port.ok()) return metrics_port.status();
  const std::string state_dir = options.dir + "/collector";
  const std::string config_path = options.dir + "/collector.yaml";
  std::ofstream config(config_path);
  config << "listen: \"127.0.0.1:" << *port << "\"\n"
         << "state_dir: \"" << state_dir << "\"\n"
         << "log_level: info\n"
         << "metrics:\n  listen: \"127.0.0.1:" << *metrics_port << "\"\n";
  if (!options.postgres_dsn.empty()) {
    config << "store:\n  backend: postgres\n  postgres:\n    dsn: \"" << options.postgres_dsn
           << "\"\n";
  }
  config.close();
  if (!config) return absl::InternalError("cannot write " + config_path);
  return CollectorProcess(config_path, options.dir + "/collector.log", state_dir, *port,
                          *metrics_port);
}

CollectorProcess::CollectorProcess(std::string config, std::string log, std::string state_dir,
                                   int port, int metrics_port)
    : config_(std::move(config)),
      log_(std::move(log)),
      state_dir_(std::move(state_dir)),
      port_(port),
      metrics_port_(metrics_port) {}

CollectorProcess::CollectorProcess(CollectorProcess&& other) noexcept
    : config_(std::move(other.config_)),
      log_(std::move(other.log_)),
      state_dir_(std::move(other.state_dir_)),
      port_(other.port_),
      metrics_port_(other.metrics_port_),
      pid_(std::exchange(other.pid_, -1)) {}

CollectorProcess::~CollectorProcess() {
  if (pid_ > 0) (void)Stop(SIGKILL);
}

std::string CollectorProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

absl::Status CollectorProcess::Start(Clock::time_point deadline) {
  if (pid_ > 0) return absl::FailedPreconditionError("already running");
  // Everything the child needs is made before fork: it may not allocate.
  const std::string binary = FSCANARY_COLLECTOR;
  std::vector<std::string> args = {binary, "--config", config_};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError("cannot open " + log_);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(null_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  pid_ = pid;
  // Polls a TCP connect: the port is bound only once the store is open and
  // the gRPC server started; the metrics endpoint comes right after.
  while (!Listening(port_) || !Listening(metrics_port_)) {
    if (const absl::StatusOr<std::optional<int>> ended = Ended(); ended.ok() && *ended) {
      return absl::InternalError(absl::StrCat("fscanary-collector exited (status ", **ended,
                                              ") before listening:\n", Tail(log_)));
    }
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError("fscanary-collector does not listen:\n" + Tail(log_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int>> CollectorProcess::Ended() {
  if (pid_ <= 0) return absl::FailedPreconditionError("not started");
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
  pid_ = -1;
  return status;
}

absl::StatusOr<int> CollectorProcess::Stop(int signal, std::chrono::seconds timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  ::kill(pid_, signal);
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_) break;
    if (reaped < 0 && errno != EINTR) return absl::InternalError("waitpid failed");
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
      return absl::DeadlineExceededError(
          absl::StrCat("fscanary-collector ignored signal ", signal, ":\n", Tail(log_)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  return status;
}

}  // namespace fscanary::e2e
