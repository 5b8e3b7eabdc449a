// compressed_file.cc: read and write a baseline output file, zstd-compressed when its name ends in .zst.
#include "differential/baseline/compressed_file.h"

#include <zstd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "differential/common/whole_file.h"

namespace instar::diff {
namespace {

bool is_zst(const std::filesystem::path& file) { return file.extension() == ".zst"; }

}  // namespace

std::string read_baseline_file(const std::filesystem::path& file) {
  std::optional<std::string> read = read_whole_file(file);
  if (!read) throw std::runtime_error(file.string() + ": cannot open");
  std::string bytes = std::move(*read);
  if (!is_zst(file)) return bytes;
  unsigned long long size = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    throw std::runtime_error(file.string() + ": not a zstd frame with a known size");
  std::string out(size, '\0');
  size_t got = ZSTD_decompress(out.data(), out.size(), bytes.data(), bytes.size());
  if (ZSTD_isError(got) || got != size)
    throw std::runtime_error(file.string() + ": zstd: " + ZSTD_getErrorName(got));
  return out;
}

void write_baseline_file(const std::filesystem::path& file, const std::string& bytes) {
  std::string data = bytes;
  if (is_zst(file)) {
    data.resize(ZSTD_compressBound(bytes.size()));
    size_t got = ZSTD_compress(data.data(), data.size(), bytes.data(), bytes.size(), 19);
    if (ZSTD_isError(got)) throw std::runtime_error(file.string() + ": zstd: " + ZSTD_getErrorName(got));
    data.resize(got);
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error(file.string() + ": cannot write");
}

}  // namespace instar::diff
