// Runs a program as a child process with its output captured, for tests of the `newsmon`
// binary. Every wait has a deadline; nothing sleeps.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace newsmon::test {

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed by one
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

// Runs `argv` with `env` added to the environment and stdin read from `stdin_path`, waits
// for it to exit, and kills it (failing the test) if it runs past `deadline`.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {},
                         std::chrono::milliseconds deadline = std::chrono::seconds(30),
                         const std::string& stdin_path = "/dev/null");

// A child that keeps running while the test talks to it.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
        const std::string& stdin_path = "/dev/null");
  ~Child();  // kills the child if it is still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Reads output until `done(out, err)` holds or the deadline passes; returns whether it
  // held. Also returns (false) when the child closes its output first.
  bool WaitForOutput(
      const std::function<bool(const std::string& out, const std::string& err)>& done,
      std::chrono::milliseconds deadline);
  // Reads output (so the child's pipes never fill) until `done` holds or `deadline` passes,
  // looking at `done` at least every 50 ms (it may watch something other than the output);
  // false also when the child has exited first.
  bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline);
  void Signal(int signal);
  // Reads the rest of the output and waits for exit; kills the child and returns -1 when it
  // does not exit within the deadline.
  int Wait(std::chrono::milliseconds deadline);

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Waits up to `timeout` for output or exit and takes what came; false when there is
  // nothing left to wait for (exited, both streams closed).
  bool Pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int pid_fd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  bool exited_ = false;
  int exit_code_ = -1;
};

// Whether a child's output (or any text) holds `part`: what the tests ask of stdout and
// stderr, in expectations and in the conditions they wait for.
inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace newsmon::test
