// 05-images/digest.cpp — sha256, the names of blobs (see oci.hpp).
//
// Lesson: lessons/05-images ("content addressing"). A digest is how an image
// proves it is the one you asked for: skiff recomputes it whenever it uses a
// blob, and refuses a blob whose bytes no longer match its name.
#include <fcntl.h>
#include <nettle/sha2.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "05-images/oci.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::images::oci {

// Nettle (GnuTLS's crypto library, which libarchive links too) rather than
// OpenSSL: OpenSSL 3 sets up its provider and name tables on the first
// digest of every process, about 0.6 ms of every `skiff run`, which checks
// the digests of the image's manifest and config each time
// (tests/bench/README.md). Nettle's sha256 is a plain struct and three calls.
struct Sha256::State {
  sha256_ctx ctx;
};

Sha256::Sha256() : state_(std::make_unique<State>()) { sha256_init(&state_->ctx); }

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  sha256_update(&state_->ctx, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
}

std::string Sha256::hex() {
  uint8_t md[SHA256_DIGEST_SIZE];
  sha256_digest(&state_->ctx, sizeof md, md);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : md) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

std::string sha256_file_hex(const stdfs::path& path) {
  core::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw core::SystemError(errno, "open(" + path.string() + ")");
  Sha256 h;
  // Read buffers are allocated per call, never `static thread_local`: a
  // thread_local array lives in the TLS block glibc zeroes when every
  // thread starts, the main thread included. Eight 64 KiB-1 MiB ones made
  // 1.5 MB of it, 0.5 ms of page faults on every `skiff run`.
  std::vector<char> buffer(1 << 16);
  char* buf = buffer.data();
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw core::SystemError(errno, "read(" + path.string() + ")");
    if (n == 0) break;
    h.update(std::string_view(buf, static_cast<size_t>(n)));
  }
  return h.hex();
}

bool is_hex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_sha256_digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  return digest.size() == kPrefix.size() + 64 && digest.starts_with(kPrefix) &&
         is_hex(digest.substr(kPrefix.size()));
}

std::string digest_hex(std::string_view digest) {
  // Only sha256 exists in practice; refusing others keeps blob paths simple
  // and stops a crafted "../" digest from naming a file outside blobs/.
  if (!is_sha256_digest(digest))
    throw core::Error("unsupported or malformed digest \"" + std::string(digest) + "\"");
  return std::string(digest.substr(7));
}

}  // namespace skiff::images::oci
