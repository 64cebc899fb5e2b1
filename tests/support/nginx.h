// nginx (the system's /usr/sbin/nginx) on 127.0.0.1 for tests and benchmarks: the real
// server our client meets most often, with its own gzip, ETag and keep-alive behaviour.
//
// Everything lives under one directory the caller owns: the generated nginx.conf, the pid
// file, logs, temp directories, and html/, the document root. nginx runs in the foreground
// (daemon off) as a test::Child; the constructor returns once it accepts connections on
// its port (picked free by binding port 0 first, retried on a clash), or with ok() false
// and error() saying why. Stop (and the destructor) shut it down gracefully and wait for
// the master and its workers: killing only the master would leave the workers running.
//
// Not thread-safe; the owner's thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace newsmon::test {

class Child;

struct NginxOptions {
  // Directives inside `server { }` after its listen and root (locations and the like).
  std::string server;
  // Directives inside `http { }` before the server (map, log_format, keepalive_*). gzip is
  // on for the feed types (application/rss+xml, atom+xml, rdf+xml, feed+json, json and
  // text/xml) from 20 bytes up; etag is on. Either can be turned off here or per location.
  std::string http;
  int worker_processes = 1;
  int worker_connections = 4096;
  // access.log in the directory, one line per request: "$request $status
  // $body_bytes_sent $gzip_ratio" ("-" when not compressed). false = access_log off.
  bool access_log = true;
  std::string binary = "/usr/sbin/nginx";
  std::chrono::milliseconds start_timeout = std::chrono::seconds(10);  // per attempt
};

class Nginx {
 public:
  // Writes `dir`/nginx.conf and starts nginx on it; `dir` must exist and outlive this.
  Nginx(std::filesystem::path dir, NginxOptions options = {});
  ~Nginx();  // Stop()
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // why it did not start

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string Url(std::string_view path) const;
  // The document root (dir/html): files written here are served at "/<name>".
  std::filesystem::path root() const { return dir_ / "html"; }
  std::filesystem::path access_log() const { return dir_ / "access.log"; }
  std::filesystem::path error_log() const { return dir_ / "error.log"; }

  pid_t master() const { return master_; }
  // The master's children (its workers), read from /proc; empty once stopped.
  std::vector<pid_t> Workers() const;

  // Asks for a graceful shutdown (SIGQUIT) and waits up to `deadline` for the master and
  // its workers to exit; then kills whatever is left. True when it exited by itself.
  // Stopping twice is a no-op.
  bool Stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));

 private:
  // One try on `port`: "" when nginx accepts connections, else what went wrong.
  std::string Start(std::uint16_t port);

  std::filesystem::path dir_;
  NginxOptions options_;
  std::unique_ptr<Child> child_;
  std::uint16_t port_ = 0;
  pid_t master_ = -1;
  std::string error_;
};

// CPU time (user + system) `pid` has used so far, from /proc/PID/stat; 0 when it is gone.
double ProcessCpuSeconds(pid_t pid);

// The pids whose parent is `parent`, from /proc.
std::vector<pid_t> ChildrenOf(pid_t parent);

}  // namespace newsmon::test
