#include "common/client/rest/dynamic_client.h"

namespace ck::client {

Result<ObjectList> DynamicClient::ListAll(const ResourceInfo& resource, const std::string& ns,
                                          ListOptions options, int64_t page_size) {
  options.limit = page_size;
  options.continue_token.clear();
  ObjectList all;
  bool first = true;
  while (true) {
    Result<ObjectList> page = api_.List(resource, ns, options);
    if (!page.ok()) {
      if (page.status().code() == Code::kGone && !first) {
        // The continue token expired: one consistent list of everything instead.
        options.limit = 0;
        options.continue_token.clear();
        return api_.List(resource, ns, options);
      }
      return page.status();
    }
    if (first) all.resource_version = page->resource_version;
    first = false;
    all.items.insert(all.items.end(), std::make_move_iterator(page->items.begin()),
                     std::make_move_iterator(page->items.end()));
    if (page->continue_token.empty() || page_size <= 0) return all;
    options.continue_token = page->continue_token;
    // Later pages come from the first page's snapshot; the token carries it.
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
}

}  // namespace ck::client
