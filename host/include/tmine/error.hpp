#pragma once
/// Error channels (STYLE.md §5): bad input or environment throws a typed exception whose
/// message a user can act on; a broken internal invariant fails TMINE_ASSERT.
#include <stdexcept>
#include <string>

namespace tmine {

/// Base of every error tmine reports to a user.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Bad input: a file, line, field or option the user can fix. The message names it.
class InputError : public Error {
public:
    using Error::Error;
};

/// The requested device cannot be used (no GPU, built without CUDA, out of device memory).
class DeviceError : public Error {
public:
    using Error::Error;
};

/// The device is sound but the problem does not fit it: out of device memory, or a size past
/// a 32-bit limit of the GPU path. A caller may redo such work on the CPU; any other
/// DeviceError (an illegal address, a launch failure) can leave the CUDA context unusable and
/// must reach the user as it is.
class DeviceCapacityError : public DeviceError {
public:
    using DeviceError::DeviceError;
};

/// An I/O failure on a named path.
class IoError : public Error {
public:
    using Error::Error;
};

[[noreturn]] void assert_fail(const char* cond, const char* file, int line, const std::string& msg);

}  // namespace tmine

/// Internal invariant; never used for user input.
#define TMINE_ASSERT(cond, msg)                                                 \
    do {                                                                        \
        if (!(cond)) ::tmine::assert_fail(#cond, __FILE__, __LINE__, (msg));    \
    } while (0)
