#include "tmine/io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tmine/error.hpp"

namespace tmine {

[[noreturn]] void assert_fail(const char* cond, const char* file, int line,
                              const std::string& msg) {
    throw std::logic_error(std::string("tmine internal error: ") + cond + " failed at " + file +
                           ":" + std::to_string(line) + ": " + msg);
}

static std::string errno_text() { return std::strerror(errno); }

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    tmp_ = path_ + ".tmp." + std::to_string(::getpid());
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_) throw IoError("cannot write " + path_ + ": " + errno_text());
}

AtomicFile::~AtomicFile() {
    if (f_) {
        std::fclose(f_);
        std::remove(tmp_.c_str());
    }
}

void AtomicFile::write(const void* data, size_t n) {
    if (n && std::fwrite(data, 1, n, f_) != n)
        throw IoError("cannot write " + path_ + ": " + errno_text());
}

void AtomicFile::commit() {
    if (!f_) throw IoError("cannot write " + path_ + ": already committed");
    bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
    ok = (std::fclose(f_) == 0) && ok;
    f_ = nullptr;
    if (!ok || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
        std::string e = errno_text();
        std::remove(tmp_.c_str());
        throw IoError("cannot write " + path_ + ": " + e);
    }
}

void write_file_atomic(const std::string& path, std::string_view content) {
    AtomicFile f(path);
    f.write(content);
    f.commit();
}

BinaryReader::BinaryReader(const std::string& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw IoError("cannot open " + path + ": " + errno_text());
    std::error_code ec;
    size_ = std::filesystem::file_size(path, ec);
    if (ec) throw IoError("cannot stat " + path + ": " + ec.message());
}

BinaryReader::~BinaryReader() {
    if (f_) std::fclose(f_);
}

void BinaryReader::fail(const char* what) const {
    throw InputError(path_ + ": truncated or not a tmine file (while reading " + what + ")");
}

void BinaryReader::read(void* data, size_t n, const char* what) {
    if (n > remaining() || std::fread(data, 1, n, f_) != n) fail(what);
    pos_ += n;
}

void append_csv_field(std::string& out, std::string_view v) {
    if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
        out.append(v);
        return;
    }
    out.push_back('"');
    for (char c : v) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

void make_dirs(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) throw IoError("cannot create directory " + path + ": " + ec.message());
}

}  // namespace tmine
