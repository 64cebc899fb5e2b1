// Phrases: the friendly way to write keywords (and `all`/`none` entries). A phrase is
// words separated by spaces or hyphens. It matches
//   - case-insensitively, with Unicode simple case folding ("азия" matches "АЗИЯ");
//   - on Unicode word boundaries: letters, digits, marks and '_' are word characters, so
//     "Азия" does not match inside "Евразия" and "BRI" not inside "BRICS";
//   - with any run of whitespace, no-break or other Unicode spaces, hyphens and dashes
//     between words ("Belt and Road" matches "Belt-and-Road", "belt  and\u00a0road");
//   - with straight and curly quotes alike: ' ‘ ’ ‚ ‛ ′ ʼ ` ´ are one apostrophe,
//     " “ ” „ ‟ ″ « » one double quote;
//   - a '*' at the end of a word matches any ending of that word ("Казахстан*" matches
//     "Казахстана", "коридор* " matches "коридоре"); '*' anywhere else is an error.
// Internal to the rules module.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace newsmon::rules {

struct PhraseRegex {
  // RE2 syntax for the phrase itself; the word boundaries around it are not in the regex
  // (RE2's \b is ASCII-only and a Unicode class costs ~1,400 instructions) but checked on
  // each candidate by the flags below.
  std::string core;
  // A looser regex for the rules' RE2::Set: on the text with a space in front
  // (kPrefilterPadding), it matches wherever `core` does with its boundaries (and sometimes
  // more), using boundary classes that stay small.
  std::string prefilter;
  bool boundary_before = false;  // the phrase starts with a word character
  bool boundary_after = false;   // it ends with one (and no '*')
  bool extend_end = false;       // it ends with '*': the match runs to the end of the word
};

// What the Set's texts start with: a prefilter needs a character before a keyword.
inline constexpr char kPrefilterPadding = ' ';

// nullopt with `error` set when the phrase is empty, not UTF-8 or misuses '*'.
std::optional<PhraseRegex> CompilePhrase(std::string_view phrase, std::string& error);

// Whether the code point at `text[at]` (or ending just before `at`) is a word character;
// true for an invalid byte (no word boundary next to one).
bool WordCharAt(std::string_view text, std::size_t at);
bool WordCharBefore(std::string_view text, std::size_t at);
// The end of the word that continues at `at`.
std::size_t WordEnd(std::string_view text, std::size_t at);

}  // namespace newsmon::rules
