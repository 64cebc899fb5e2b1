#include <gtest/gtest.h>

TEST(ParseFixtures, Placeholder) {}
