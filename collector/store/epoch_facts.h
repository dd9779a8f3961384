#pragma once
// Which host facts make an epoch, and how facts are kept compact: pure
// functions on v1::HostFacts, shared by every backend.

#include <optional>
#include <string>

#include "fscanary/v1/facts.pb.h"
#include "google/protobuf/message_lite.h"

namespace fscanary::store {

// Bytes that are equal exactly when two facts describe the same host for a
// correlation. Left out: hostname (a name, not a cause), boot_id (a reboot
// into the same state is not a new epoch), memory_bytes (a balloon moves it),
// and per device `dev` (major:minor follow probe order) and size_bytes (an
// online resize changes no behaviour). The kernel config counts through its
// SHA-256 when the agent sent one, else option by option. Devices and
// filesystems count as sets (their order is not a fact). Comparable only
// within one build: compute both sides with the same binary, never store it.
std::string EpochFingerprint(const v1::HostFacts& facts);

// The protobuf encoding with map entries in key order, so equal messages
// encode equally.
std::string SerializeDeterministic(const google::protobuf::MessageLite& message);

// The kernel config of `facts`, split off to be stored once per SHA-256.
struct SharedKernelConfig {
  // SHA-256 (hex) of `options`, computed by the collector: the key of the
  // shared row. Never the agent's kernel_config_sha256 (a hash of its config
  // file, kept as a fact): an agent could send another host's hash with other
  // options and, first to store it, stand in for that host's config.
  std::string sha256;
  // A v1::HostFacts holding only kernel_config, deterministically encoded.
  std::string options;
};
// Moves the kernel config out of `facts` when it can be shared (the agent
// sent kernel_config_sha256 and the options); otherwise leaves `facts` alone
// and returns nullopt.
std::optional<SharedKernelConfig> SplitKernelConfig(v1::HostFacts& facts);

}  // namespace fscanary::store
