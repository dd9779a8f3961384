#include "collector/config/tokens.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/config/checks.h"
#include "common/config/text_file_io.h"
#include "common/status.h"

namespace fscanary::config {
namespace {

constexpr size_t kMinTokenLength = 16;
// A fleet's table: about 100 bytes an agent, so some 600,000 agents (the
// 1 MiB limit of other config files held about 10,000).
constexpr size_t kMaxTokensFileBytes = size_t{64} << 20;
// Bad lines named in the error; the rest are counted.
constexpr size_t kMaxProblemsNamed = 20;

bool IsPrintableWord(absl::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isgraph(static_cast<unsigned char>(c)); });
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseTokens(std::string_view text,
                                                               std::string_view source,
                                                               TokenHolder holder) {
  const std::string where(source);
  const bool agents = holder == TokenHolder::kAgent;
  const std::string line_form = agents ? "'agent_id token'" : "'name token'";
  const std::string who = agents ? "agent" : "operator";
  std::map<std::string, std::string> tokens;
  std::map<std::string, int> first_line;
  std::vector<std::string> problems;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_number;
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const std::string at = absl::StrCat(where, ":", line_number, ": ");
    if (words.size() != 2) {
      // Never echo the line: it may hold a token.
      problems.push_back(at + "expected " + line_form + " (two words)");
      continue;
    }
    const std::string agent_id(words[0]);
    if (absl::Status valid = ValidateAgentId(agent_id); !valid.ok()) {
      problems.push_back(at + std::string(valid.message()));
      continue;
    }
    if (words[1].size() < kMinTokenLength || !IsPrintableWord(words[1])) {
      problems.push_back(absl::StrCat(at, "the token of '", agent_id, "' is not at least ",
                                      kMinTokenLength, " printable characters"));
      continue;
    }
    if (auto [it, added] = first_line.emplace(agent_id, line_number); !added) {
      problems.push_back(absl::StrCat(at, who, " '", agent_id, "' is listed twice (first at line ",
                                      it->second, ")"));
      continue;
    }
    tokens.emplace(agent_id, std::string(words[1]));
  }
  if (problems.size() > kMaxProblemsNamed) {
    const size_t more = problems.size() - kMaxProblemsNamed;
    problems.resize(kMaxProblemsNamed);
    problems.push_back(absl::StrCat(where, ": and ", more, " more bad lines"));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
  if (tokens.empty()) {
    // The collector reads an empty table as "check no tokens": refuse it.
    return absl::InvalidArgumentError(where + ": holds no " + line_form + " line");
  }
  return tokens;
}

absl::StatusOr<std::map<std::string, std::string>> LoadTokensFile(const std::string& path,
                                                                  TokenHolder holder) {
  ASSIGN_OR_RETURN(const std::string text, ReadTextFile(path, kMaxTokensFileBytes));
  return ParseTokens(text, path, holder);
}

}  // namespace fscanary::config
