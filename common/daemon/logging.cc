#include "common/daemon/logging.h"

#include <cstdlib>
#include <memory>

#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/sinks/systemd_sink.h"
#include "spdlog/spdlog.h"

namespace fscanary::daemon {

void SetUpLogging(const std::string& program, const std::string& level) {
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    auto logger = std::make_shared<spdlog::logger>(
        program, std::make_shared<spdlog::sinks::systemd_sink_mt>(program));
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%v");
  } else {
    auto existing = spdlog::get(program);
    spdlog::set_default_logger(existing != nullptr ? existing : spdlog::stderr_color_mt(program));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace fscanary::daemon
