#pragma once
// The operator CLI `fscanary`: one subcommand per question an operator asks of
// the fleet. main.cc only calls RunOperatorCli.

#include <iosfwd>

namespace fscanary::cli {

// Parses argv and runs the subcommand. Returns the exit code: 0 on success,
// 2 for usage or input errors (with a message on `err` naming the problem),
// 1 for other failures.
int RunOperatorCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace fscanary::cli
