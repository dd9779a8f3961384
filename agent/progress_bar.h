#pragma once
// A progress bar on stderr, drawn only when stderr is a terminal, redrawn at
// most ten times a second.

#include <cstdint>
#include <string>

namespace fscanary::agent {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void Update(uint64_t done, uint64_t total);

 private:
  std::string label_;
  bool enabled_ = false;
  bool drawn_ = false;
  uint64_t last_draw_ns_ = 0;
};

}  // namespace fscanary::agent
