#include "common/config/canonical_text.h"

#include <gtest/gtest.h>

namespace fscanary::config {
namespace {

TEST(CanonicalText, WritesOneLinePerSettingInOneFixedForm) {
  CanonicalText text("test v1");
  text.String("path", "/a \"b\"\n");
  text.Word("engine", "auto");
  text.Bool("on", true);
  text.Integer("depth", 32);
  text.Number("share", 0.01);
  text.Size("bytes", 4 << 20);
  text.Time("every", std::chrono::seconds(3600));
  EXPECT_EQ(text.text(),
            "# test v1\n"
            "path: \"/a \\\"b\\\"\\n\"\n"
            "engine: auto\n"
            "on: true\n"
            "depth: 32\n"
            "share: 0.01\n"
            "bytes: 4M\n"
            "every: 1h\n");
}

TEST(CanonicalText, SameValueWrittenDifferentlyGivesTheSameText) {
  CanonicalText a("v1");
  CanonicalText b("v1");
  a.Time("t", std::chrono::minutes(60));
  b.Time("t", std::chrono::milliseconds(3'600'000));
  a.Size("s", 1024 * 1024);
  b.Size("s", 1 << 20);
  EXPECT_EQ(a.text(), b.text());
}

}  // namespace
}  // namespace fscanary::config
