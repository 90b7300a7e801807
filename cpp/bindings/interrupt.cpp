#include "interrupt.hpp"

#include <Python.h>

namespace logsketch::bindings {
namespace {

// Runs Python's signal handlers (main thread only; elsewhere a no-op).  A
// handler's exception stays set in this thread and is raised when the call
// unwinds back into Python.
bool python_signal_raised() {
    const PyGILState_STATE gil = PyGILState_Ensure();
    const bool raised = PyErr_CheckSignals() != 0;
    PyGILState_Release(gil);
    return raised;
}

}  // namespace

InterruptibleCall::InterruptibleCall() : scope_(&python_signal_raised) {}

void register_interrupt(pybind11::module_&) {
    pybind11::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Cancelled&) {
            if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
        }
    });
}

}  // namespace logsketch::bindings
