#include <gtest/gtest.h>

TEST(parse_text, Placeholder) {}
