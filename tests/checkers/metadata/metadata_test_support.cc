#include "tests/checkers/metadata/metadata_test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "checkers/metadata/manifest_store.h"
#include "gtest/gtest.h"
#include "io/posix.h"

namespace fscanary::metadata::testing {
namespace {

// Size of a journal holding only its header frame (what every Open leaves).
constexpr uint64_t kEmptyJournalBytes = 12 + 29;

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

[[noreturn]] void ChildFail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "crash child: %s: %s\n", what, status.ToString().c_str());
  ::_exit(3);
}

// The child: open, say so, step forever, say when the first step is done.
[[noreturn]] void RunChild(const MetadataOptions& options, int report_fd) {
  auto checker = MetadataChecker::Open(options, nullptr);
  if (!checker.ok()) ChildFail("open", checker.status());
  const char opened = 'o';
  if (::write(report_fd, &opened, 1) != 1) ::_exit(4);
  bool reported = false;
  for (;;) {
    auto findings = (*checker)->Step(io::MonotonicNanos());
    if (!findings.ok()) ChildFail("step", findings.status());
    if (!findings->empty()) {
      std::fprintf(stderr, "crash child: %zu findings, first %s: %s\n", findings->size(),
                   findings->front().path.c_str(), findings->front().detail.c_str());
      ::_exit(5);
    }
    if (!reported) {
      const char stepped = 's';
      if (::write(report_fd, &stepped, 1) != 1) ::_exit(4);
      reported = true;
    }
  }
}

// Reads the child's reports until `wanted` arrives; false at EOF (it died).
bool WaitFor(int fd, char wanted) {
  for (;;) {
    char got = 0;
    const ssize_t n = ::read(fd, &got, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (got == wanted) return true;
  }
}

}  // namespace

MetadataOptions TestOptions(const std::string& root, const std::string& state_dir,
                            uint64_t entries) {
  return {.name = "test",
          .root = root,
          .state_dir = state_dir,
          .entries = entries,
          .changes_per_round = 32,
          .growth_changes_per_step = 64,
          .change_interval_ns = 3'600'000'000'000,
          .verify_interval_ns = 3'600'000'000'000,
          .verify_entries_per_step = 100'000,
          .seed = 0x5eed};
}

absl::Status Grow(MetadataChecker& checker, uint64_t entries) {
  while (checker.model().paths.size() * 10 < entries * 9) {
    if (absl::Status status = checker.Mutate(64); !status.ok()) return status;
  }
  return absl::OkStatus();
}

EntryCounts CountEntries(const TreeModel& model) {
  EntryCounts counts;
  std::map<std::string, uint64_t> children;
  for (const auto& [path, id] : model.paths) {
    const Node& node = model.nodes.at(id);
    ++children[std::string(ParentOf(path))];
    counts.max_depth = std::max(counts.max_depth, DepthOf(path));
    switch (node.type) {
      case NodeType::kDirectory:
        ++counts.directories;
        break;
      case NodeType::kSymlink: {
        ++counts.symlinks;
        // Relative to the link's directory: "../" climbs, the rest descends.
        std::string target = node.target;
        int up = 0;
        while (target.starts_with("../")) {
          target = target.substr(3);
          ++up;
        }
        if (up == DepthOf(path) && !model.paths.contains(target)) ++counts.dangling_symlinks;
        break;
      }
      case NodeType::kFile:
        break;
    }
    if (!node.xattrs.empty()) ++counts.with_xattrs;
  }
  for (const auto& [id, node] : model.nodes) {
    if (node.type != NodeType::kFile) continue;
    ++counts.files;
    if (node.links >= 2) ++counts.hard_linked_files;
    uint64_t data = 0;
    uint64_t end = 0;
    bool inner_hole = false;
    for (const Extent& extent : node.layout.extents) {
      if (extent.offset > end && end > 0) inner_hole = true;
      data += extent.length;
      end = extent.offset + extent.length;
    }
    if (inner_hole) ++counts.files_with_inner_holes;
    if (node.layout.size >= 1 && node.layout.size <= 60 && data == node.layout.size) {
      ++counts.small_files;
    }
    if (data >= 64 * 1024) ++counts.large_files;
    if (!node.layout.extents.empty() && node.layout.extents.front().offset >= 256 * 1024 &&
        data * 2 < node.layout.size) {
      ++counts.sparse_files;
    }
  }
  for (const auto& [directory, count] : children) {
    counts.largest_directory = std::max(counts.largest_directory, count);
  }
  return counts;
}

std::optional<std::string> FindPath(
    const TreeModel& model, const std::function<bool(const std::string&, const Node&)>& predicate) {
  for (const auto& [path, id] : model.paths) {
    if (predicate(path, model.nodes.at(id))) return path;
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> PathsAndDetails(
    const std::vector<checker::Finding>& findings) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const checker::Finding& finding : findings) out.emplace_back(finding.path, finding.detail);
  return out;
}

std::string Describe(const std::vector<checker::Finding>& findings) {
  std::string text;
  for (const checker::Finding& finding : findings) {
    absl::StrAppend(&text, "\n  ", finding.path, ": ", finding.detail,
                    finding.persistent ? " (persistent)" : " (transient)");
  }
  return text;
}

std::string Summarize(const CrashLoopResult& result) {
  std::string text = absl::StrCat(result.kills, " kills, operations ", result.first_seq, " -> ",
                                  result.last_seq, ", pending at open ", result.pending_found,
                                  " (done ", result.pending_done, "; interrupted:");
  for (const auto& [kind, count] : result.interrupted)
    absl::StrAppend(&text, " ", kind, " ", count);
  absl::StrAppend(&text, "), findings ", result.findings);
  return text;
}

CrashLoopResult RunCrashLoop(const MetadataOptions& options, int kills, uint64_t random_seed) {
  // Printed, so a failing sequence of kill delays can be replayed.
  SCOPED_TRACE(absl::StrCat("kill delays seeded with ", random_seed));
  std::mt19937_64 random(random_seed);
  CrashLoopResult result;
  MetadataOptions child_options = options;
  child_options.change_interval_ns = 0;
  const std::string journal = options.state_dir + "/" + std::string(kJournalFileName);
  for (int run = 0; run < kills; ++run) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return result;
    }
    const pid_t child = ::fork();
    if (child < 0) {
      ADD_FAILURE() << "fork failed";
      return result;
    }
    if (child == 0) {
      ::close(fds[0]);
      RunChild(child_options, fds[1]);
    }
    ::close(fds[1]);
    // Every fourth kill comes at any moment after the fork: during Open, its
    // recovery and compaction, or the first walk.
    const bool anytime = run % 4 == 3;
    bool alive = true;
    if (!anytime) alive = WaitFor(fds[0], 'o') && WaitFor(fds[0], 's');
    if (alive) {
      io::SleepNanos(std::uniform_int_distribution<uint64_t>(0, 50'000'000)(random));
      ::kill(child, SIGKILL);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(fds[0]);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
      ADD_FAILURE() << "run " << run << ": the child ended by itself (status " << status
                    << "); see its stderr";
      return result;
    }
    ++result.kills;
    if (!anytime) {
      EXPECT_GT(FileSize(journal), kEmptyJournalBytes)
          << "run " << run << ": the child changed nothing before it was killed";
    }

    auto checker = MetadataChecker::Open(options, nullptr);
    if (!checker.ok()) {
      ADD_FAILURE() << "run " << run << ": open after kill: " << checker.status();
      return result;
    }
    if ((*checker)->stats().recovered_pending) {
      ++result.pending_found;
      ++result.interrupted[(*checker)->stats().recovered_op];
    }
    if ((*checker)->stats().recovered_done) ++result.pending_done;
    EXPECT_TRUE((*checker)->stats().recovery_unexplained.empty())
        << "run " << run << ": " << (*checker)->stats().recovery_unexplained.front();
    auto findings = (*checker)->VerifyAll();
    if (!findings.ok()) {
      ADD_FAILURE() << "run " << run << ": verify: " << findings.status();
      return result;
    }
    result.findings += findings->size();
    EXPECT_TRUE(findings->empty()) << "run " << run << " after a kill:" << Describe(*findings);
    if (run == 0) result.first_seq = (*checker)->model().seq;
    result.last_seq = (*checker)->model().seq;
  }
  return result;
}

}  // namespace fscanary::metadata::testing
