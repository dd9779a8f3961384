#pragma once
// Reads a YAML config into plain structs and reports every problem the way an
// operator needs it: "agent.yaml:12: targets[0].block_size: <what is wrong>".
// Unknown and duplicate keys, missing required keys, wrong types and values
// out of range are all collected, then returned together, sorted by line.
// yaml-cpp stays inside the .cc file.
//
// Use: Reader::Parse, then bind each field of the struct to its key through the
// Section handles (a key left out keeps the field's default), then Finish().
// Not thread-safe; sections are handles into their Reader's document.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/config/durations.h"
#include "common/config/scalars.h"

namespace fscanary::config {

namespace internal {
struct Document;
struct SectionState;
}  // namespace internal

// One mapping of the document ("collector", "targets[0]", or the root).
class Section {
 public:
  // The key path of this mapping: "targets[0]"; empty for the root.
  const std::string& path() const;
  // The key path of `key` inside it: "targets[0].block_size".
  std::string PathOf(std::string_view key) const;
  // 1-based line of `key` if present, else of this mapping (0 if unknown).
  int LineOf(std::string_view key) const;

  // Present with a value (a key whose value is empty or ~ counts as absent).
  bool Has(std::string_view key) const;
  // Reports "missing required key" unless Has(key).
  void Require(std::string_view key);

  // Each Read leaves `value` untouched when the key is absent, and reports a
  // problem (leaving it untouched) when the value has the wrong type or range.
  // Strings: any scalar. Numbers and booleans: unquoted scalars only.
  void Read(std::string_view key, std::string& value);
  void Read(std::string_view key, bool& value);
  void Read(std::string_view key, double& value, double min, double max);
  void ReadInteger(std::string_view key, uint64_t& value, uint64_t min, uint64_t max);
  // 4096, 64K, 1G (common/sizes.h).
  void ReadSize(std::string_view key, uint64_t& value, uint64_t min, uint64_t max);
  // 30s, 5m, 1h, 100ms (durations.h).
  void ReadDuration(std::string_view key, Duration& value, Duration min, Duration max);
  // A list of strings: [a, b] or one "- item" per line.
  void ReadStringList(std::string_view key, std::vector<std::string>& values);

  template <typename Int>
  void ReadInteger(std::string_view key, Int& value, uint64_t min, uint64_t max) {
    uint64_t wide = value;
    ReadInteger(key, wide, min, max);
    value = static_cast<Int>(wide);
  }

  // A name turned into an enum by `parse` (a function of std::string_view
  // returning absl::StatusOr<T>); its error message is reported with the key.
  template <typename T, typename Parse>
  void ReadEnum(std::string_view key, T& value, Parse parse) {
    const std::optional<std::string> name = ReadName(key);
    if (!name) return;
    absl::StatusOr<T> parsed = parse(std::string_view(*name));
    if (!parsed.ok()) {
      Fail(key, std::string(parsed.status().message()));
      return;
    }
    value = *parsed;
  }

  // A nested mapping; nullopt when absent or empty (a section whose keys are
  // all commented out is the same as no section), or on a type problem.
  std::optional<Section> Child(std::string_view key);
  // A list of mappings ("targets"), each addressed as "targets[i]"; items
  // that are not mappings are reported and skipped. Nullopt when absent or
  // without a value, or when not a list (reported); [] gives an empty vector.
  std::optional<std::vector<Section>> Children(std::string_view key);

  // A problem found by the caller (a cross-field check), at `key`'s line.
  void Fail(std::string_view key, std::string_view message);
  // Reports `status`'s message at `key` unless it is OK (for the checks.h
  // validators).
  void Check(std::string_view key, const absl::Status& status);
  // A problem about the mapping itself, at its line.
  void FailHere(std::string_view message);

 private:
  friend class Reader;
  Section(std::shared_ptr<internal::Document> document,
          std::shared_ptr<internal::SectionState> state);
  // The scalar at `key`, or nullopt (absent, or reported as a problem).
  std::optional<Scalar> ReadScalar(std::string_view key);
  std::optional<std::string> ReadName(std::string_view key);
  // Stores a parsed value, or reports why it could not be parsed.
  template <typename T>
  void Assign(std::string_view key, const absl::StatusOr<T>& parsed, T& value) {
    if (parsed.ok()) {
      value = *parsed;
    } else {
      Fail(key, std::string(parsed.status().message()));
    }
  }

  std::shared_ptr<internal::Document> document_;
  std::shared_ptr<internal::SectionState> state_;
};

class Reader {
 public:
  // Parses one YAML document whose top level is a mapping. Syntax errors,
  // an empty document and several documents are InvalidArgument naming
  // `source` and the line. `source` is how messages name the text
  // ("agent.yaml", or the path it was read from).
  static absl::StatusOr<Reader> Parse(std::string_view text, std::string_view source);

  Section Root();

  // Adds an "unknown key" problem for every key of every section read that no
  // Read/Has/Child asked for, then returns OK or one InvalidArgument listing
  // every problem, one per line, sorted by line.
  absl::Status Finish();

  // Runs `body`, turning an exception thrown by yaml-cpp (or anything else)
  // into a status naming `source` and, where known, the line. The boundary
  // beyond which no exception escapes.
  static absl::Status Guard(std::string_view source, const std::function<absl::Status()>& body);

 private:
  explicit Reader(std::shared_ptr<internal::Document> document);
  std::shared_ptr<internal::Document> document_;
};

}  // namespace fscanary::config
