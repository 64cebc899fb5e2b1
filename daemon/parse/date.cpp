#include "daemon/parse/date.h"

namespace newsmon::parse {

struct DateFormat::Impl {};

std::optional<core::TimePoint> ParseDate(std::string_view) { return std::nullopt; }

std::optional<DateFormat> DateFormat::Make(std::string, const std::string&, std::string*) {
  return DateFormat(std::make_unique<Impl>());
}
std::optional<core::TimePoint> DateFormat::Parse(std::string_view) const { return std::nullopt; }
DateFormat::DateFormat(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DateFormat::~DateFormat() = default;
DateFormat::DateFormat(DateFormat&&) noexcept = default;
DateFormat& DateFormat::operator=(DateFormat&&) noexcept = default;

}  // namespace newsmon::parse
