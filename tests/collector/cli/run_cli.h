#pragma once
// Runs the operator CLI in-process as a shell would, for the CLI's tests.

#include <sstream>
#include <string>
#include <vector>

#include "collector/cli/operator_cli.h"

namespace fscanary::testing {

// `fscanary args...`: its exit code; what it printed in `out` and `err`
// (cleared first).
inline int RunCli(std::vector<std::string> args, std::ostringstream& out, std::ostringstream& err) {
  args.insert(args.begin(), "fscanary");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  out.str("");
  err.str("");
  return cli::RunOperatorCli(static_cast<int>(argv.size()), argv.data(), out, err);
}

}  // namespace fscanary::testing
