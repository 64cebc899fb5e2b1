#include "tests/support/nginx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "tests/support/free_port.h"
#include "tests/support/subprocess.h"

namespace newsmon::test {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string ReadAll(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Fields 3 on of /proc/PID/stat (after "pid (comm) "), which may hold spaces and parens.
std::optional<std::vector<std::string>> StatFields(pid_t pid) {
  std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(stat.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

// Whether something accepts TCP connections on 127.0.0.1:`port` (a loopback connect
// completes or is refused at once).
bool Accepts(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

std::string Quoted(const fs::path& path) { return "\"" + path.string() + "\""; }

std::string Config(const fs::path& dir, std::uint16_t port, const NginxOptions& options) {
  std::ostringstream c;
  c << "daemon off;\n";
  // As root the workers would run as nobody, who cannot read a 0700 temporary directory.
  if (::geteuid() == 0) c << "user root root;\n";
  c << "worker_processes " << options.worker_processes << ";\n"
    << "pid " << Quoted(dir / "nginx.pid") << ";\n"
    << "error_log " << Quoted(dir / "error.log") << " warn;\n"
    << "events { worker_connections " << options.worker_connections << "; }\n"
    << "http {\n"
    << "  types {\n"
    << "    application/rss+xml rss;\n"
    << "    application/atom+xml atom;\n"
    << "    application/rdf+xml rdf;\n"
    << "    application/feed+json json;\n"
    << "    text/xml xml;\n"
    << "    text/html html;\n"
    << "  }\n"
    << "  default_type application/octet-stream;\n"
    << "  client_body_temp_path " << Quoted(dir / "tmp/body") << ";\n"
    << "  proxy_temp_path " << Quoted(dir / "tmp/proxy") << ";\n"
    << "  fastcgi_temp_path " << Quoted(dir / "tmp/fastcgi") << ";\n"
    << "  uwsgi_temp_path " << Quoted(dir / "tmp/uwsgi") << ";\n"
    << "  scgi_temp_path " << Quoted(dir / "tmp/scgi") << ";\n"
    << "  log_format newsmon_test '$request $status $body_bytes_sent $gzip_ratio';\n";
  if (options.access_log) {
    c << "  access_log " << Quoted(dir / "access.log") << " newsmon_test;\n";
  } else {
    c << "  access_log off;\n";
  }
  c << "  sendfile on;\n"
    << "  tcp_nodelay on;\n"
    << "  etag on;\n"
    << "  gzip on;\n"
    << "  gzip_min_length 20;\n"
    << "  gzip_types application/rss+xml application/atom+xml application/rdf+xml\n"
    << "             application/feed+json application/json text/xml;\n"
    << options.http << "\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << port << ";\n"
    << "    root " << Quoted(dir / "html") << ";\n"
    << options.server << "\n"
    << "  }\n"
    << "}\n";
  return c.str();
}

}  // namespace

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    auto fields = StatFields(pid);
    if (fields && fields->size() > 1 && std::stol((*fields)[1]) == parent) children.push_back(pid);
  }
  return children;
}

double ProcessCpuSeconds(pid_t pid) {
  auto fields = StatFields(pid);
  // utime and stime are fields 14 and 15 of stat; ours start at field 3.
  if (!fields || fields->size() < 13) return 0;
  double ticks = std::stod((*fields)[11]) + std::stod((*fields)[12]);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Nginx::Nginx(fs::path dir, NginxOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(root(), ec);
  fs::create_directories(dir_ / "tmp", ec);
  port_ = StartOnFreePort(
      "nginx", [this](std::uint16_t port) { return Start(port); }, error_);
}

Nginx::~Nginx() { Stop(); }

std::string Nginx::Url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::vector<pid_t> Nginx::Workers() const {
  return master_ > 0 && child_ ? ChildrenOf(master_) : std::vector<pid_t>{};
}

std::string Nginx::Start(std::uint16_t port) {
  const fs::path config = dir_ / "nginx.conf";
  const fs::path pid_file = dir_ / "nginx.pid";
  std::error_code ec;
  fs::remove(pid_file, ec);
  fs::remove(error_log(), ec);
  std::ofstream(config) << Config(dir_, port, options_);

  child_ = std::make_unique<Child>(
      std::vector<std::string>{options_.binary, "-p", dir_.string() + "/", "-c", config.string(),
                               "-e", error_log().string()});
  const auto until = Clock::now() + options_.start_timeout;
  while (Clock::now() < until) {
    // nginx writes its pid file ("PID\n", one write) after it has bound its sockets, so a
    // connection that succeeds once the pid file is there reaches this nginx, not a
    // stranger on the port.
    std::string pid_text = ReadAll(pid_file);
    if (pid_text.ends_with('\n') && Accepts(port)) {
      master_ = static_cast<pid_t>(std::stol(pid_text));
      return "";
    }
    std::string log = ReadAll(error_log());
    if (auto emerg = log.find("[emerg]"); emerg != std::string::npos) {
      child_->Wait(options_.start_timeout);
      child_.reset();
      return log.substr(emerg, log.find('\n', emerg) - emerg);
    }
    // Wakes early when nginx writes to stdout/stderr or exits.
    child_->WaitForOutput([](const std::string&, const std::string&) { return false; },
                          milliseconds(5));
  }
  std::string failure = "did not accept connections within " +
                        std::to_string(options_.start_timeout.count()) +
                        " ms; stderr: " + child_->err() + "; error.log: " + ReadAll(error_log());
  Stop();
  return failure;
}

bool Nginx::Stop(std::chrono::milliseconds deadline) {
  if (!child_) return true;
  const std::vector<pid_t> workers = Workers();
  child_->Signal(SIGQUIT);
  // The master exits after its workers; both hold our pipes until they exit.
  bool clean = child_->Wait(deadline) == 0;
  for (pid_t worker : workers) {
    // Only a worker still running as one (not a new process that reused its pid).
    if (ReadAll("/proc/" + std::to_string(worker) + "/cmdline").starts_with("nginx: worker")) {
      ::kill(worker, SIGKILL);
      clean = false;
    }
  }
  child_.reset();  // kills the master if it is still there
  master_ = -1;
  return clean;
}

}  // namespace newsmon::test
