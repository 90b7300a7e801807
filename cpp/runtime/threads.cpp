#include "threads.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace logsketch {
namespace {

int default_threads() {
    int n = 0;
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
        char* end = nullptr;
        const long v = std::strtol(env, &end, 10);  // "4,2" (nested) takes the first level
        if (end != env && v > 0) n = v > kMaxThreads ? kMaxThreads : static_cast<int>(v);
    }
    if (n == 0) {
        const unsigned hw = std::thread::hardware_concurrency();
        n = hw == 0 ? 1 : hw > unsigned(kMaxThreads) ? kMaxThreads : static_cast<int>(hw);
    }
    return n;
}

std::atomic<int>& threads() {
    static std::atomic<int> n{default_threads()};
    return n;
}

}  // namespace

int get_num_threads() { return threads().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
    if (n < 1 || n > kMaxThreads) {
        throw std::invalid_argument("num_threads must be in [1, " + std::to_string(kMaxThreads) + "]; got " +
                                    std::to_string(n));
    }
    threads().store(n, std::memory_order_relaxed);
    if (n > 1) pool::reserve(n - 1);  // a loop on n threads: the caller and n - 1 workers
}

}  // namespace logsketch
