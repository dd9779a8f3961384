// fscanary: the operator CLI.
#include <iostream>

#include "collector/cli/operator_cli.h"

int main(int argc, char** argv) {
  return fscanary::cli::RunOperatorCli(argc, argv, std::cout, std::cerr);
}
