#include <gtest/gtest.h>

TEST(parse, Placeholder) {}
