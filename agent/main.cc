// fscanary-agent: the detector that runs on every VM.
#include "agent/cli.h"

int main(int argc, char** argv) { return fscanary::agent::RunCli(argc, argv); }
