// Throughput of the pure per-message steps on one core: GMime parsing (mime::parse), SHA-256 of
// the raw bytes and zstd packing (blob::pack_blob). They run on the parser threads of
// crm-mailctl import and crm-maild, so they bound what any number of writers could reach.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "crm/blob/codec.hpp"
#include "crm/mime/parse.hpp"

namespace {

std::vector<std::string>& corpus() {
    static std::vector<std::string> messages;
    return messages;
}

bool load(const std::filesystem::path& dir) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file())
            continue;
        std::ifstream in(it->path(), std::ios::binary | std::ios::ate);
        const auto size = static_cast<std::streamsize>(in.tellg());
        if (!in || size <= 0)
            continue;
        std::string bytes(static_cast<std::size_t>(size), '\0');
        in.seekg(0);
        if (in.read(bytes.data(), size))
            corpus().push_back(std::move(bytes));
    }
    return !ec && !corpus().empty();
}

template <class F> void over_corpus(benchmark::State& state, F&& step) {
    std::size_t i = 0;
    std::int64_t bytes = 0;
    for (auto _ : state) {
        const auto& m = corpus()[i];
        step(m);
        bytes += static_cast<std::int64_t>(m.size());
        i = (i + 1) % corpus().size();
    }
    state.SetBytesProcessed(bytes);
    state.SetItemsProcessed(state.iterations());
}

void BM_Parse(benchmark::State& state) {
    over_corpus(state, [](const std::string& m) {
        auto pm = crm::mime::parse(m);
        benchmark::DoNotOptimize(pm);
    });
}

void BM_Sha256(benchmark::State& state) {
    over_corpus(state, [](const std::string& m) {
        auto h = crm::mime::sha256_hex(m);
        benchmark::DoNotOptimize(h);
    });
}

void BM_PackBlob(benchmark::State& state) {
    over_corpus(state, [](const std::string& m) {
        auto p = crm::blob::pack_blob(m);
        benchmark::DoNotOptimize(p);
    });
}

} // namespace

BENCHMARK(BM_Parse)->MinTime(3.0);
BENCHMARK(BM_Sha256)->MinTime(1.0);
BENCHMARK(BM_PackBlob)->MinTime(2.0);

int main(int argc, char** argv) {
    if (argc < 2 || argv[1][0] == '-') {
        std::fprintf(stderr, "usage: pipeline_bench DIR [benchmark flags]\n");
        return 2;
    }
    if (!load(argv[1])) {
        std::fprintf(stderr, "pipeline_bench: no message files under %s\n", argv[1]);
        return 1;
    }
    std::fprintf(stderr, "%zu messages\n", corpus().size());
    crm::mime::init();
    argv[1] = argv[0];
    ++argv;
    --argc;
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
