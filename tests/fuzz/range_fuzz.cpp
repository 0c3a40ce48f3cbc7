// Fuzz target: the Range header parser against a fuzzer-chosen file size and range limit.
// Satisfiable ranges lie inside the file, are non-empty, within the limit and never add up to
// more than the file; the Content-Range texts are well formed.
#include "fuzz_check.hpp"

#include "files/range.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using bws::files::range_outcome;
    FuzzedDataProvider in(data, size);
    // Small sizes most of the time (where off-by-ones live), any 64-bit size sometimes.
    const std::uint64_t file_size = in.ConsumeBool()
                                        ? in.ConsumeIntegralInRange<std::uint64_t>(0, 300)
                                        : in.ConsumeIntegral<std::uint64_t>();
    const std::size_t max_ranges = in.ConsumeIntegralInRange<std::size_t>(0, 20);
    const std::string header = in.ConsumeRemainingBytesAsString();

    const auto r = bws::files::parse_range(header, file_size, max_ranges);
    switch (r.outcome) {
    case range_outcome::ignore:
        break;
    case range_outcome::unsatisfiable:
        BWS_FUZZ_CHECK(r.ranges.empty());
        BWS_FUZZ_CHECK(file_size > 0 && max_ranges > 0);
        BWS_FUZZ_CHECK(bws::files::unsatisfied_content_range(file_size) ==
                       "bytes */" + std::to_string(file_size));
        break;
    case range_outcome::satisfiable: {
        BWS_FUZZ_CHECK(!r.ranges.empty() && r.ranges.size() <= max_ranges);
        std::uint64_t total = 0;
        for (const auto& range : r.ranges) {
            BWS_FUZZ_CHECK(range.first <= range.last && range.last < file_size);
            BWS_FUZZ_CHECK(range.length() > 0 && range.length() <= file_size);
            total += range.length();
            BWS_FUZZ_CHECK(total <= file_size);
            BWS_FUZZ_CHECK(bws::files::content_range(range, file_size) ==
                           "bytes " + std::to_string(range.first) + "-" +
                               std::to_string(range.last) + "/" + std::to_string(file_size));
        }
        // Coalesced: no two ranges overlap or touch.
        for (std::size_t i = 0; i < r.ranges.size(); ++i)
            for (std::size_t j = i + 1; j < r.ranges.size(); ++j)
                BWS_FUZZ_CHECK(r.ranges[i].last + 1 < r.ranges[j].first ||
                               r.ranges[j].last + 1 < r.ranges[i].first);
        if (r.ranges.size() > 1) {
            const auto part = bws::files::multipart_part_header("b0undary", "text/plain",
                                                                r.ranges[1], file_size, false);
            BWS_FUZZ_CHECK(part.rfind("\r\n--b0undary\r\n", 0) == 0);
            BWS_FUZZ_CHECK(part.size() >= 4 && part.compare(part.size() - 4, 4, "\r\n\r\n") == 0);
        }
        break;
    }
    }
    return 0;
}
