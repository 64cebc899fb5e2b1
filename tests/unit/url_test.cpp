#include <gtest/gtest.h>

TEST(url, Placeholder) {}
