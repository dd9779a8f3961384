#include "common/config/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/scalars.h"
#include "common/config/unknown_key.h"
#include "common/status.h"

namespace fscanary::config {
namespace internal {

struct Problem {
  int line = 0;
  std::string path;
  std::string message;
};

struct Entry {
  std::string name;
  YAML::Node key;
  YAML::Node value;
};

struct SectionState {
  std::string path;
  int line = 0;
  // In document order, first occurrence of each key only.
  std::vector<Entry> entries;
  std::set<std::string, std::less<>> asked;
};

struct Document {
  std::string source;
  YAML::Node root;
  std::vector<std::shared_ptr<SectionState>> sections;
  std::shared_ptr<SectionState> root_state;
  std::vector<Problem> problems;

  void Add(int line, std::string path, std::string message) {
    problems.push_back({.line = line, .path = std::move(path), .message = std::move(message)});
  }
};

}  // namespace internal

namespace {

using internal::Document;
using internal::Entry;
using internal::SectionState;

constexpr size_t kMaxProblemsShown = 20;

int MarkLine(const YAML::Mark& mark) { return mark.is_null() ? 0 : mark.line + 1; }
int NodeLine(const YAML::Node& node) { return node.IsDefined() ? MarkLine(node.Mark()) : 0; }

// The key path of a key the file wrote (not one the code asked for).
std::string PathOfWritten(const std::string& section_path, const std::string& name) {
  const std::string escaped = absl::CEscape(name);
  return section_path.empty() ? escaped : section_path + "." + escaped;
}

// What a node holds, for "expected X, got Y".
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return DescribeScalar({.text = node.Scalar(), .quoted = node.Tag() == "!"});
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::shared_ptr<SectionState> OpenSection(Document& document, std::string path,
                                          const YAML::Node& node) {
  auto state = std::make_shared<SectionState>();
  state->path = std::move(path);
  state->line = NodeLine(node);
  if (node.IsMap()) {
    for (const auto& pair : node) {
      // Copies: the iterator's value is a temporary proxy.
      const YAML::Node key = pair.first;
      const YAML::Node value = pair.second;
      if (!key.IsScalar()) {
        document.Add(NodeLine(key), state->path, "keys must be plain names, got " + Describe(key));
        continue;
      }
      const std::string name = key.Scalar();
      auto first = std::find_if(state->entries.begin(), state->entries.end(),
                                [&](const Entry& entry) { return entry.name == name; });
      if (first != state->entries.end()) {
        document.Add(NodeLine(key), PathOfWritten(state->path, name),
                     absl::StrCat("duplicate key (first at line ", NodeLine(first->key), ")"));
        continue;
      }
      state->entries.push_back({.name = name, .key = key, .value = value});
    }
  }
  document.sections.push_back(state);
  return state;
}

const Entry* FindEntry(SectionState& state, std::string_view key) {
  state.asked.emplace(key);
  for (const Entry& entry : state.entries) {
    if (entry.name == key) return &entry;
  }
  return nullptr;
}

// The value at `key` if present and not null.
const Entry* FindValue(SectionState& state, std::string_view key) {
  const Entry* entry = FindEntry(state, key);
  if (entry == nullptr || entry->value.IsNull()) return nullptr;
  return entry;
}

// Problems with a value are reported at its key's line: that is the name the
// message gives, and a value may start lines later (or, when empty, nowhere).
int ValueLine(const Entry& entry) {
  const int line = NodeLine(entry.key);
  return line > 0 ? line : NodeLine(entry.value);
}

absl::Status StatusAt(std::string_view source, int line, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(
      absl::string_view(source.data(), source.size()), line > 0 ? absl::StrCat(":", line) : "",
      ": ", absl::string_view(message.data(), message.size())));
}

}  // namespace

Section::Section(std::shared_ptr<Document> document, std::shared_ptr<SectionState> state)
    : document_(std::move(document)), state_(std::move(state)) {}

const std::string& Section::path() const { return state_->path; }

std::string Section::PathOf(std::string_view key) const {
  if (state_->path.empty()) return std::string(key);
  return absl::StrCat(state_->path, ".", absl::string_view(key.data(), key.size()));
}

int Section::LineOf(std::string_view key) const {
  for (const Entry& entry : state_->entries) {
    if (entry.name == key) return ValueLine(entry);
  }
  return state_->line;
}

bool Section::Has(std::string_view key) const { return FindValue(*state_, key) != nullptr; }

void Section::Require(std::string_view key) {
  const Entry* entry = FindEntry(*state_, key);
  if (entry == nullptr) {
    document_->Add(
        state_->line, state_->path,
        absl::StrCat("missing required key '", absl::string_view(key.data(), key.size()), "'"));
  } else if (entry->value.IsNull()) {
    document_->Add(ValueLine(*entry), PathOf(key), "required, but has no value");
  }
}

std::optional<Scalar> Section::ReadScalar(std::string_view key) {
  const Entry* entry = FindEntry(*state_, key);
  if (entry == nullptr) return std::nullopt;
  if (!entry->value.IsScalar()) {
    document_->Add(ValueLine(*entry), PathOf(key),
                   entry->value.IsNull()
                       ? "has no value (leave the key out to use the default)"
                       : "expected a single value, got " + Describe(entry->value));
    return std::nullopt;
  }
  return Scalar{.text = entry->value.Scalar(), .quoted = entry->value.Tag() == "!"};
}

std::optional<std::string> Section::ReadName(std::string_view key) {
  std::optional<Scalar> scalar = ReadScalar(key);
  if (!scalar) return std::nullopt;
  return std::move(scalar->text);
}

void Section::Read(std::string_view key, std::string& value) {
  if (std::optional<Scalar> scalar = ReadScalar(key)) value = std::move(scalar->text);
}

void Section::Read(std::string_view key, bool& value) {
  if (std::optional<Scalar> scalar = ReadScalar(key)) Assign(key, ToBool(*scalar), value);
}

void Section::Read(std::string_view key, double& value, double min, double max) {
  if (std::optional<Scalar> scalar = ReadScalar(key)) {
    Assign(key, ToNumber(*scalar, min, max), value);
  }
}

void Section::ReadInteger(std::string_view key, uint64_t& value, uint64_t min, uint64_t max) {
  if (std::optional<Scalar> scalar = ReadScalar(key)) {
    Assign(key, ToWholeNumber(*scalar, min, max), value);
  }
}

void Section::ReadSize(std::string_view key, uint64_t& value, uint64_t min, uint64_t max) {
  if (std::optional<Scalar> scalar = ReadScalar(key)) {
    Assign(key, ToSize(*scalar, min, max), value);
  }
}

void Section::ReadDuration(std::string_view key, Duration& value, Duration min, Duration max) {
  if (std::optional<Scalar> scalar = ReadScalar(key)) {
    Assign(key, ToDuration(*scalar, min, max), value);
  }
}

void Section::ReadStringList(std::string_view key, std::vector<std::string>& values) {
  const Entry* entry = FindEntry(*state_, key);
  if (entry == nullptr) return;
  if (!entry->value.IsSequence()) {
    Fail(key, "expected a list such as [a, b], got " + Describe(entry->value));
    return;
  }
  std::vector<std::string> items;
  bool ok = true;
  for (size_t i = 0; i < entry->value.size(); ++i) {
    const YAML::Node item = entry->value[i];
    if (!item.IsScalar()) {
      document_->Add(NodeLine(item) > 0 ? NodeLine(item) : ValueLine(*entry),
                     absl::StrCat(PathOf(key), "[", i, "]"),
                     "expected a name, got " + Describe(item));
      ok = false;
      continue;
    }
    items.push_back(item.Scalar());
  }
  if (ok) values = std::move(items);
}

std::optional<Section> Section::Child(std::string_view key) {
  const Entry* entry = FindEntry(*state_, key);
  if (entry == nullptr || entry->value.IsNull()) return std::nullopt;
  if (!entry->value.IsMap()) {
    Fail(key, "expected a mapping of settings, got " + Describe(entry->value));
    return std::nullopt;
  }
  return Section(document_, OpenSection(*document_, PathOf(key), entry->value));
}

std::optional<std::vector<Section>> Section::Children(std::string_view key) {
  const Entry* entry = FindEntry(*state_, key);
  if (entry == nullptr || entry->value.IsNull()) return std::nullopt;
  if (!entry->value.IsSequence()) {
    Fail(key, "expected a list (one '- ' item per entry), got " + Describe(entry->value));
    return std::nullopt;
  }
  std::vector<Section> children;
  for (size_t i = 0; i < entry->value.size(); ++i) {
    const YAML::Node item = entry->value[i];
    const std::string path = absl::StrCat(PathOf(key), "[", i, "]");
    if (!item.IsMap()) {
      document_->Add(NodeLine(item) > 0 ? NodeLine(item) : ValueLine(*entry), path,
                     "expected a mapping of settings, got " + Describe(item));
      continue;
    }
    children.push_back(Section(document_, OpenSection(*document_, path, item)));
  }
  return children;
}

void Section::Fail(std::string_view key, std::string_view message) {
  document_->Add(LineOf(key), PathOf(key), std::string(message));
}

void Section::Check(std::string_view key, const absl::Status& status) {
  if (!status.ok()) Fail(key, std::string(status.message()));
}

void Section::FailHere(std::string_view message) {
  document_->Add(state_->line, state_->path, std::string(message));
}

Reader::Reader(std::shared_ptr<Document> document) : document_(std::move(document)) {}

absl::StatusOr<Reader> Reader::Parse(std::string_view text, std::string_view source) {
  std::vector<YAML::Node> documents;
  RETURN_IF_ERROR(Guard(source, [&] {
    documents = YAML::LoadAll(std::string(text));
    return absl::OkStatus();
  }));
  if (documents.empty() || (documents.size() == 1 && documents[0].IsNull())) {
    return StatusAt(source, 0,
                    "the configuration is empty (expected a mapping of settings; see "
                    "docs/CONFIG.md)");
  }
  if (documents.size() > 1) {
    return StatusAt(source, NodeLine(documents[1]),
                    "a second YAML document ('---'): a configuration is one document");
  }
  if (!documents[0].IsMap()) {
    return StatusAt(
        source, NodeLine(documents[0]),
        "expected a mapping of settings at the top level, got " + Describe(documents[0]));
  }
  auto document = std::make_shared<Document>();
  document->source = std::string(source);
  document->root = documents[0];
  return Reader(std::move(document));
}

Section Reader::Root() {
  // One state for the root however often it is asked for, so that its unknown
  // keys are reported once.
  if (!document_->root_state) document_->root_state = OpenSection(*document_, "", document_->root);
  return Section(document_, document_->root_state);
}

absl::Status Reader::Finish() {
  for (const std::shared_ptr<SectionState>& section : document_->sections) {
    for (const Entry& entry : section->entries) {
      if (section->asked.contains(entry.name)) continue;
      document_->Add(NodeLine(entry.key), PathOfWritten(section->path, entry.name),
                     UnknownKeyMessage(entry.name, section->asked));
    }
  }
  std::vector<internal::Problem> problems = std::move(document_->problems);
  document_->problems.clear();
  if (problems.empty()) return absl::OkStatus();
  std::stable_sort(problems.begin(), problems.end(),
                   [](const auto& a, const auto& b) { return a.line < b.line; });
  std::vector<std::string> lines;
  for (size_t i = 0; i < problems.size() && i < kMaxProblemsShown; ++i) {
    const internal::Problem& problem = problems[i];
    lines.push_back(absl::StrCat(document_->source,
                                 problem.line > 0 ? absl::StrCat(":", problem.line) : "", ": ",
                                 problem.path.empty() ? "" : problem.path + ": ", problem.message));
  }
  if (problems.size() > kMaxProblemsShown) {
    lines.push_back(absl::StrCat("... and ", problems.size() - kMaxProblemsShown, " more"));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

absl::Status Reader::Guard(std::string_view source, const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const YAML::Exception& error) {
    // error.msg is the message without yaml-cpp's own "line N, column M" prefix.
    return StatusAt(source, MarkLine(error.mark), "YAML: " + error.msg);
  } catch (const std::exception& error) {
    return absl::InternalError(
        absl::StrCat(absl::string_view(source.data(), source.size()), ": ", error.what()));
  }
}

}  // namespace fscanary::config
