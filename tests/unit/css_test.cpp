#include <gtest/gtest.h>

TEST(css, Placeholder) {}
