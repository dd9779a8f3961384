#include "collector/analysis/jsonl_reader.h"

#include <cmath>
#include <limits>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace fscanary::analysis {
namespace {

using nlohmann::json;

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Reads one line as SAX events straight into the builder's ids: a line with
// thousands of attributes never becomes a JSON tree. The first problem found
// stops the parse and is kept in `error`.
class LineHandler : public nlohmann::json_sax<json> {
 public:
  explicit LineHandler(FleetBuilder& builder) : builder_(builder) {}

  // The epoch, or what is wrong with the line.
  absl::Status Finish(bool parsed) {
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    if (!parsed) return absl::InvalidArgumentError("not valid JSON");
    if (!has_host_ || host_.empty()) {
      return absl::InvalidArgumentError("\"host\" must be a non-empty string");
    }
    if (!has_bytes_) return absl::InvalidArgumentError("missing \"exposure_bytes\"");
    return builder_.AddEpoch({.host = host_,
                              .exposure_bytes = bytes_,
                              .exposure_seconds = seconds_,
                              .start_seconds = start_,
                              .values = values_,
                              .corruptions = corruptions_});
  }

  bool null() override { return Scalar(Kind::kNull, 0, 0, ""); }
  bool boolean(bool value) override { return Scalar(Kind::kBool, 0, 0, value ? "true" : "false"); }
  bool number_integer(number_integer_t value) override {
    if (value < 0)
      return Scalar(Kind::kNegative, static_cast<double>(value), 0, std::to_string(value));
    return number_unsigned(static_cast<number_unsigned_t>(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return Scalar(Kind::kCount, static_cast<double>(value), value, std::to_string(value));
  }
  bool number_float(number_float_t value, const string_t&) override {
    return Scalar(Kind::kFloat, value, 0, json(value).dump());
  }
  bool string(string_t& value) override { return Scalar(Kind::kString, 0, 0, value); }
  bool binary(binary_t&) override { return Fail("not valid JSON"); }

  bool start_object(std::size_t) override {
    if (depth_++ == 0) return true;
    if (skip_depth_ > 0 || depth_ > 2) return Nested();
    if (key_ == "attributes") {
      section_ = Section::kAttributes;
    } else if (key_ == "corruptions") {
      section_ = Section::kCorruptions;
    } else {
      return Nested();
    }
    return true;
  }
  bool end_object() override {
    if (--depth_ == 1) section_ = Section::kTop;
    if (skip_depth_ > 0 && depth_ < skip_depth_) skip_depth_ = 0;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return Fail("not a JSON object");
    ++depth_;
    return Nested();
  }
  bool end_array() override {
    --depth_;
    if (skip_depth_ > 0 && depth_ < skip_depth_) skip_depth_ = 0;
    return true;
  }
  bool key(string_t& name) override {
    key_ = name;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Kind { kNull, kBool, kCount, kNegative, kFloat, kString };
  enum class Section { kTop, kAttributes, kCorruptions };

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  // An object or array where a scalar or a known object is expected.
  bool Nested() {
    if (skip_depth_ > 0) return true;
    if (section_ == Section::kAttributes && depth_ == 3) {
      return Fail("attribute \"" + key_ + "\" must be a string, number or boolean");
    }
    if (section_ == Section::kCorruptions && depth_ == 3) {
      return Fail("corruptions of \"" + key_ + "\" must be a non-negative integer");
    }
    if (depth_ == 2 && key_ == "host") return Fail("\"host\" must be a non-empty string");
    if (depth_ == 2 && (key_ == "exposure_bytes" || key_ == "exposure_seconds")) {
      return Fail("\"" + key_ + "\" must be a non-negative number");
    }
    if (depth_ == 2 && key_ == "start_seconds") return Fail("\"start_seconds\" must be a number");
    skip_depth_ = depth_;  // an unknown field: ignored, whatever it holds
    return true;
  }

  // `number` for any number, `count` for a non-negative integer.
  bool Scalar(Kind kind, double number, uint64_t count, const std::string& text) {
    if (depth_ == 0) return Fail("not a JSON object");
    if (skip_depth_ > 0) return true;
    const bool is_number = kind == Kind::kCount || kind == Kind::kNegative || kind == Kind::kFloat;
    if (section_ == Section::kAttributes) {
      if (key_.empty()) return Fail("an attribute name is empty");
      if (kind != Kind::kNull) values_.push_back(builder_.Value(builder_.Attribute(key_), text));
      return true;
    }
    if (section_ == Section::kCorruptions) {
      if (key_.empty()) return Fail("a corruption kind is empty");
      if (kind != Kind::kCount) {
        return Fail("corruptions of \"" + key_ + "\" must be a non-negative integer");
      }
      corruptions_.push_back({builder_.Kind(key_), count});
      return true;
    }
    if (key_ == "host") {
      if (kind != Kind::kString) return Fail("\"host\" must be a non-empty string");
      host_ = text;
      has_host_ = true;
    } else if (key_ == "exposure_bytes" || key_ == "exposure_seconds") {
      if (!is_number || number < 0 || !std::isfinite(number)) {
        return Fail("\"" + key_ + "\" must be a non-negative number");
      }
      (key_ == "exposure_bytes" ? bytes_ : seconds_) = number;
      has_bytes_ = has_bytes_ || key_ == "exposure_bytes";
    } else if (key_ == "start_seconds") {
      if (!is_number || !std::isfinite(number)) return Fail("\"start_seconds\" must be a number");
      start_ = number;
    } else if (key_ == "corruptions") {
      if (kind != Kind::kCount) return Fail("\"corruptions\" must be a non-negative integer");
      if (count > 0) corruptions_.push_back({builder_.Kind(""), count});
    } else if (key_ == "attributes") {
      if (kind != Kind::kNull) return Fail("\"attributes\" must be an object");
    }
    return true;
  }

  FleetBuilder& builder_;
  int depth_ = 0;
  int skip_depth_ = 0;  // > 0 while inside an ignored field
  Section section_ = Section::kTop;
  std::string key_;
  std::string host_;
  bool has_host_ = false;
  bool has_bytes_ = false;
  double bytes_ = 0;
  double seconds_ = 0;
  double start_ = std::numeric_limits<double>::quiet_NaN();
  std::vector<ValueId> values_;
  std::vector<FleetBuilder::KindCount> corruptions_;
  std::string error_;
};

absl::Status AddLine(std::string_view text, FleetBuilder& builder) {
  LineHandler handler(builder);
  const bool parsed = json::sax_parse(text, &handler);
  return handler.Finish(parsed);
}

}  // namespace

absl::StatusOr<JsonlFleet> ReadFleetJsonl(std::istream& input, const JsonlOptions& options) {
  FleetBuilder builder(options.layout);
  std::vector<BadLine> bad_lines;
  uint64_t number = 0;
  std::string text;
  while (std::getline(input, text)) {
    ++number;
    if (IsBlank(text)) continue;
    if (absl::Status status = AddLine(text, builder); !status.ok()) {
      if (options.on_bad_line == BadLinePolicy::kFail) {
        return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", status.message()));
      }
      bad_lines.push_back({number, std::string(status.message())});
    }
  }
  if (input.bad()) return absl::DataLossError(absl::StrCat("read failed after line ", number));
  return JsonlFleet{
      .fleet = std::move(builder).Build(), .bad_lines = std::move(bad_lines), .lines = number};
}

}  // namespace fscanary::analysis
