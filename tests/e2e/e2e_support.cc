// Daemons, configs, Query and /metrics clients, and corruption for the end-to-end tests.
#include "tests/e2e/e2e_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/integration/state_records.h"
#include "tests/integration/target_bytes.h"
#include "tests/lib/postgres_server.h"

#ifndef FSCANARY_E2E_COLLECTOR
#error "FSCANARY_E2E_COLLECTOR must name the fscanary-collector binary"
#endif
#ifndef FSCANARY_E2E_AGENT
#error "FSCANARY_E2E_AGENT must name the fscanary-agent binary"
#endif

namespace fscanary::e2e {
namespace {

namespace fs = std::filesystem;

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
  file.close();
  if (!file) return absl::InternalError("cannot write " + path);
  return absl::OkStatus();
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// `<dir>/<stem>-<n>.log` for the first n not used yet: one log per start.
std::string FreshLogPath(const std::string& dir, const std::string& stem) {
  for (int n = 1;; ++n) {
    std::string path = absl::StrCat(dir, "/", stem, "-", n, ".log");
    if (!fs::exists(path)) return path;
  }
}

grpc::ClientContext* WithDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kOperatorToken));
  return &context;
}

std::string Tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

// Undoes the octal escapes of /proc/self/mountinfo (a blank is \040).
std::string UnescapeMountField(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const absl::string_view digits = field.substr(i + 1, 3);
      if (digits.find_first_not_of("01234567") == absl::string_view::npos) {
        out.push_back(
            static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

// A label value of the exposition format, `"` already consumed; stops after
// the closing quote.
std::string ParseLabelValue(absl::string_view text, size_t& i) {
  std::string value;
  while (i < text.size() && text[i] != '"') {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
      value.push_back(text[i] == 'n' ? '\n' : text[i]);
    } else {
      value.push_back(text[i]);
    }
    ++i;
  }
  ++i;  // the closing quote
  return value;
}

}  // namespace

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Start(const std::vector<std::string>& argv,
                                                      const std::string& log_path) {
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ErrnoError("open " + log_path);
  // Runs between fork and exec: dup2 only (async-signal-safe). The copies
  // dup2 makes do not close at exec; the original does.
  testing::SpawnOptions options{.before_exec = [log_fd]() -> int {
    if (::dup2(log_fd, STDOUT_FILENO) < 0 || ::dup2(log_fd, STDERR_FILENO) < 0) return errno;
    return 0;
  }};
  absl::StatusOr<testing::Child> child = testing::Spawn(argv, options);
  ::close(log_fd);
  if (!child.ok()) return child.status();
  return std::unique_ptr<Daemon>(new Daemon(*std::move(child), log_path));
}

std::string Daemon::Log() const { return ReadTextFile(log_path_); }

std::optional<std::string> Daemon::WaitForLog(const std::string& pattern,
                                              std::chrono::milliseconds timeout) {
  const std::regex regex(pattern);
  std::optional<std::string> found;
  WaitFor(
      [&] {
        // Read before checking whether it runs: a daemon that logged and
        // exited still counts.
        const bool was_running = running();
        const std::string log = Log();
        std::smatch match;
        if (std::regex_search(log, match, regex)) {
          found = match.size() > 1 ? match[1].str() : match[0].str();
          return true;
        }
        return !was_running;
      },
      timeout, 50ms);
  return found;
}

bool Daemon::running() { return !child_.HasExited(); }

void Daemon::Signal(int signal) { child_.Kill(signal); }

std::optional<testing::ProcessResult> Daemon::WaitForExit(std::chrono::milliseconds timeout) {
  if (!WaitFor([this] { return !running(); }, timeout, 20ms)) return std::nullopt;
  // Its output went to the log: the pipes are closed, Wait only collects the status.
  return child_.Wait(1s);
}

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<std::unique_ptr<Collector>> Collector::Start(const std::string& dir,
                                                            const CollectorOptions& options) {
  const std::string config_path = dir + "/collector.yaml";
  std::string operators;
  if (options.operator_tokens) {
    const std::string operator_tokens = dir + "/operator-tokens";
    if (absl::Status written =
            WriteTextFile(operator_tokens, absl::StrCat("e2e-operator ", kOperatorToken, "\n"));
        !written.ok()) {
      return written;
    }
    operators = absl::StrCat("operator_tokens_file: ", operator_tokens, "\n");
  }
  std::string store;
  if (!options.postgres_dsn.empty()) {
    // The test server trusts local connections, so the password is not
    // checked; the collector still reads the file (and refuses it unless
    // mode 0600).
    const std::string password_file = dir + "/postgres-password";
    if (absl::Status written = WriteTextFile(password_file, "e2e-unused-password\n");
        !written.ok()) {
      return written;
    }
    fs::permissions(password_file, fs::perms::owner_read | fs::perms::owner_write);
    store = absl::StrCat("store:\n  backend: postgres\n  postgres:\n    dsn: \"",
                         options.postgres_dsn, "\"\n    password_file: ", password_file, "\n");
  }
  // extra_yaml may go on with the metrics block (indented keys): it comes
  // right after it.
  const std::string config = absl::StrCat("listen: 127.0.0.1:", options.port, "\n",  //
                                          "state_dir: ", dir, "/collector\n",        //
                                          "log_level: info\n",                       //
                                          operators,                                 //
                                          store,                                     //
                                          "metrics:\n",                              //
                                          "  listen: 127.0.0.1:0\n",                 //
                                          options.extra_yaml);
  if (absl::Status written = WriteTextFile(config_path, config); !written.ok()) return written;

  std::unique_ptr<Collector> collector(new Collector());
  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(
      {FSCANARY_E2E_COLLECTOR, "--config", config_path}, FreshLogPath(dir, "collector"));
  if (!daemon.ok()) return daemon.status();
  collector->daemon_ = *std::move(daemon);
  // The last line of the start: both listeners are up by then.
  const std::optional<std::string> port = collector->daemon_->WaitForLog(
      R"(fscanary-collector \S+ listening on \S+ \(port (\d+)\))", kEventTimeout);
  const std::optional<std::string> metrics_port =
      collector->daemon_->WaitForLog(R"(metrics on \S+ \(port (\d+)\))", 1s);
  if (!port || !metrics_port || !absl::SimpleAtoi(*port, &collector->port_) ||
      !absl::SimpleAtoi(*metrics_port, &collector->metrics_port_)) {
    return absl::UnavailableError("the collector did not start serving; its log:\n" +
                                  collector->daemon_->Log());
  }
  collector->channel_ =
      grpc::CreateChannel(collector->address(), grpc::InsecureChannelCredentials());
  collector->query_ = v1::Query::NewStub(collector->channel_);
  return collector;
}

absl::StatusOr<v1::ListHostsResponse> Collector::ListHosts() const {
  if (query_ == nullptr) return absl::FailedPreconditionError("the Query connection is closed");
  // Every page, as one list.
  v1::ListHostsResponse response;
  v1::ListHostsRequest request;
  do {
    grpc::ClientContext context;
    v1::ListHostsResponse page;
    if (const grpc::Status status = query_->ListHosts(WithDeadline(context), request, &page);
        !status.ok()) {
      return FromGrpc(status);
    }
    request.set_page_token(page.next_page_token());
    for (v1::HostSummary& host : *page.mutable_hosts()) *response.add_hosts() = std::move(host);
  } while (!request.page_token().empty());
  return response;
}

absl::StatusOr<std::vector<v1::StoredFinding>> Collector::ListFindings(
    const std::string& agent_id) const {
  if (query_ == nullptr) return absl::FailedPreconditionError("the Query connection is closed");
  v1::ListFindingsRequest request;
  request.set_agent_id(agent_id);
  std::vector<v1::StoredFinding> findings;
  do {
    grpc::ClientContext context;
    v1::ListFindingsResponse page;
    if (const grpc::Status status = query_->ListFindings(WithDeadline(context), request, &page);
        !status.ok()) {
      return FromGrpc(status);
    }
    request.set_page_token(page.next_page_token());
    findings.insert(findings.end(), page.findings().begin(), page.findings().end());
  } while (!request.page_token().empty());
  return findings;
}

absl::StatusOr<v1::GetHostResponse> Collector::GetHost(const std::string& agent_id) const {
  if (query_ == nullptr) return absl::FailedPreconditionError("the Query connection is closed");
  grpc::ClientContext context;
  v1::GetHostRequest request;
  request.set_agent_id(agent_id);
  v1::GetHostResponse response;
  if (const grpc::Status status = query_->GetHost(WithDeadline(context), request, &response);
      !status.ok()) {
    return FromGrpc(status);
  }
  return response;
}

std::optional<v1::HostSummary> Collector::FindHost(const std::string& agent_id) const {
  const absl::StatusOr<v1::ListHostsResponse> hosts = ListHosts();
  if (!hosts.ok()) return std::nullopt;
  for (const v1::HostSummary& host : hosts->hosts()) {
    if (host.agent_id() == agent_id) return host;
  }
  return std::nullopt;
}

void Collector::CloseQueryConnection() {
  query_.reset();
  channel_.reset();
}

absl::StatusOr<std::string> Collector::ScrapeMetrics() const {
  return HttpGet(metrics_port_, "/metrics");
}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(const std::string& dir,
                                                    const AgentOptions& options) {
  std::unique_ptr<Agent> agent(new Agent());
  agent->agent_id_ = options.agent_id;
  const std::string home = dir + "/agent";
  agent->target_ = home + "/scratch.img";
  agent->home_ = home;
  agent->state_dir_ = home + "/state";
  std::error_code error;
  fs::create_directories(home, error);
  if (error) return absl::InternalError("mkdir " + home + ": " + error.message());

  std::string config = absl::StrCat(
      "agent_id: ", options.agent_id, "\n",    //
      "state_dir: ", agent->state_dir_, "\n",  //
      "log_level: info\n",                     //
      "collector:\n",                          //
      options.collector_addresses.empty()
          ? absl::StrCat("  address: ", options.collector_address, "\n")
          : absl::StrCat("  addresses: [", absl::StrJoin(options.collector_addresses, ", "), "]\n"),
      options.token_file.empty() ? "" : absl::StrCat("  token_file: ", options.token_file, "\n"),
      "  backoff:\n",                                              //
      "    initial: 100ms\n",                                      //
      "    max: 1s\n",                                             //
      "report_interval: 1s\n",                                     //
      "heartbeat_interval: 1s\n",                                  //
      "kernel_log:\n",                                             //
      "  enabled: ", options.kernel_log ? "true" : "false", "\n",  //
      "budget:\n",                                                 //
      "  bytes_per_second: 0\n",                                   //
      "  ios_per_second: 0\n",                                     //
      "  cpu_share: 1\n",                                          //
      "  idle_priority: false\n",                                  //
      options.budget_yaml, options.extra_yaml,                     //
      "targets:\n",                                                //
      "  - name: ", kTargetName, "\n",                             //
      "    path: ", agent->target_, "\n",                          //
      "    size: ", options.target_size, "\n",                     //
      "    block_size: ", kBlockSize, "\n",                        //
      "    checkers: ", options.checkers, "\n",                    //
      "    schedule:\n",                                           //
      "      write_interval: 1h\n",                                //
      "      cold_read_interval: 2s\n",                            //
      "      scrub_interval: ",
      std::chrono::duration_cast<std::chrono::seconds>(kScrubInterval).count(), "s\n",
      options.extra_targets_yaml);
  const std::string config_path = home + "/agent.yaml";
  if (absl::Status written = WriteTextFile(config_path, config); !written.ok()) return written;

  absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Start(
      {FSCANARY_E2E_AGENT, "run", "--config", config_path}, FreshLogPath(dir, "agent"));
  if (!daemon.ok()) return daemon.status();
  agent->daemon_ = *std::move(daemon);
  if (!agent->daemon_->WaitForLog(R"(agent \S+ running)", kEventTimeout)) {
    return absl::UnavailableError("the agent did not start; its log:\n" + agent->daemon_->Log());
  }
  return agent;
}

std::vector<Sample> ParseExposition(std::string_view text) {
  std::vector<Sample> samples;
  // absl's string_view is not std's in this build of absl.
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    Sample sample;
    size_t i = line.find_first_of("{ ");
    if (i == absl::string_view::npos) continue;
    sample.name = std::string(line.substr(0, i));
    if (line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t equals = line.find('=', i);
        if (equals == absl::string_view::npos || equals + 1 >= line.size()) break;
        std::string key(absl::StripAsciiWhitespace(line.substr(i, equals - i)));
        i = equals + 2;  // past ="
        sample.labels[std::move(key)] = ParseLabelValue(line, i);
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // past }
    }
    const std::vector<absl::string_view> rest =
        absl::StrSplit(line.substr(std::min(i, line.size())), ' ', absl::SkipEmpty());
    if (rest.empty()) continue;
    if (rest[0] == "+Inf") {
      sample.value = std::numeric_limits<double>::infinity();
    } else if (!absl::SimpleAtod(rest[0], &sample.value)) {
      continue;
    }
    samples.push_back(std::move(sample));
  }
  return samples;
}

namespace {

bool Matches(const Sample& sample, std::string_view name,
             const std::map<std::string, std::string>& labels) {
  if (sample.name != name) return false;
  for (const auto& [key, value] : labels) {
    const auto it = sample.labels.find(key);
    if (it == sample.labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

std::optional<double> SampleValue(std::string_view exposition, std::string_view name,
                                  const std::map<std::string, std::string>& labels) {
  for (const Sample& sample : ParseExposition(exposition)) {
    if (Matches(sample, name, labels)) return sample.value;
  }
  return std::nullopt;
}

double SampleSum(std::string_view exposition, std::string_view name,
                 const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (const Sample& sample : ParseExposition(exposition)) {
    if (Matches(sample, name, labels)) sum += sample.value;
  }
  return sum;
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError("socket");
  const timeval timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const absl::Status error = ErrnoError(absl::StrCat("connect 127.0.0.1:", port));
    ::close(fd);
    return error;
  }
  const std::string request =
      "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    const absl::Status error = ErrnoError("send");
    ::close(fd);
    return error;
  }
  std::string response;
  char buffer[16384];
  while (true) {
    const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
    if (got > 0) {
      response.append(buffer, static_cast<size_t>(got));
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const absl::Status error = ErrnoError("recv");
      ::close(fd);
      return error;
    }
    break;
  }
  ::close(fd);
  const size_t header_end = response.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    return absl::DataLossError("no complete HTTP answer: " + Tail(response, 200));
  }
  const std::string_view status_line = std::string_view(response).substr(0, response.find("\r\n"));
  if (status_line.find(" 200 ") == std::string_view::npos) {
    return absl::UnavailableError("HTTP answer " + std::string(status_line));
  }
  return response.substr(header_end + 4);
}

absl::StatusOr<std::vector<uint64_t>> DurableBlocks(const std::string& agent_state_dir) {
  const std::string state_file = testing::FindStateFile(agent_state_dir + "/targets");
  if (state_file.empty()) return absl::NotFoundError("no state file in " + agent_state_dir);
  absl::StatusOr<std::vector<testing::StateRecord>> records = testing::ReadStateRecords(state_file);
  if (!records.ok()) return records.status();
  std::vector<uint64_t> blocks;
  for (uint64_t block = 0; block < records->size(); ++block) {
    const testing::StateRecord& record = (*records)[block];
    // Durable and not being rewritten.
    if (record.durable_generation != 0 && record.inflight_generation == 0) blocks.push_back(block);
  }
  return blocks;
}

absl::StatusOr<uint64_t> CorruptPayload(const std::string& target, uint64_t block) {
  const testing::Layout layout{.block_size = kBlockSize};
  const uint64_t offset = layout.BlockOffset(block);
  absl::StatusOr<std::vector<std::byte>> bytes = testing::ReadBytes(target, offset, kBlockSize);
  if (!bytes.ok()) return bytes.status();
  // Sector 1's payload is [512 + 32, 1024): past its stamp, before sector 2.
  for (size_t i = 600; i < 664; ++i) (*bytes)[i] ^= std::byte{0xA5};
  if (absl::Status written = testing::WriteBytes(target, offset, *bytes); !written.ok()) {
    return written;
  }
  return offset;
}

int EvidenceCount(const std::string& agent_state_dir, uint64_t offset) {
  const std::string prefix = absl::StrCat(offset, "-");
  int count = 0;
  std::error_code error;
  // <state_dir>/evidence/<target id>/<offset>-<kind>-<time>-g<generation>
  for (const auto& target : fs::directory_iterator(agent_state_dir + "/evidence", error)) {
    for (const auto& entry : fs::directory_iterator(target.path(), error)) {
      if (entry.path().filename().string().starts_with(prefix)) ++count;
    }
  }
  return count;
}

absl::StatusOr<Mount> MountOf(const std::string& path) {
  std::error_code error;
  const fs::path canonical = fs::canonical(path, error);
  if (error) return absl::NotFoundError(path + ": " + error.message());
  const std::string target = canonical.string();
  std::optional<Mount> best;
  std::istringstream table(ReadTextFile("/proc/self/mountinfo"));
  for (std::string line; std::getline(table, line);) {
    // id parent major:minor root mount_point options [optional...] - fs_type source super_options
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    const auto separator = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || separator == fields.end() || separator + 1 == fields.end()) continue;
    const std::string mount_point = UnescapeMountField(fields[4]);
    const bool holds =
        mount_point == "/" || target == mount_point || target.starts_with(mount_point + "/");
    // The longest mount point wins; of equal ones the last (it covers the others).
    if (holds && (!best || mount_point.size() >= best->mount_point.size())) {
      best = Mount{.mount_point = mount_point, .fs_type = std::string(*(separator + 1))};
    }
  }
  if (!best) return absl::NotFoundError("no mount holds " + target);
  return *best;
}

std::string BackendName(Backend backend) {
  return backend == Backend::kPostgres ? "postgres" : "sqlite";
}

std::string BackendTestName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

absl::StatusOr<std::string> CreatePostgresDatabase() {
  absl::StatusOr<fscanary::testing::PostgresServer*> server =
      fscanary::testing::SharedPostgresServer();
  if (!server.ok()) return server.status();
  return (*server)->CreateDatabase();
}

absl::StatusOr<std::vector<std::vector<std::string>>> QueryPostgres(const std::string& dsn,
                                                                    const std::string& sql) {
  absl::StatusOr<fscanary::testing::PostgresServer*> server =
      fscanary::testing::SharedPostgresServer();
  if (!server.ok()) return server.status();
  return (*server)->Query(dsn, sql);
}

const std::string& E2eTest::PostgresDsn() {
  if (postgres_dsn_.empty()) {
    absl::StatusOr<std::string> dsn = CreatePostgresDatabase();
    EXPECT_TRUE(dsn.ok()) << dsn.status();
    if (dsn.ok()) postgres_dsn_ = *std::move(dsn);
  }
  return postgres_dsn_;
}

void E2eTest::StartCollector(const CollectorOptions& given) {
  CollectorOptions options = given;
  if (backend_ == Backend::kPostgres && options.postgres_dsn.empty()) {
    options.postgres_dsn = PostgresDsn();
    ASSERT_FALSE(options.postgres_dsn.empty()) << "no PostgreSQL database for the test";
  }
  absl::StatusOr<std::unique_ptr<Collector>> collector = Collector::Start(dir_.path(), options);
  ASSERT_TRUE(collector.ok()) << collector.status();
  collector_ = *std::move(collector);
}

void E2eTest::StartAgent(AgentOptions options) {
  ASSERT_NE(collector_, nullptr) << "start the collector first";
  if (options.collector_address.empty()) options.collector_address = collector_->address();
  absl::StatusOr<std::unique_ptr<Agent>> agent = Agent::Start(dir_.path(), options);
  ASSERT_TRUE(agent.ok()) << agent.status();
  agent_ = *std::move(agent);
}

void E2eTest::WaitUntilVerifying(const std::string& agent_id) {
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::optional<v1::HostSummary> host = collector_->FindHost(agent_id);
        return host && host->connected() && host->bytes_verified() > 0;
      },
      kEventTimeout))
      << "the host " << agent_id << " never reported verified bytes";
}

void E2eTest::ExpectStoredInBackend() {
  const std::string sqlite_file = dir_.path() + "/collector/collector.db";
  if (backend_ == Backend::kSqlite) {
    EXPECT_TRUE(fs::exists(sqlite_file)) << "the collector stored nothing in " << sqlite_file;
    return;
  }
  EXPECT_FALSE(fs::exists(sqlite_file))
      << "store.backend is postgres, yet the collector wrote " << sqlite_file;
  if (postgres_dsn_.empty()) return;
  const absl::StatusOr<std::vector<std::vector<std::string>>> hosts =
      QueryPostgres(postgres_dsn_, "SELECT count(*) FROM hosts");
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->size(), 1u);
  EXPECT_NE((*hosts)[0][0], "0") << "no host stored in PostgreSQL (" << postgres_dsn_ << ")";
}

void E2eTest::TearDown() {
  // Only where the test got as far as starting a collector.
  if (collector_ != nullptr && !HasFatalFailure()) ExpectStoredInBackend();
  if (!HasFailure()) return;
  std::vector<fs::path> logs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_.path(), error)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path());
  }
  std::sort(logs.begin(), logs.end());
  for (const fs::path& log : logs) {
    std::cerr << "---- " << log.filename().string() << " (tail) ----\n"
              << Tail(ReadTextFile(log.string()), 4000) << "\n";
  }
}

}  // namespace fscanary::e2e
