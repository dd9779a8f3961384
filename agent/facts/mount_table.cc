#include "agent/facts/mount_table.h"

#include <algorithm>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "agent/facts/proc_text.h"
#include "common/sysfs/proc_tables.h"

namespace fscanary::facts {
namespace {

std::string Unescape(absl::string_view field) {
  return sysfs::UnescapeProcPath(std::string_view(field.data(), field.size()));
}

// Whether `mount_point` is `path` or a leading run of its components.
bool Covers(std::string_view mount_point, std::string_view path) {
  if (mount_point == "/") return !path.empty() && path.front() == '/';
  return path.substr(0, mount_point.size()) == mount_point &&
         (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

}  // namespace

std::vector<MountEntry> ParseMountTable(std::string_view text) {
  std::vector<MountEntry> mounts;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipWhitespace())) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const auto separator = std::find(fields.begin(), fields.end(), "-");
    if (separator - fields.begin() < 6 || fields.end() - separator < 3) continue;
    const std::optional<sysfs::DeviceNumber> number =
        ParseDeviceNumber(std::string_view(fields[2].data(), fields[2].size()));
    if (!number) continue;
    MountEntry entry{.number = *number};
    entry.mount_point = Unescape(fields[4]);
    entry.mount_options = std::string(fields[5]);
    entry.fs_type = Unescape(separator[1]);
    entry.source = Unescape(separator[2]);
    if (fields.end() - separator > 3) entry.super_options = std::string(separator[3]);
    mounts.push_back(std::move(entry));
  }
  return mounts;
}

std::optional<MountEntry> MountOf(const std::vector<MountEntry>& mounts, std::string_view path,
                                  sysfs::DeviceNumber st_dev) {
  const MountEntry* best = nullptr;
  bool best_matches = false;
  for (const MountEntry& entry : mounts) {
    if (!Covers(entry.mount_point, path)) continue;
    const bool matches = entry.number == st_dev;
    if (best == nullptr || (matches && !best_matches) ||
        (matches == best_matches && entry.mount_point.size() >= best->mount_point.size())) {
      best = &entry;
      best_matches = matches;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace fscanary::facts
