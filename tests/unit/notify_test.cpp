#include "daemon/app/notify.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/notify_socket.h"
#include "tests/support/temp_dir.h"

namespace newsmon::app {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The watchdog interval the tests give: pings every 150 ms.
constexpr std::chrono::microseconds kInterval{300'000};
constexpr auto kPeriod = kInterval / 2;

using test::NotifySocket;

// An io_context run by its own thread, as the daemon's loop; the Notifier lives on it.
class Loop {
 public:
  Loop() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~Loop() {
    Release();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  // Runs `fn` on the loop's thread and waits for it; false when it did not finish in time.
  bool Run(const std::function<void()>& fn) {
    std::promise<void> done;
    auto finished = done.get_future();
    boost::asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    return finished.wait_for(5s) == std::future_status::ready;
  }

  // Blocks the loop's thread until Release(): a handler that never returns.
  bool Stall() {
    std::promise<void> entered;
    auto stalled = entered.get_future();
    boost::asio::post(io_, [this, &entered] {
      std::unique_lock lock(mutex_);
      entered.set_value();
      released_cv_.wait(lock, [this] { return released_; });
    });
    return stalled.wait_for(5s) == std::future_status::ready;
  }
  void Release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    released_cv_.notify_all();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::mutex mutex_;  // guards released_
  std::condition_variable released_cv_;
  bool released_ = false;
  std::thread thread_;
};

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(socket_.bound()) << socket_.path() << ": " << std::strerror(errno);
    ::setenv("NOTIFY_SOCKET", socket_.path().c_str(), 1);
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }

  void SetWatchdog(std::chrono::microseconds interval, pid_t pid) {
    ::setenv("WATCHDOG_USEC", std::to_string(interval.count()).c_str(), 1);
    ::setenv("WATCHDOG_PID", std::to_string(pid).c_str(), 1);
  }

  // Waits for `count` pings; returns when each arrived (fewer when one was late by more than
  // the watchdog interval, which is when systemd would have killed the service).
  std::vector<Clock::time_point> Pings(int count) {
    std::vector<Clock::time_point> at;
    while (static_cast<int>(at.size()) < count) {
      auto message = socket_.Receive(std::chrono::duration_cast<milliseconds>(kInterval));
      if (!message) break;
      EXPECT_EQ(*message, "WATCHDOG=1");
      at.push_back(Clock::now());
    }
    return at;
  }

  test::TempDir dir_;
  NotifySocket socket_{dir_.path() / "notify.sock"};
  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_st>()};
};

TEST_F(NotifierTest, SendsReadyStatusAndStopping) {
  Notifier notifier(log_);
  EXPECT_TRUE(notifier.enabled());
  notifier.Ready();
  EXPECT_EQ(socket_.Receive(2s), "READY=1");
  notifier.Ready("polling 3 sources");
  EXPECT_EQ(socket_.Receive(2s), "READY=1\nSTATUS=polling 3 sources");
  notifier.Status("2 alerts queued\nfor slack");
  EXPECT_EQ(socket_.Receive(2s), "STATUS=2 alerts queued for slack");
  notifier.Stopping();
  EXPECT_EQ(socket_.Receive(2s), "STOPPING=1");
  notifier.Stopping("draining");
  EXPECT_EQ(socket_.Receive(2s), "STOPPING=1\nSTATUS=draining");
}

std::uint64_t MonotonicMicroseconds() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec) / 1'000u;
}

TEST_F(NotifierTest, ReloadingCarriesTheMonotonicClockAndEndsWithReady) {
  Notifier notifier(log_);
  std::uint64_t before = MonotonicMicroseconds();
  notifier.Reloading("reloading config");
  std::uint64_t after = MonotonicMicroseconds();
  auto message = socket_.Receive(2s);
  ASSERT_TRUE(message);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_TRUE(message->starts_with(prefix)) << *message;
  std::size_t end = message->find('\n', prefix.size());
  ASSERT_NE(end, std::string::npos) << *message;
  std::uint64_t usec = std::stoull(message->substr(prefix.size(), end - prefix.size()));
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
  EXPECT_EQ(message->substr(end), "\nSTATUS=reloading config");
  notifier.ReloadDone("polling 9 sources");
  EXPECT_EQ(socket_.Receive(2s), "READY=1\nSTATUS=polling 9 sources");
}

TEST_F(NotifierTest, DoesNothingWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  SetWatchdog(kInterval, ::getpid());
  Loop loop;
  ASSERT_TRUE(loop.Run([&] {
    Notifier notifier(log_);
    EXPECT_FALSE(notifier.enabled());
    notifier.Ready("ready");
    notifier.Stopping();
    EXPECT_EQ(notifier.StartWatchdog(loop.executor()).count(), 0);
    EXPECT_EQ(notifier.watchdog_interval().count(), 0);
  }));
  EXPECT_EQ(socket_.Receive(0ms), std::nullopt);
}

TEST_F(NotifierTest, NoWatchdogUnlessSystemdAskedForOne) {
  Loop loop;
  ASSERT_TRUE(loop.Run([&] {
    Notifier notifier(log_);
    EXPECT_EQ(notifier.StartWatchdog(loop.executor()).count(), 0);
  }));
  // StartWatchdog pings at once when it pings at all.
  EXPECT_EQ(socket_.Receive(0ms), std::nullopt);
}

// systemd sets WATCHDOG_PID to the main process: a child that inherited it must not ping.
TEST_F(NotifierTest, NoWatchdogForAnotherProcess) {
  SetWatchdog(kInterval, ::getpid() + 1);
  Loop loop;
  ASSERT_TRUE(loop.Run([&] {
    Notifier notifier(log_);
    EXPECT_EQ(notifier.StartWatchdog(loop.executor()).count(), 0);
  }));
  EXPECT_EQ(socket_.Receive(0ms), std::nullopt);
}

TEST_F(NotifierTest, WatchdogPingsFromTheLoopAndFallsSilentWhenTheLoopStalls) {
  SetWatchdog(kInterval, ::getpid());
  Loop loop;
  std::optional<Notifier> notifier;
  std::chrono::microseconds interval{0};
  ASSERT_TRUE(loop.Run([&] {
    notifier.emplace(log_);
    interval = notifier->StartWatchdog(loop.executor());
  }));
  EXPECT_EQ(interval, kInterval);

  // Regular pings: none later than the interval, and not a burst either.
  auto pings = Pings(5);
  ASSERT_EQ(pings.size(), 5u) << "a ping came later than the watchdog interval";
  EXPECT_GE(pings.back() - pings.front(), 2 * kPeriod);

  // A stuck loop: pings sent before it stuck are queued already (sends are synchronous).
  ASSERT_TRUE(loop.Stall());
  socket_.Drain();
  auto silence = 4 * kInterval;  // systemd would have killed us four times over
  auto stalled_at = Clock::now();
  auto message = socket_.Receive(std::chrono::duration_cast<milliseconds>(silence));
  EXPECT_EQ(message, std::nullopt) << "a ping while the loop was stuck";
  EXPECT_GE(Clock::now() - stalled_at, silence);

  // Unstuck: the overdue timer pings at once, then the rhythm resumes.
  loop.Release();
  auto resumed = Pings(4);
  EXPECT_EQ(resumed.size(), 4u) << "pings did not resume after the stall";

  ASSERT_TRUE(loop.Run([&] { notifier.reset(); }));
}

TEST_F(NotifierTest, StopEndsThePingsEvenWithTheTimerQueued) {
  SetWatchdog(kInterval, ::getpid());
  Loop loop;
  std::optional<Notifier> notifier;
  ASSERT_TRUE(loop.Run([&] {
    notifier.emplace(log_);
    notifier->StartWatchdog(loop.executor());
  }));
  ASSERT_EQ(Pings(2).size(), 2u);
  // Destroying the notifier stops it; the cancelled handler still runs later, on the loop.
  ASSERT_TRUE(loop.Run([&] { notifier.reset(); }));
  socket_.Drain();
  EXPECT_EQ(socket_.Receive(std::chrono::duration_cast<milliseconds>(3 * kInterval)), std::nullopt);
  // The loop is still healthy after running the cancelled handler.
  EXPECT_TRUE(loop.Run([] {}));
}

TEST_F(NotifierTest, AFailedSendIsLoggedOnce) {
  ::setenv("NOTIFY_SOCKET", (dir_.path() / "nobody-listens.sock").c_str(), 1);
  std::ostringstream out;
  spdlog::logger log("test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  log.set_pattern("%l %v");
  Notifier notifier(log);
  notifier.Ready();
  notifier.Status("still here");
  std::string logged = out.str();
  EXPECT_EQ(std::count(logged.begin(), logged.end(), '\n'), 1) << logged;
  EXPECT_TRUE(logged.starts_with("warning cannot notify the service manager (READY=1): "))
      << logged;
}

}  // namespace
}  // namespace newsmon::app
