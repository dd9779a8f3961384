#include "agent/progress_bar.h"

#include <unistd.h>

#include <cstdio>

#include "io/posix.h"

namespace fscanary::agent {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() {
  if (drawn_) std::fputs("\n", stderr);
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (!enabled_ || total == 0) return;
  const uint64_t now = io::MonotonicNanos();
  if (done < total && now - last_draw_ns_ < 100'000'000) return;
  last_draw_ns_ = now;
  constexpr int kWidth = 40;
  const int filled = static_cast<int>(kWidth * done / total);
  std::fprintf(stderr, "\r%s [%.*s%*s] %3d%%", label_.c_str(), filled,
               "########################################", kWidth - filled, "",
               static_cast<int>(100 * done / total));
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace fscanary::agent
