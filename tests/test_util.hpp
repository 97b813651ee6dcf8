#pragma once
// Shared helpers for the test suite: where the real corpora are, temp dirs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tmine::test {

/// The shared real corpora (../shared/data), or $TMINE_DATA.
inline std::string data_dir() {
    if (const char* d = std::getenv("TMINE_DATA")) return d;
    return TMINE_SHARED_DATA;
}
inline std::string data_file(const std::string& name) { return data_dir() + "/" + name; }
inline bool have_data(const std::string& name) {
    return std::filesystem::exists(data_file(name));
}
inline std::string fixture(const std::string& name) {
    return std::string(TMINE_FIXTURES) + "/" + name;
}

/// A fresh temporary directory removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "tmine-test-XXXXXX").string();
        path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace tmine::test

/// Skips (with the reason) a test that needs a shared corpus when it is absent.
#define TMINE_REQUIRE_DATA(name)                                                     \
    do {                                                                            \
        if (!::tmine::test::have_data(name))                                        \
            GTEST_SKIP() << "real corpus " << ::tmine::test::data_file(name)        \
                         << " not found (set TMINE_DATA)";                          \
    } while (0)
