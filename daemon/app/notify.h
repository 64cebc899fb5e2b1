// Service-manager notifications (the sd_notify protocol): readiness, status text, reload and
// stop, and the watchdog.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace newsmon::app {

// Tells systemd (or any supervisor that sets NOTIFY_SOCKET) how the daemon is doing, and
// keeps its watchdog fed from the event loop.
//
// The watchdog pings come from a timer on the daemon's own io_context, not from a thread of
// their own, so a loop that is stuck (a blocking call, a handler that never returns) misses
// its pings and systemd restarts the service: that is what the watchdog is for.
//
// Every call is a no-op when NOTIFY_SOCKET is unset (a run from a shell, a container).
// A failed send is logged once, as a warning; the daemon carries on.
//
// Thread-safety: none. Construct, use and destroy the Notifier on the thread that runs the
// io_context whose executor StartWatchdog gets (or on any one thread before that io_context
// runs). It may be destroyed while that io_context still has the watchdog timer queued:
// the timer's handler owns what it uses. But Stop() it, or destroy it, before that
// io_context is destroyed (declare it after the io_context).
class Notifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID once, now.
  explicit Notifier(spdlog::logger& log);
  ~Notifier();  // Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Whether a service manager listens (NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }

  // READY=1: start-up (or a reload) is complete. `status`, when given, becomes STATUS=.
  void Ready(std::string_view status = {});
  // STATUS=: one line of free text that `systemctl status` shows. Newlines become spaces.
  void Status(std::string_view text);
  // RELOADING=1 with MONOTONIC_USEC=now, as systemd documents for Type=notify-reload; the
  // service stays "reloading" until the next Ready(). Older systemd ignores MONOTONIC_USEC.
  void Reloading(std::string_view status = {});
  // The end of a reload: READY=1 again.
  void ReloadDone(std::string_view status = {}) { Ready(status); }
  // STOPPING=1: a stop has begun. The watchdog keeps pinging while the loop drains.
  void Stopping(std::string_view status = {});

  // When systemd set a watchdog for this process (WATCHDOG_USEC, and WATCHDOG_PID unset or
  // ours), sends WATCHDOG=1 now and then every interval/2 from a steady_timer on `executor`,
  // and returns the interval; returns zero and does nothing otherwise. A second call
  // restarts the pings on the new executor.
  std::chrono::microseconds StartWatchdog(boost::asio::any_io_executor executor);
  // Cancels the pings. Idempotent.
  void Stop();

  // The watchdog interval systemd asked for; zero when there is none.
  std::chrono::microseconds watchdog_interval() const { return watchdog_interval_; }

 private:
  struct Watchdog;  // the timer and its loop; shared with the timer's handler

  void Send(const std::string& message);

  spdlog::logger& log_;
  bool enabled_ = false;
  bool warned_ = false;  // a failed send was logged
  std::chrono::microseconds watchdog_interval_{0};
  std::shared_ptr<Watchdog> watchdog_;
};

}  // namespace newsmon::app
