// FactsFingerprint: XXH3 of the deterministic encoding of the facts, less
// those that are not attributes of the host.

#include <xxhash.h>

#include <string>

#include "agent/facts/host_facts.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace fscanary::facts {

uint64_t FactsFingerprint(const v1::HostFacts& facts) {
  v1::HostFacts stable = facts;
  stable.clear_memory_bytes();
  stable.clear_boot_id();
  // The hash stands for the options it was computed from, and is far cheaper
  // to encode than thousands of map entries.
  if (!stable.kernel_config_sha256().empty()) stable.clear_kernel_config();

  std::string encoded;
  {
    google::protobuf::io::StringOutputStream stream(&encoded);
    google::protobuf::io::CodedOutputStream coded(&stream);
    // Map entries in a fixed order, so equal facts encode equally.
    coded.SetSerializationDeterministic(true);
    stable.SerializeToCodedStream(&coded);
  }
  return XXH3_64bits(encoded.data(), encoded.size());
}

}  // namespace fscanary::facts
