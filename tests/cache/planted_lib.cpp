// A shared library standing in for code another user planted in a cache
// folder: its constructor (run by dlopen) creates the file named by
// $AEGISRT_PLANTED_MARKER. Tests use it to prove that nothing untrusted is
// ever dlopen()ed, and (as a positive control) that a trusted copy is.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace {
__attribute__((constructor)) void planted_constructor() {
  const char* marker = std::getenv("AEGISRT_PLANTED_MARKER");
  if (marker == nullptr || *marker == '\0') return;
  const int fd = ::open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, "ran\n", 4);
    ::close(fd);
  }
}
}  // namespace
