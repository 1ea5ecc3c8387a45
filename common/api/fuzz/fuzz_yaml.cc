// libFuzzer target: YAML manifests to JSON. Every document produced must be JSON that parses.
#include <cstddef>
#include <cstdint>
#include <string>

#include <simdjson.h>

#include "common/api/yaml.h"
#include "common/base/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  ck::Result<std::vector<std::string>> docs = ck::api::YamlToJsonDocuments(yaml);
  if (!docs.ok()) {
    CK_CHECK(docs.status().code() == ck::Code::kBadRequest) << docs.status().ToString();
    return 0;
  }
  simdjson::dom::parser parser;
  for (const std::string& doc : *docs) {
    simdjson::padded_string padded(doc);
    simdjson::dom::element e;
    CK_CHECK(parser.parse(padded).get(e) == simdjson::SUCCESS) << "not JSON: " << doc;
  }
  return 0;
}
