// ASCII character tests shared by the markup readers (HTML, CSS, XML prologues, charset
// labels). Locale-free on purpose: the daemon must not depend on one.
#pragma once

#include <algorithm>
#include <string_view>

namespace newsmon::parse {

// Whitespace as HTML, CSS and XML markup define it: space, tab, LF, CR and form feed.
constexpr bool IsMarkupSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
constexpr bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
constexpr char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

constexpr bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsNoCase(text.substr(0, prefix.size()), prefix);
}

constexpr std::string_view TrimMarkupSpace(std::string_view s) {
  while (!s.empty() && IsMarkupSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsMarkupSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace newsmon::parse
