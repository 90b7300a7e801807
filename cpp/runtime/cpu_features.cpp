#include "cpu_features.hpp"

#include <atomic>
#include <stdexcept>

namespace logsketch {
namespace {

#define LOGSKETCH_ISA_NAME_(isa, ...) #isa,
#define LOGSKETCH_ISA_SUPPORTED_(isa, ...) &simd::isa::Traits::supported,
constexpr const char* kNames[] = {LOGSKETCH_FOR_EACH_ISA(LOGSKETCH_ISA_NAME_, )};
constexpr bool (*kSupported[])() = {LOGSKETCH_FOR_EACH_ISA(LOGSKETCH_ISA_SUPPORTED_, )};
#undef LOGSKETCH_ISA_NAME_
#undef LOGSKETCH_ISA_SUPPORTED_
constexpr int kLevels = static_cast<int>(sizeof kNames / sizeof kNames[0]);

SimdLevel detect() {
    int best = 0;
    for (int i = 1; i < kLevels; ++i)
        if (kSupported[i]()) best = i;
    return static_cast<SimdLevel>(best);
}

std::atomic<int>& active() {
    static std::atomic<int> level{static_cast<int>(detected_simd_level())};
    return level;
}

std::string expected_names() {
    std::string s;
    for (int i = 0; i < kLevels; ++i) {
        if (i > 0) s += i + 1 == kLevels ? " or " : ", ";
        s += std::string("'") + kNames[i] + "'";
    }
    return s;
}

}  // namespace

SimdLevel detected_simd_level() {
    static const SimdLevel level = detect();
    return level;
}

SimdLevel active_simd_level() { return static_cast<SimdLevel>(active().load(std::memory_order_relaxed)); }

void set_simd_level(SimdLevel level) {
    if (!kSupported[static_cast<int>(level)]()) {
        throw std::invalid_argument(std::string("SIMD level '") + simd_level_name(level) +
                                    "' is not supported by this CPU (best: '" +
                                    simd_level_name(detected_simd_level()) + "')");
    }
    active().store(static_cast<int>(level), std::memory_order_relaxed);
}

SimdLevel parse_simd_level(const std::string& name) {
    for (int i = 0; i < kLevels; ++i)
        if (name == kNames[i]) return static_cast<SimdLevel>(i);
    throw std::invalid_argument("unknown SIMD level '" + name + "'; expected " + expected_names());
}

const char* simd_level_name(SimdLevel level) { return kNames[static_cast<int>(level)]; }

}  // namespace logsketch
