// CK_CHECK: crash on the impossible. A broken invariant stops the process with one clear line
// naming the file, the line, the condition and any streamed context:
//   CK_CHECK(rev > last_rev) << "revision went backwards: " << rev;
// Use it only for bugs; bad input, network and disk failures are Status values (status.h).
#pragma once

#include <sstream>

namespace ck::internal {

class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure();
  std::ostream& stream() { return stream_; }

 private:
  std::ostringstream stream_;
};

// Lets `cond ? (void)0 : Voidify() & CheckFailure(...).stream() << ...` type-check.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace ck::internal

#define CK_CHECK(cond)                 \
  (cond) ? (void)0                     \
         : ::ck::internal::Voidify() & \
               ::ck::internal::CheckFailure(__FILE__, __LINE__, #cond).stream()
