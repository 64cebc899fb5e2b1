#include "daemon/config/config.h"

#include <gtest/gtest.h>

namespace newsmon::config {
namespace {

TEST(ConfigTest, Placeholder) { SUCCEED(); }

}  // namespace
}  // namespace newsmon::config
