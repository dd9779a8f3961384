#pragma once
// Test assertions on absl::Status and StatusOr that print the status when
// they fail.

#include <utility>

#include "absl/status/status.h"
#include "gtest/gtest.h"

#define FSCANARY_TEST_CONCAT_INNER_(a, b) a##b
#define FSCANARY_TEST_CONCAT_(a, b) FSCANARY_TEST_CONCAT_INNER_(a, b)

// `ASSERT_OK_AND_ASSIGN(auto x, MakeX());` or fails the test with the status.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(FSCANARY_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = std::move(statusor).value()

// A Status, or a StatusOr (whose status is printed).
#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const auto& fscanary_test_result_ = (expr);                  \
    ASSERT_TRUE(fscanary_test_result_.ok())                      \
        << ::fscanary::testing::StatusOf(fscanary_test_result_); \
  } while (false)

namespace fscanary::testing {
inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const T& status_or) {
  return status_or.status();
}
}  // namespace fscanary::testing
