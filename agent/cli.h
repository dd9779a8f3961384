#pragma once
// Parses fscanary-agent's command line and runs the chosen command.

namespace fscanary::agent {

// Returns the process exit code (0 clean, 1 corruption, 2 usage or environment).
int RunCli(int argc, char** argv);

}  // namespace fscanary::agent
