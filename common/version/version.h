#pragma once
// The version and source revision this build was made from: the CMake project
// version and the git commit at configure time ("unknown" for a build outside
// a git checkout, e.g. from a release tarball, unless the packager passed
// -DFSCANARY_SOURCE_REVISION). Constants; thread-safe.

#include <string>
#include <string_view>

namespace fscanary::version {

// "0.1.0": the release version (CMakeLists.txt `project(... VERSION ...)`).
std::string_view Version();

// 12 hex digits of the commit ("-dirty" appended when tracked files differed
// from it), or "unknown".
std::string_view SourceRevision();

// What the agent reports as its version: "0.1.0+<revision>" (semver build
// metadata), or just the version when the revision is unknown.
std::string VersionWithRevision();

}  // namespace fscanary::version
