#include "collector/store/epoch_facts.h"

#include <algorithm>
#include <vector>

#include "common/digest/sha256.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace fscanary::store {
namespace {

// Sorts a repeated field by each element's encoding, so that the order the
// agent listed them in does not matter.
template <typename Repeated>
void SortByEncoding(Repeated& elements) {
  using Element = typename Repeated::value_type;
  std::vector<std::pair<std::string, Element>> keyed;
  keyed.reserve(elements.size());
  for (Element& element : elements) {
    keyed.emplace_back(SerializeDeterministic(element), std::move(element));
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  elements.Clear();
  for (auto& [encoding, element] : keyed) *elements.Add() = std::move(element);
}

}  // namespace

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string encoded;
  {
    google::protobuf::io::StringOutputStream stream(&encoded);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return encoded;
}

std::string EpochFingerprint(const v1::HostFacts& facts) {
  v1::HostFacts stable = facts;
  stable.clear_hostname();
  stable.clear_boot_id();
  stable.clear_memory_bytes();
  // The hash stands for the options it was computed from.
  if (!stable.kernel_config_sha256().empty()) stable.clear_kernel_config();
  for (v1::BlockDeviceFacts& device : *stable.mutable_devices()) {
    device.clear_dev();
    device.clear_size_bytes();
  }
  SortByEncoding(*stable.mutable_devices());
  SortByEncoding(*stable.mutable_filesystems());
  return SerializeDeterministic(stable);
}

std::optional<SharedKernelConfig> SplitKernelConfig(v1::HostFacts& facts) {
  if (facts.kernel_config_sha256().empty() || facts.kernel_config().empty()) return std::nullopt;
  v1::HostFacts config_only;
  config_only.mutable_kernel_config()->swap(*facts.mutable_kernel_config());
  std::string options = SerializeDeterministic(config_only);
  std::string sha256 = digest::Sha256Hex(options);
  return SharedKernelConfig{.sha256 = std::move(sha256), .options = std::move(options)};
}

}  // namespace fscanary::store
