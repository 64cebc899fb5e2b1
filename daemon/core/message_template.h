// Message templates of chat sinks: fmt named fields, e.g. "{rule}: {title} — {link}".
// Checked once at config load (TemplateProblem), rendered for every alert (RenderTemplate).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/alert.h"

namespace newsmon::core {

// The fields a template may name, each a string:
//   rule        the names of the rules that matched, ", "-separated
//   severity    the highest severity among them (info, warning, critical)
//   source      the source's name
//   title, link, summary, author   the item's (empty when absent)
//   published   RFC 3339 UTC, or empty
//   categories  ", "-separated
//   id          the item's id
//   delivery_id the alert's delivery id
// fmt format specs work on them ("{title:.80}" keeps the first 80 characters).
inline constexpr std::string_view kTemplateFields[] = {
    "rule",   "severity",  "source",     "title", "link",       "summary",
    "author", "published", "categories", "id",    "delivery_id"};

// Why `text` is not a usable template (an unknown field, a bad format spec, an unmatched
// brace), or nullopt when it is.
std::optional<std::string> TemplateProblem(std::string_view text);

// `text` with the alert's fields filled in. `text` must have passed TemplateProblem; should
// it not, the error is returned as the message rather than thrown.
std::string RenderTemplate(std::string_view text, const Alert& alert);

}  // namespace newsmon::core
