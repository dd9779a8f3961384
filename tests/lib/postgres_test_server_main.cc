// postgres_test_server start|stop FILE: the ctest fixture `postgres`. start
// runs one PostgreSQL server for the whole ctest run and writes its
// directory to FILE (the tests find it through $FSCANARY_TEST_POSTGRES);
// stop stops it and removes both. Where PostgreSQL may be missing (not root,
// not installed) start succeeds without a server, and the tests skip.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "tests/lib/postgres_server.h"

namespace {

std::string ReadDirectory(const std::string& file) {
  std::ifstream in(file);
  std::string dir;
  std::getline(in, dir);
  return dir;
}

}  // namespace

int main(int argc, char** argv) {
  using fscanary::testing::PostgresServer;
  const std::string command = argc == 3 ? argv[1] : "";
  if (command != "start" && command != "stop") {
    std::cerr << "usage: postgres_test_server start|stop FILE\n";
    return 2;
  }
  const std::string file = argv[2];
  // A server a killed run left behind is stopped first.
  if (const std::string dir = ReadDirectory(file); !dir.empty()) {
    if (absl::Status stopped = PostgresServer::StopAt(dir); !stopped.ok()) {
      std::cerr << "postgres_test_server: " << stopped << "\n";
    }
  }
  std::remove(file.c_str());
  if (command == "stop") return 0;

  absl::StatusOr<std::unique_ptr<PostgresServer>> server = PostgresServer::Start();
  if (!server.ok()) {
    std::cerr << "postgres_test_server: " << server.status() << "\n";
    return fscanary::testing::PostgresMaySkip(server.status()) ? 0 : 1;
  }
  std::ofstream(file) << (*server)->Detach() << "\n";
  std::cout << "PostgreSQL for the tests runs in " << ReadDirectory(file) << "\n";
  return 0;
}
