// Random: injected randomness (jitter, tie-breaks, generateName suffixes), so tests can make it
// deterministic. Threading: both implementations are safe to call from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace ck {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t Next() = 0;
  // Uniform in [0, n); n must be > 0.
  uint64_t Uniform(uint64_t n);
  // Uniform in [0, 1).
  double Double();
};

// A Mersenne Twister seeded from std::random_device (or a given seed), guarded by a mutex.
class RealRandom final : public Random {
 public:
  RealRandom();
  explicit RealRandom(uint64_t seed) : engine_(seed) {}
  static RealRandom& Get();
  uint64_t Next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // guarded by mu_
};

// Deterministic: a fixed-seed engine, so a test sees the same sequence every run.
class FakeRandom final : public Random {
 public:
  explicit FakeRandom(uint64_t seed = 42) : engine_(seed) {}
  uint64_t Next() override;

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;  // guarded by mu_
};

}  // namespace ck
