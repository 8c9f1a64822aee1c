#pragma once
// The web dashboard's static files (src/admin/web/), compiled into the binary by
// cmake/embed_files.cmake: the daemon serves them with no file beside it and nothing from the
// internet.
#include <span>
#include <string_view>

namespace safetynet::admin {

struct EmbeddedFile {
  std::string_view name;  // relative to src/admin/web/: "index.html"
  std::string_view bytes;
};

// Defined in the generated web_files.cpp.
std::span<const EmbeddedFile> webFiles();

}  // namespace safetynet::admin
