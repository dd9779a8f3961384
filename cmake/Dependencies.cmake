# Third-party libraries, all from Debian bookworm packages (scripts/install-deps.sh).
# Nothing is downloaded at configure time.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(BLKID REQUIRED IMPORTED_TARGET blkid)
find_package(absl CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(Threads REQUIRED)
if(FSCANARY_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
  include(GoogleTest)
  # gtest_discover_tests with a discovery timeout fit for CI: discovery runs
  # each test binary as soon as it links, beside the compiler jobs, and the
  # default 5 s is too little for the sanitizer build's large binaries there.
  function(fscanary_discover_tests target)
    gtest_discover_tests(${target} DISCOVERY_TIMEOUT 120 ${ARGN})
  endfunction()
endif()
if(FSCANARY_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
# libpq (Debian libpq-dev): the collector's PostgreSQL store, PkgConfig::LIBPQ.
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
find_library(CIVETWEB_LIB civetweb REQUIRED)
find_path(CIVETWEB_INCLUDE civetweb.h REQUIRED)
