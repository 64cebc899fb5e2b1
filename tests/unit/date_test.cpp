#include <gtest/gtest.h>

TEST(date, Placeholder) {}
