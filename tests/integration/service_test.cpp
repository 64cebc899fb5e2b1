// newsmon as a service: the installed systemd unit (its sandbox score, a clean
// `systemd-analyze verify`), the container files (`docker-compose config`, the Prometheus
// config) and the real daemon speaking the sd_notify protocol to a socket of ours, as
// systemd's NOTIFY_SOCKET.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/notify_socket.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace newsmon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using test::Child;
using test::Contains;
using test::RunProcess;
using test::TempDir;

const std::string kBinary = NEWSMON_BINARY;
const std::string kSourceDir = NEWSMON_SOURCE_DIR;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// `cmake --install` of this build tree, staged under `dir` for the prefix /usr.
class Installed {
 public:
  Installed() {
    auto r = RunProcess({"cmake", "--install", NEWSMON_BUILD_DIR, "--prefix", "/usr"},
                        {"DESTDIR=" + dir_.path().string()}, 60s);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  fs::path operator/(const std::string& installed) const {
    return dir_.path() / fs::path(installed).relative_path();
  }
  const fs::path& root() const { return dir_.path(); }

 private:
  TempDir dir_;
};

const char kUnit[] = "/usr/lib/systemd/system/newsmon.service";

TEST(ServiceTest, InstallPutsEveryFileInItsFhsPlace) {
  Installed installed;
  for (std::string file :
       {"/usr/bin/newsmon", kUnit, "/etc/newsmon/newsmon.yaml",
        "/etc/newsmon/sources.d/russian.yaml", "/etc/newsmon/rules/belt-and-road.yaml",
        "/etc/newsmon/rules/central-asia.yaml", "/etc/newsmon/rules/middle-corridor.yaml",
        "/usr/share/doc/newsmon/README.md", "/usr/share/newsmon/prometheus/newsmon-alerts.yml",
        "/usr/share/newsmon/grafana/newsmon.json"}) {
    EXPECT_TRUE(fs::is_regular_file(installed / file)) << file;
  }
  EXPECT_EQ(::access((installed / "/usr/bin/newsmon").c_str(), X_OK), 0);

  // The unit names the paths of the prefix it was installed for, not of the build's default.
  std::string unit = ReadFile(installed / kUnit);
  EXPECT_TRUE(
      Contains(unit, "\nExecStart=/usr/bin/newsmon run --config /etc/newsmon/newsmon.yaml\n"))
      << unit;
  EXPECT_TRUE(Contains(unit, "\nDocumentation=file:///usr/share/doc/newsmon/README.md\n"));
  EXPECT_FALSE(std::regex_search(unit, std::regex("@[A-Z_]+@"))) << "a placeholder left unfilled:\n"
                                                                 << unit;
  EXPECT_FALSE(Contains(unit, installed.root().string())) << "DESTDIR leaked into the unit";
  for (std::string line :
       {"Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "ExecReload=/bin/kill -HUP $MAINPID",
        "DynamicUser=yes", "StateDirectory=newsmon", "ConfigurationDirectory=newsmon"}) {
    EXPECT_TRUE(Contains(unit, "\n" + line + "\n")) << line;
  }
}

TEST(ServiceTest, UnitIsSandboxedToAnExposureOfTwoOrLess) {
  Installed installed;
  auto r = RunProcess(
      {"systemd-analyze", "security", "--offline=true", "--no-pager", (installed / kUnit).string()},
      {}, 60s);
  std::smatch score;
  ASSERT_TRUE(std::regex_search(
      r.out, score, std::regex("Overall exposure level for newsmon\\.service: ([0-9]+\\.[0-9]+) ")))
      << "exit " << r.exit_code << "\n"
      << r.out << r.err;
  EXPECT_LE(std::stod(score[1]), 2.0) << r.out;
  EXPECT_EQ(r.err, "");
}

// verify reports unknown keys and bad values but exits 0 for them: its output must be empty.
// It also checks that the commands exist, so the unit is pointed at the staged install.
TEST(ServiceTest, UnitVerifiesWithoutAWord) {
  Installed installed;
  std::string unit = ReadFile(installed / kUnit);
  unit = ReplaceAll(unit, " /etc/newsmon/", " " + (installed / "/etc/newsmon/").string());
  unit =
      ReplaceAll(unit, "=/usr/bin/newsmon ", "=" + (installed / "/usr/bin/newsmon").string() + " ");
  ASSERT_TRUE(Contains(unit, "ExecStart=" + installed.root().string())) << unit;
  fs::path dir = installed.root() / "verify";
  fs::create_directories(dir);
  WriteFile(dir / "newsmon.service", unit);

  auto r = RunProcess({"systemd-analyze", "verify", "--man=no", (dir / "newsmon.service").string()},
                      {"SYSTEMD_PAGER=", "SYSTEMD_LOG_COLOR=0"}, 60s);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out + r.err, "") << unit;

  // The check has teeth: a misspelt key is reported (and still exits 0).
  WriteFile(dir / "newsmon.service", ReplaceAll(unit, "WatchdogSec=", "WatchdogSecs="));
  auto bad =
      RunProcess({"systemd-analyze", "verify", "--man=no", (dir / "newsmon.service").string()},
                 {"SYSTEMD_PAGER=", "SYSTEMD_LOG_COLOR=0"}, 60s);
  EXPECT_TRUE(Contains(bad.out + bad.err, "Unknown key 'WatchdogSecs'")) << bad.out << bad.err;
}

TEST(ServiceTest, ComposeFileIsValid) {
  auto r =
      RunProcess({"docker-compose", "-f", kSourceDir + "/docker/compose.yaml", "config"}, {}, 60s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (std::string service : {"newsmon", "prometheus", "grafana"}) {
    EXPECT_TRUE(Contains(r.out, "\n  " + service + ":\n")) << service << "\n" << r.out;
  }
  EXPECT_TRUE(Contains(r.out, "NEWSMON_LISTEN: 0.0.0.0:9787")) << r.out;
  // Every file the services mount exists (compose would create a directory in its place).
  std::regex mount("\n    - (/[^:\n]+):[^\n]+");
  int mounts = 0;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), mount), end; it != end; ++it) {
    ++mounts;
    EXPECT_TRUE(fs::exists((*it)[1].str())) << (*it)[0].str();
  }
  EXPECT_GE(mounts, 4) << r.out;
}

// The Prometheus config compose mounts, with the alert rules where the container has them.
TEST(ServiceTest, PrometheusConfigIsValid) {
  TempDir dir;
  std::string config = ReadFile(kSourceDir + "/docker/prometheus/prometheus.yml");
  ASSERT_TRUE(Contains(config, "/etc/prometheus/newsmon-alerts.yml")) << config;
  auto file =
      dir.Write("prometheus.yml", ReplaceAll(config, "/etc/prometheus/newsmon-alerts.yml",
                                             kSourceDir + "/config/prometheus/newsmon-alerts.yml"));
  auto r = RunProcess({"promtool", "check", "config", file.string()}, {}, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(config, "job_name: newsmon")) << "NewsmonDown needs the job name";
  EXPECT_TRUE(Contains(config, "scrape_interval: 15s"));
  EXPECT_TRUE(Contains(config, "newsmon:9787"));
}

// systemd's end of the notification socket: datagrams on a path of ours.
using test::NotifySocket;

bool HasLine(const std::string& message, const std::string& line) {
  return Contains("\n" + message + "\n", "\n" + line + "\n");
}
bool HasStatus(const std::string& message) { return Contains("\n" + message, "\nSTATUS="); }

std::string Joined(const std::vector<std::string>& messages) {
  std::string text;
  for (const auto& m : messages) text += "[" + m + "] ";
  return text;
}

// The real daemon under a pretend systemd: a datagram socket as NOTIFY_SOCKET and a
// watchdog of 300 ms (pings every 150 ms). Needs the Notifier wired into `newsmon run`.
class DaemonUnderSystemd : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(socket_.bound()) << std::strerror(errno); }

  // Starts the daemon on a free admin port and waits for READY=1.
  void Start() {
    std::string error;
    port_ = test::StartOnFreePort(
        "newsmon",
        [&](std::uint16_t port) -> std::string {
          start_messages_.clear();
          auto config = dir_.Write("newsmon.yaml",
                                   "state_dir: state\n"
                                   "listen: 127.0.0.1:" +
                                       std::to_string(port) +
                                       "\n"
                                       "rules: []\n"
                                       "sources:\n"
                                       "  - name: example\n"
                                       // Loopback without allow_private_networks: refused
                                       // before any traffic.
                                       "    url: http://127.0.0.1:9/feed.xml\n");
          daemon_.emplace(std::vector<std::string>{kBinary, "run", "--config", config.string()},
                          std::vector<std::string>{"NOTIFY_SOCKET=" + socket_.path().string(),
                                                   "WATCHDOG_USEC=300000"});
          if (socket_.WaitFor([](const std::string& m) { return HasLine(m, "READY=1"); }, 15s,
                              start_messages_)) {
            return "";
          }
          daemon_->Signal(SIGTERM);
          int code = daemon_->Wait(10s);
          return "no READY=1 within 15 s (exit " + std::to_string(code) +
                 "; received: " + Joined(start_messages_) + "): " + daemon_->err();
        },
        error);
    ASSERT_NE(port_, 0) << error;
  }

  TempDir dir_;
  NotifySocket socket_{dir_.path() / "notify.sock"};
  std::optional<Child> daemon_;
  std::vector<std::string> start_messages_;
  std::uint16_t port_ = 0;
};

TEST_F(DaemonUnderSystemd, SaysReadyPingsTheWatchdogAndSaysStopping) {
  ASSERT_NO_FATAL_FAILURE(Start());
  // Ready only once the store is open.
  EXPECT_TRUE(fs::exists(dir_.path() / "state" / "newsmon.db"));
  bool status = false;
  for (const auto& m : start_messages_) status = status || HasStatus(m);
  EXPECT_TRUE(status) << "no STATUS= up to READY=1: " << Joined(start_messages_);
  EXPECT_EQ(std::count_if(start_messages_.begin(), start_messages_.end(),
                          [](const std::string& m) { return HasLine(m, "READY=1"); }),
            1);

  // Pings keep coming (every 150 ms; a loaded machine may delay one).
  int pings = 0;
  std::vector<std::string> seen;
  while (pings < 4) {
    if (!socket_.WaitFor([](const std::string& m) { return HasLine(m, "WATCHDOG=1"); }, 2s, seen)) {
      break;
    }
    ++pings;
  }
  EXPECT_EQ(pings, 4) << "received: " << Joined(seen) << "\n" << daemon_->err();

  daemon_->Signal(SIGTERM);
  seen.clear();
  EXPECT_TRUE(
      socket_.WaitFor([](const std::string& m) { return HasLine(m, "STOPPING=1"); }, 10s, seen))
      << "received: " << Joined(seen);
  EXPECT_EQ(daemon_->Wait(15s), 0) << daemon_->err();
}

// ExecReload sends SIGHUP: it must reload, not end the service (SIGHUP's default action).
TEST_F(DaemonUnderSystemd, ReloadsOnSighupAndSaysSo) {
  ASSERT_NO_FATAL_FAILURE(Start());
  daemon_->Signal(SIGHUP);
  std::vector<std::string> seen;
  EXPECT_TRUE(
      socket_.WaitFor([](const std::string& m) { return HasLine(m, "RELOADING=1"); }, 10s, seen))
      << "received: " << Joined(seen);
  EXPECT_TRUE(
      socket_.WaitFor([](const std::string& m) { return HasLine(m, "READY=1"); }, 10s, seen))
      << "received: " << Joined(seen);
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(15s), 0) << daemon_->err();
}

}  // namespace
}  // namespace newsmon
