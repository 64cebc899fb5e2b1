#include "daemon/core/message_template.h"

#include <fmt/args.h>
#include <fmt/format.h>

#include <array>
#include <vector>

#include "daemon/core/time.h"

namespace newsmon::core {
namespace {

// The fields in kTemplateFields order.
using FieldValues = std::array<std::string, std::size(kTemplateFields)>;

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += ", ";
    out += part;
  }
  return out;
}

FieldValues ValuesOf(const Alert& alert) {
  std::vector<std::string> rules;
  for (const auto& hit : alert.rules) rules.push_back(hit.rule);
  const Item& item = alert.item;
  return {Join(rules),
          std::string(NameOf<RuleSeverity>(kRuleSeverityNames, MaxSeverity(alert))),
          alert.source,
          item.title,
          item.link.value_or(""),
          item.summary.value_or(""),
          item.author.value_or(""),
          item.published ? FormatRfc3339(*item.published) : "",
          Join(item.categories),
          item.id,
          alert.delivery_id};
}

std::string Format(std::string_view text, const FieldValues& values) {
  fmt::dynamic_format_arg_store<fmt::format_context> args;
  for (std::size_t i = 0; i < values.size(); ++i) {
    args.push_back(fmt::arg(kTemplateFields[i].data(), values[i]));
  }
  return fmt::vformat(text, args);
}

}  // namespace

std::optional<std::string> TemplateProblem(std::string_view text) {
  FieldValues sample;
  sample.fill("x");
  try {
    Format(text, sample);
  } catch (const fmt::format_error& e) {
    std::string fields;
    for (auto name : kTemplateFields) fields += (fields.empty() ? "" : ", ") + std::string(name);
    return std::string("invalid message template: ") + e.what() + " (fields: " + fields + ")";
  }
  return std::nullopt;
}

std::string RenderTemplate(std::string_view text, const Alert& alert) {
  try {
    return Format(text, ValuesOf(alert));
  } catch (const fmt::format_error& e) {
    return std::string("(message template error: ") + e.what() + ")";
  }
}

}  // namespace newsmon::core
