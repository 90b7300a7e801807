// Ctrl-C during a kernel call: the calling thread checks Python's signals
// about every 50 ms while the pool works, and a KeyboardInterrupt (or any
// exception a signal handler raises) cancels the call.
//
//     py::gil_scoped_release release;
//     InterruptibleCall interruptible;  // after the release: the check takes the GIL
//     kernel(params);
//
// A cancelled kernel throws logsketch::Cancelled; the translator that
// register_interrupt installs turns it into the pending Python exception.
// Scratch buffers are freed as the exception unwinds; an `out=` array may be
// partly written, inputs are untouched.
#pragma once

#include <pybind11/pybind11.h>

#include "../runtime/thread_pool.hpp"

namespace logsketch::bindings {

class InterruptibleCall {
  public:
    InterruptibleCall();

  private:
    CancelScope scope_;
};

// Installs the Cancelled -> pending Python exception translator; once per module.
void register_interrupt(pybind11::module_& m);

}  // namespace logsketch::bindings
