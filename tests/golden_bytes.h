#pragma once
// Reads the golden files the format tests compare encoders against: fixed
// bytes committed to the repository, so that an accidental format change
// fails a test instead of an upgraded fleet.
//
// A golden .hex file is text: bytes as two hex digits separated by white
// space, "hh*N" for N bytes of value hh (long zero runs), and '#' to the end
// of the line a comment (the file says what every field is). Golden files sit
// in a golden/ folder beside the tests that read them; a test target defines
// FSCANARY_SOURCE_DIR to find them.

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace fscanary::testing {

// The whole file at `path` under the source tree; aborts if it cannot be read
// (a missing golden file is a broken checkout, not a test result).
inline std::string ReadSourceFile(const std::string& path) {
  const std::string full = std::string(FSCANARY_SOURCE_DIR) + "/" + path;
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read golden file " << full << "\n";
    std::abort();
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The bytes of the golden .hex file at `path` (relative to the source tree).
inline std::vector<std::byte> ReadGoldenHex(const std::string& path) {
  std::istringstream lines(ReadSourceFile(path));
  std::vector<std::byte> bytes;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream tokens(line.substr(0, line.find('#')));
    std::string token;
    while (tokens >> token) {
      const size_t star = token.find('*');
      size_t end = 0;
      const unsigned long value = std::stoul(token.substr(0, star), &end, 16);
      const unsigned long count =
          star == std::string::npos ? 1 : std::stoul(token.substr(star + 1));
      if (end != 2 || value > 0xff) {
        std::cerr << "bad byte \"" << token << "\" in golden file " << path << "\n";
        std::abort();
      }
      bytes.insert(bytes.end(), count, static_cast<std::byte>(value));
    }
  }
  return bytes;
}

inline std::string AsString(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace fscanary::testing
