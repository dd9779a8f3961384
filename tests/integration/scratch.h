#pragma once
// One test's scratch target (a file in a temp dir, or a loop device over a
// sparse file there) with fscanary-agent's write and verify bound to it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/integration/agent_process.h"
#include "tests/integration/loop_device.h"
#include "tests/integration/target_bytes.h"
#include "tests/temp_dir.h"

namespace fscanary::testing {

struct ScratchOptions {
  bool loop_device = false;
  uint32_t block_size = 4096;
  uint64_t blocks = 32;
  // --engine of every command.
  std::string engine = "auto";
};

class Scratch {
 public:
  explicit Scratch(const ScratchOptions& options)
      : options_(options), layout_{.block_size = options.block_size} {}

  // Attaches the loop device when one is asked for (the caller has checked
  // LoopDevicesUnavailableReason()) and takes it over with the geometry of
  // WriteArgs. The file target is left to the agent.
  absl::Status Prepare();

  const std::string& target() const { return target_; }
  std::string state_dir() const { return dir_.Join("state"); }
  std::string evidence_dir() const { return dir_.Join("evidence"); }
  const Layout& layout() const { return layout_; }
  uint64_t blocks() const { return options_.blocks; }
  const TempDir& dir() const { return dir_; }

  // `write ... --json` with the geometry, then `extra`.
  std::vector<std::string> WriteArgs(const std::vector<std::string>& extra = {}) const;
  AgentResult Write(const std::vector<std::string>& extra = {},
                    const SpawnOptions& spawn = {}) const;
  // `verify ... --json --evidence-dir`, then `extra`.
  AgentResult Verify(const std::vector<std::string>& extra = {},
                     const SpawnOptions& spawn = {}) const;

 private:
  // `command --target --state-dir --engine --json`, then `options`, `extra`.
  std::vector<std::string> CommandArgs(const std::string& command,
                                       const std::vector<std::string>& options,
                                       const std::vector<std::string>& extra) const;

  ScratchOptions options_;
  Layout layout_;
  TempDir dir_;
  // Declared after dir_: detached before its backing file is removed.
  std::optional<LoopDevice> loop_;
  std::string target_;
};

}  // namespace fscanary::testing
