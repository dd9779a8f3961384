#include "common/config/checks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "absl/strings/str_cat.h"

namespace fscanary::config {
namespace {

bool HasBlank(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) ||
           std::iscntrl(static_cast<unsigned char>(c));
  });
}

bool IsPort(std::string_view text) {
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return !text.empty() && error == std::errc() && end == text.data() + text.size() && port <= 65535;
}

std::string Quote(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

absl::Status ValidateGrpcListen(std::string_view address) {
  if (address.starts_with("unix:")) {
    if (address.size() > 5 && address[5] == '/' && !HasBlank(address)) return absl::OkStatus();
    return absl::InvalidArgumentError(Quote(address) + " is not unix:/absolute/path of a socket");
  }
  const auto bad = [&] {
    return absl::InvalidArgumentError(Quote(address) +
                                      " is not host:port (e.g. 127.0.0.1:7420, [::]:7420)");
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || HasBlank(address)) return bad();
  const std::string_view host = address.substr(0, colon);
  if (!IsPort(address.substr(colon + 1))) return bad();
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad();
  } else if (host.find(':') != std::string_view::npos) {
    return bad();  // an IPv6 address needs brackets
  }
  return absl::OkStatus();
}

absl::Status ValidateMetricsListen(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon != std::string_view::npos && IsPort(address.substr(colon + 1))) {
    const std::string host(address.substr(0, colon));
    in_addr parsed{};
    if (::inet_pton(AF_INET, host.c_str(), &parsed) == 1) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      Quote(address) + " is not an IPv4 address and port (e.g. 127.0.0.1:9464, 0.0.0.0:9464)");
}

absl::Status ValidateGrpcTarget(std::string_view target) {
  if (target.empty()) return absl::InvalidArgumentError("is empty (e.g. 127.0.0.1:7420)");
  if (HasBlank(target)) {
    return absl::InvalidArgumentError(Quote(target) + " contains blanks");
  }
  return absl::OkStatus();
}

absl::Status ValidateAbsolutePath(std::string_view path) {
  if (path.empty()) return absl::InvalidArgumentError("is empty (expected an absolute path)");
  if (path.front() != '/') {
    return absl::InvalidArgumentError(Quote(path) + " is not an absolute path");
  }
  if (std::any_of(path.begin(), path.end(),
                  [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); })) {
    return absl::InvalidArgumentError(Quote(path) + " contains control characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateAgentId(std::string_view agent_id) {
  const bool valid = !agent_id.empty() && agent_id.size() <= 128 &&
                     std::all_of(agent_id.begin(), agent_id.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                              c == ':' || c == '-';
                     });
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(Quote(agent_id) +
                                    " is not an agent id (1-128 of A-Z a-z 0-9 . _ : -)");
}

absl::Status ValidateLogLevel(std::string_view level) {
  for (std::string_view known : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    if (level == known) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      Quote(level) + " is not a log level (trace, debug, info, warn, error, critical, off)");
}

}  // namespace fscanary::config
