#include "crm/blob/codec.hpp"

#include <memory>

#include <fmt/format.h>
#include <zstd.h>

namespace crm::blob {

namespace {
// Level 1: ~400 MB/s per core here and within a few percent of level 3's ratio on mail.
constexpr int kLevel = 1;
// Tiny messages gain nothing worth a decompression on read.
constexpr std::size_t kMinSize = 512;

struct CctxFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
} // namespace

PackedBlob pack_blob(std::string_view bytes) {
    PackedBlob out;
    out.size = bytes.size();
    if (bytes.size() >= kMinSize) {
        // One context per thread: creating one per call costs more than compressing a message.
        thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
        // Compressed into a scratch buffer, then copied out at its exact size: the result lives
        // as long as its batch, and a string sized for the worst case would hold the original's
        // size in memory.
        thread_local std::string scratch;
        if (cctx) {
            const std::size_t bound = ZSTD_compressBound(bytes.size());
            if (scratch.size() < bound)
                scratch.resize(bound);
            const std::size_t n = ZSTD_compressCCtx(cctx.get(), scratch.data(), bound, bytes.data(),
                                                    bytes.size(), kLevel);
            if (!ZSTD_isError(n) && n <= bytes.size() - bytes.size() / 10) {
                out.codec = "zstd";
                out.bytes.assign(scratch.data(), n);
                if (scratch.size() > (std::size_t{4} << 20))
                    std::string().swap(scratch); // after a huge message, do not keep its buffer
                return out;
            }
        }
    }
    out.codec = "none";
    out.bytes.assign(bytes);
    return out;
}

Result<std::string> unpack_blob(std::string_view codec, std::string_view data, std::size_t size) {
    if (codec == "none") {
        if (data.size() != size)
            return fail("blob.codec",
                        fmt::format("stored blob has {} bytes, its size column says {}",
                                    data.size(), size));
        return std::string(data);
    }
    if (codec != "zstd")
        return fail("blob.codec", fmt::format("unknown blob codec '{}'", codec));
    thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
    if (!dctx)
        return fail("blob.codec", "out of memory for a zstd context");
    std::string out;
    out.resize(size);
    const std::size_t n = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), data.data(), data.size());
    if (ZSTD_isError(n))
        return fail("blob.codec", fmt::format("corrupt zstd blob: {}", ZSTD_getErrorName(n)));
    if (n != size)
        return fail(
            "blob.codec",
            fmt::format("zstd blob decompressed to {} bytes, its size column says {}", n, size));
    return out;
}

} // namespace crm::blob
