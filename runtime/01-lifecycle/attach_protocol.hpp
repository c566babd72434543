// 01-lifecycle/attach_protocol.hpp — what `skiff attach` and the monitor say.
//
// The monitor sends a client the container's output as it comes, bytes as
// they are. A client sends frames: one type byte, a 4-byte little-endian
// length, then the payload:
//   'd'  data typed at the client's terminal, for the container's pty
//   'w'  the client's window size: rows and columns, 2 bytes each (LE)
// Plain C, so that skiff-monitor (libc only) includes it too.
// Lesson: lessons/01-first-container.
#pragma once

namespace skiff::attach {

constexpr char kData = 'd';
constexpr char kWindowSize = 'w';
constexpr unsigned kHeaderSize = 5;
constexpr unsigned kMaxPayload = 4096;

}  // namespace skiff::attach
