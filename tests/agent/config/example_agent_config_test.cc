// deploy/config/agent.yaml loads, and docs/CONFIG.md documents every key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "agent/config/agent_config.h"
#include "common/config/text_file_io.h"

namespace fscanary::config {
namespace {

const std::string kSourceDir = FSCANARY_SOURCE_DIR;

// "targets[0].schedule.scrub_interval" -> "targets[].schedule.scrub_interval".
std::string WithoutIndexes(const std::string& key) {
  std::string out;
  bool in_index = false;
  for (char c : key) {
    if (c == '[') in_index = true;
    if (c == ']') in_index = false;
    if (!in_index || c == '[') out += c;
  }
  return out;
}

TEST(ExampleAgentConfig, LoadsAndHoldsTheDefaults) {
  const absl::StatusOr<AgentConfig> example =
      LoadAgentConfig(kSourceDir + "/deploy/config/agent.yaml");
  ASSERT_TRUE(example.ok()) << example.status();
  // The example shows the defaults: it must read like an empty config plus its
  // one target.
  AgentConfig defaults;
  defaults.spool.dir = defaults.state_dir + "/spool";
  TargetConfig target;
  target.name = "scratch";
  target.path = "/var/lib/fscanary-agent/scratch.img";
  target.size = uint64_t{1} << 30;
  defaults.targets.push_back(target);
  EXPECT_EQ(DescribeConfig(*example), DescribeConfig(defaults));
}

TEST(ExampleAgentConfig, EveryKeyIsDocumentedInConfigMd) {
  const absl::StatusOr<AgentConfig> example =
      LoadAgentConfig(kSourceDir + "/deploy/config/agent.yaml");
  ASSERT_TRUE(example.ok()) << example.status();
  const absl::StatusOr<std::string> doc = ReadTextFile(kSourceDir + "/docs/CONFIG.md");
  ASSERT_TRUE(doc.ok()) << doc.status();
  // DescribeConfig leaves agent_id out.
  EXPECT_THAT(*doc, ::testing::HasSubstr("`agent_id`"));
  std::istringstream lines(DescribeConfig(*example));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("#")) continue;
    const std::string key = WithoutIndexes(line.substr(0, line.find(':')));
    EXPECT_THAT(*doc, ::testing::HasSubstr("`" + key + "`")) << "undocumented key " << key;
  }
}

}  // namespace
}  // namespace fscanary::config
