// core/fs.cpp — see fs.hpp.
#include "core/fs.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::core::fs {

std::optional<std::string> read_file_if_exists(const stdfs::path& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError(errno, "open(" + path.string() + ")");
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError(errno, "read(" + path.string() + ")");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_file(const stdfs::path& path) {
  auto content = read_file_if_exists(path);
  if (!content) throw SystemError(ENOENT, "open(" + path.string() + ")");
  return *content;
}

namespace {

// 16 random hex digits: a temporary name nobody can guess and plant first.
// (A pid is guessable, and is 1 in a new pid namespace.)
std::string random_suffix() {
  unsigned char bytes[8];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    throw SystemError(errno, "getrandom");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace

void write_file_atomic(const stdfs::path& path, std::string_view content) {
  stdfs::path tmp = path;
  tmp += ".tmp-" + random_suffix();
  {
    // O_EXCL|O_NOFOLLOW: a new file of ours, never one that was waiting
    // under that name (a symlink to a host file would be truncated).
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid()) throw SystemError(errno, "open(" + tmp.string() + ")");
    const char* p = content.data();
    size_t left = content.size();
    while (left > 0) {
      ssize_t n = ::write(fd.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::unlink(tmp.c_str());
        throw SystemError(err, "write(" + tmp.string() + ")");
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw SystemError(err, "rename(" + tmp.string() + " → " + path.string() + ")");
  }
}

void make_dirs(const stdfs::path& path, stdfs::perms perms) {
  std::error_code ec;
  stdfs::create_directories(path, ec);
  if (ec) throw SystemError(ec.value(), "mkdir(" + path.string() + ")");
  if (perms != stdfs::perms::unknown) stdfs::permissions(path, perms, ec);
}

void make_private_dir(const stdfs::path& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) == 0) {
    if (::chmod(path.c_str(), mode) < 0) throw SystemError(errno, "chmod(" + path.string() + ")");  // past the umask
    return;
  }
  if (errno == ENOENT) {
    make_dirs(path.parent_path());
    return make_private_dir(path, mode);
  }
  struct stat st {};
  if (errno != EEXIST || ::stat(path.c_str(), &st) < 0) throw SystemError(errno, "mkdir(" + path.string() + ")");
  if ((st.st_mode & 07777) != mode && ::chmod(path.c_str(), mode) < 0)
    throw SystemError(errno, "chmod(" + path.string() + ")");
}

FileLock::FileLock(const stdfs::path& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw SystemError(errno, "open(" + path.string() + ")");
  while (::flock(fd_, LOCK_EX) < 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd_);
    throw SystemError(err, "flock(" + path.string() + ")");
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace skiff::core::fs
