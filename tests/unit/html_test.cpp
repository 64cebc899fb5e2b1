#include <gtest/gtest.h>

TEST(html, Placeholder) {}
