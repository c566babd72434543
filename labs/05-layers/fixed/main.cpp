// labs/05-layers/fixed/main.cpp — apply-layers ROOTFS LAYER.tar [LAYER.tar...]
//
// Flattens an image into the directory ROOTFS (made if missing): your
// apply_layer() (layers.cpp) once per layer, in the order given, the bottom
// layer first. This file is given.
// Exit codes: 0 when every layer is applied; 125 when one is refused or
// fails (the message names the layer and the entry); 2 on a usage error.
#include <exception>
#include <iostream>

#include "layers.hpp"

int main(int argc, char* argv[]) {
  if (argc < 3) {
    std::cerr << "usage: apply-layers ROOTFS LAYER.tar [LAYER.tar...]\n";
    return 2;
  }
  const lab::stdfs::path rootfs = argv[1];
  std::string layer;
  try {
    lab::stdfs::create_directories(rootfs);
    for (int i = 2; i < argc; ++i) {
      layer = argv[i];
      lab::apply_layer(layer, rootfs);
    }
  } catch (const std::exception& e) {
    std::cerr << "apply-layers: " << (layer.empty() ? "" : layer + ": ") << e.what() << '\n';
    return 125;
  }
  return 0;
}
