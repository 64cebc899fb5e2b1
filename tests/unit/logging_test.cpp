#include "daemon/app/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace newsmon::app {
namespace {

struct Captured {
  std::ostringstream stream;
  std::shared_ptr<spdlog::logger> logger;
};

std::unique_ptr<Captured> Capture(config::LogSettings settings) {
  auto captured = std::make_unique<Captured>();
  captured->logger =
      MakeLogger(settings, std::make_shared<spdlog::sinks::ostream_sink_st>(captured->stream));
  return captured;
}

TEST(LoggingTest, JsonFormatWritesOneParsableObjectPerLine) {
  auto c = Capture({.level = config::LogLevel::kInfo, .format = config::LogFormat::kJson});
  c->logger->info("source {} said \"hi\"\n\tthen left", "bbc");
  c->logger->warn("second");
  std::istringstream lines(c->stream.str());
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["msg"], "source bbc said \"hi\"\n\tthen left");
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["logger"], "newsmon");
  EXPECT_TRUE(first["ts"].get<std::string>().ends_with("Z"));
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_EQ(nlohmann::json::parse(line)["level"], "warning");
  EXPECT_FALSE(std::getline(lines, line));
}

TEST(LoggingTest, JsonFormatReplacesInvalidUtf8) {
  auto c = Capture({.format = config::LogFormat::kJson});
  c->logger->info("bad \xff byte");
  auto line = nlohmann::json::parse(c->stream.str());
  EXPECT_EQ(line["msg"], "bad \xEF\xBF\xBD byte");
}

TEST(LoggingTest, LevelFiltersMessages) {
  auto c = Capture({.level = config::LogLevel::kWarn, .format = config::LogFormat::kText});
  c->logger->info("hidden");
  c->logger->error("shown");
  EXPECT_EQ(c->stream.str().find("hidden"), std::string::npos);
  EXPECT_NE(c->stream.str().find("error shown"), std::string::npos);
}

}  // namespace
}  // namespace newsmon::app
