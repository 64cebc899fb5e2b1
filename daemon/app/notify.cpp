#include "daemon/app/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace newsmon::app {
namespace {

// A status is one line of the notification message, whose lines are assignments.
std::string OneLine(std::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

std::string WithStatus(std::string message, std::string_view status) {
  if (!status.empty()) message += "\nSTATUS=" + OneLine(status);
  return message;
}

// CLOCK_MONOTONIC in microseconds: the clock systemd compares MONOTONIC_USEC against.
std::uint64_t MonotonicMicroseconds() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec) / 1'000u;
}

}  // namespace

// Lives as long as the notifier or a queued timer handler, whichever is longer, so a handler
// that runs after the notifier is gone finds `owner` null instead of a dangling pointer.
struct Notifier::Watchdog {
  Watchdog(boost::asio::any_io_executor executor, std::chrono::microseconds period,
           Notifier* notifier)
      : timer(std::move(executor)), period(period), owner(notifier) {}

  static void Ping(const std::shared_ptr<Watchdog>& self) {
    if (self->owner == nullptr) return;
    self->owner->Send("WATCHDOG=1");
    // From now, not from the last deadline: after a stall, one ping and back to the rhythm
    // rather than a burst of the missed ones.
    self->timer.expires_after(self->period);
    self->timer.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) Ping(self);
    });
  }

  boost::asio::steady_timer timer;
  std::chrono::microseconds period;
  Notifier* owner;  // null once stopped
};

Notifier::Notifier(spdlog::logger& log) : log_(log) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && socket[0] != '\0';
  if (!enabled_) return;
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID is unset or names this process.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds(usec);
  }
}

Notifier::~Notifier() { Stop(); }

void Notifier::Ready(std::string_view status) { Send(WithStatus("READY=1", status)); }

void Notifier::Status(std::string_view text) { Send("STATUS=" + OneLine(text)); }

void Notifier::Reloading(std::string_view status) {
  Send(
      WithStatus("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(MonotonicMicroseconds()), status));
}

void Notifier::Stopping(std::string_view status) { Send(WithStatus("STOPPING=1", status)); }

std::chrono::microseconds Notifier::StartWatchdog(boost::asio::any_io_executor executor) {
  Stop();
  if (watchdog_interval_.count() == 0) return watchdog_interval_;
  watchdog_ = std::make_shared<Watchdog>(std::move(executor), watchdog_interval_ / 2, this);
  Watchdog::Ping(watchdog_);
  return watchdog_interval_;
}

void Notifier::Stop() {
  if (!watchdog_) return;
  watchdog_->owner = nullptr;
  watchdog_->timer.cancel();
  watchdog_.reset();
}

void Notifier::Send(const std::string& message) {
  if (!enabled_) return;
  int result = sd_notify(0, message.c_str());
  if (result < 0 && !warned_) {
    warned_ = true;
    log_.warn("cannot notify the service manager ({}): {}", message.substr(0, message.find('\n')),
              std::strerror(-result));
  }
}

}  // namespace newsmon::app
