// The preconditions of the C++ drivers.  Their callers (the bindings) check
// every argument first, so a failed precondition is a bug in a caller: it
// throws std::logic_error, naming the condition, instead of touching memory.
#pragma once

#include <stdexcept>

#define LOGSKETCH_STR_(x) #x
#define LOGSKETCH_LINE_(x) LOGSKETCH_STR_(x)
#define LOGSKETCH_REQUIRE(cond)                                                                        \
    do {                                                                                               \
        if (!(cond))                                                                                   \
            throw std::logic_error(__FILE__ ":" LOGSKETCH_LINE_(__LINE__) ": precondition failed: " #cond); \
    } while (0)
