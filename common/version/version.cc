#include "common/version/version.h"

#ifndef FSCANARY_VERSION
#error "FSCANARY_VERSION is set by common/version/CMakeLists.txt"
#endif
#ifndef FSCANARY_REVISION
#error "FSCANARY_REVISION is set by common/version/CMakeLists.txt"
#endif

namespace fscanary::version {

std::string_view Version() { return FSCANARY_VERSION; }

std::string_view SourceRevision() { return FSCANARY_REVISION; }

std::string VersionWithRevision() {
  const std::string_view revision = SourceRevision();
  std::string text(Version());
  if (revision != "unknown") {
    text += '+';
    text += revision;
  }
  return text;
}

}  // namespace fscanary::version
