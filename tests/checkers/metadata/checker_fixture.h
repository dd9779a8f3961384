#pragma once
// The fixture the checker's temp-dir tests share: a tree root and its state
// dir side by side in a temp dir, grown on demand, verified whole.

#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "checkers/metadata/metadata_checker.h"
#include "gtest/gtest.h"
#include "tests/checkers/metadata/metadata_test_support.h"
#include "tests/temp_dir.h"

namespace fscanary::metadata::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline bool IsFile(const Node& node) { return node.type == NodeType::kFile; }

// A tree of `entries` grown in a temp dir: root and state dir side by side.
class MetadataCheckerTest : public ::testing::Test {
 protected:
  std::string Root() const { return base_.Join("tree"); }
  std::string State() const { return base_.Join("state"); }
  std::string At(const std::string& path) const { return Root() + "/" + path; }

  void OpenGrown(uint64_t entries) {
    auto opened = MetadataChecker::Open(TestOptions(Root(), State(), entries), nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    checker_ = *std::move(opened);
    ASSERT_TRUE(testing::Grow(*checker_, entries).ok());
  }

  std::vector<checker::Finding> Verify() {
    auto findings = checker_->VerifyAll();
    EXPECT_TRUE(findings.ok()) << findings.status();
    return findings.ok() ? *findings : std::vector<checker::Finding>{};
  }

  std::string PathWhere(const std::function<bool(const std::string&, const Node&)>& predicate) {
    const std::optional<std::string> path = FindPath(checker_->model(), predicate);
    EXPECT_TRUE(path.has_value()) << "no entry in the model fits";
    return path.value_or("");
  }

  // Every name of the first file (in model order) with exactly `links` names;
  // empty if there is none.
  std::vector<std::string> NamesOfAFileWithLinks(uint32_t links) {
    const std::string path = PathWhere(
        [&](const std::string&, const Node& node) { return IsFile(node) && node.links == links; });
    if (path.empty()) return {};
    return checker_->model().PathsOf(checker_->model().paths.at(path));
  }

  ::fscanary::testing::TempDir base_;
  std::unique_ptr<MetadataChecker> checker_;
};

}  // namespace fscanary::metadata::testing
