#include "common/base/random.h"

#include "common/base/check.h"

namespace ck {

uint64_t Random::Uniform(uint64_t n) {
  CK_CHECK(n > 0) << "Uniform(0)";
  // Rejection sampling removes the modulo bias.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

double Random::Double() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

RealRandom::RealRandom() : engine_(std::random_device{}()) {}

RealRandom& RealRandom::Get() {
  static RealRandom r;
  return r;
}

uint64_t RealRandom::Next() {
  std::lock_guard lock(mu_);
  return engine_();
}

uint64_t FakeRandom::Next() {
  std::lock_guard lock(mu_);
  return engine_();
}

}  // namespace ck
