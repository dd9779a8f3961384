// fscanary-collector: see collector/daemon/run.h.
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "collector/daemon/run.h"

int main(int argc, char** argv) {
  CLI::App app{"fscanary-collector: receives what fscanary agents find, stores it, exports it"};
  std::string config_path = "/etc/fscanary/collector.yaml";
  app.add_option("--config", config_path, "configuration file")->capture_default_str();
  app.set_version_flag("--version", FSCANARY_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  return fscanary::collector::RunCollector(config_path);
}
