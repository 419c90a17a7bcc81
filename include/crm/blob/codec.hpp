#pragma once
// How blobs (raw messages) are kept in the database: zstd-compressed when that saves at least a
// tenth, else as they are. Raw mail roughly halves, so an initial sync or import writes (and
// WAL-checksums, and checkpoints) half the bytes. Pure functions, safe on any thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "crm/core/ports.hpp"
#include "crm/core/result.hpp"

namespace crm::blob {

// Packs `bytes` for the blobs table (codec "zstd" or "none").
[[nodiscard]] PackedBlob pack_blob(std::string_view bytes);

// The original bytes of a stored blob; `size` is the blobs.size column (the original length).
// Errors: "blob.codec" for an unknown codec or data that does not decompress to `size` bytes.
[[nodiscard]] Result<std::string> unpack_blob(std::string_view codec, std::string_view data,
                                              std::size_t size);

} // namespace crm::blob
