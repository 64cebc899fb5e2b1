#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace newsmon::test {
namespace {

using Clock = std::chrono::steady_clock;

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& stdin_path) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& extra : env) env_strings.push_back(extra);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argvp;
  for (auto& s : args) argvp.push_back(s.data());
  argvp.push_back(nullptr);

  int rc = ::posix_spawnp(&pid_, argvp[0], &actions, nullptr, argvp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    pid_ = -1;
    return;
  }
  // A pidfd turns "the child exited" into an fd event, so waits need no sleeping.
  pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pid_fd_ < 0) ADD_FAILURE() << "pidfd_open: " << std::strerror(errno);
}

Child::~Child() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (pid_fd_ >= 0) ::close(pid_fd_);
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

bool Child::Pump(std::chrono::milliseconds timeout) {
  pollfd fds[3];
  nfds_t n = 0;
  for (int fd : {out_fd_, err_fd_, exited_ ? -1 : pid_fd_}) {
    if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
  }
  if (n == 0) return false;
  if (::poll(fds, n, static_cast<int>(timeout.count())) <= 0) return true;
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    if (fds[i].fd == pid_fd_) {
      int status = 0;
      if (::waitpid(pid_, &status, 0) == pid_) {
        exited_ = true;
        exit_code_ = DecodeStatus(status);
      }
      continue;
    }
    char buffer[4096];
    ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
    bool is_out = fds[i].fd == out_fd_;
    if (got > 0) {
      (is_out ? out_ : err_).append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      ::close(fds[i].fd);
      (is_out ? out_fd_ : err_fd_) = -1;
    }
  }
  return true;
}

bool Child::WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  using std::chrono::milliseconds;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return false;
    const auto slice = std::min<milliseconds>(
        milliseconds(50), std::chrono::duration_cast<milliseconds>(until - now) + milliseconds(1));
    WaitForOutput([](const std::string&, const std::string&) { return false; }, slice);
    // WaitForOutput returns before its deadline only when the child's output has closed.
    if (std::chrono::steady_clock::now() - now < slice / 2) return done();
  }
  return true;
}

bool Child::WaitForOutput(
    const std::function<bool(const std::string& out, const std::string& err)>& done,
    std::chrono::milliseconds deadline) {
  auto until = Clock::now() + deadline;
  while (!done(out_, err_)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0 || !Pump(left)) return done(out_, err_);
  }
  return true;
}

void Child::Signal(int signal) {
  if (pid_ > 0 && !exited_) ::kill(pid_, signal);
}

int Child::Wait(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  auto until = Clock::now() + deadline;
  // Until the child has exited and both pipes are drained (its end closes at exit).
  while (!exited_ || out_fd_ >= 0 || err_fd_ >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) {
      if (exited_) return exit_code_;  // a grandchild holds the pipes; the child is done
      ADD_FAILURE() << "child did not exit within " << deadline.count() << " ms; killing it";
      return -1;
    }
    Pump(left);
  }
  return exit_code_;
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::chrono::milliseconds deadline, const std::string& stdin_path) {
  Child child(argv, env, stdin_path);
  ProcessResult result;
  result.exit_code = child.Wait(deadline);
  result.out = child.out();
  result.err = child.err();
  return result;
}

}  // namespace newsmon::test
