#include "threads.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace logsketch {
namespace {

int default_threads() {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
        char* end = nullptr;
        const long n = std::strtol(env, &end, 10);  // "4,2" (nested) takes the first level
        if (end != env && n > 0) return static_cast<int>(n);
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? static_cast<int>(hw) : 1;
}

std::atomic<int>& threads() {
    static std::atomic<int> n{default_threads()};
    return n;
}

}  // namespace

int get_num_threads() { return threads().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
    if (n < 1) throw std::invalid_argument("num_threads must be >= 1; got " + std::to_string(n));
    threads().store(n, std::memory_order_relaxed);
}

}  // namespace logsketch
