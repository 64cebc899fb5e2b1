#include <gtest/gtest.h>

TEST(charset, Placeholder) {}
