// tests/tools/json_choice.cc: the measurement behind the chat codec's JSON library choice
// (docs/chat-protocol.md): cost per message of parsing a typical `say` and encoding a `message`
// event, with nlohmann-json (when installed), simdjson and our own codec. Build: make tools.
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "chat/protocol.h"

#if __has_include(<nlohmann/json.hpp>)
#include <nlohmann/json.hpp>
#define EPWS_HAVE_NLOHMANN 1
#endif

using namespace epws::chat;

namespace {

constexpr std::string_view kSay =
    R"({"type":"say","room":"lobby","text":"hello everyone, how is it going today?","id":17})";
constexpr std::string_view kText = "hello everyone, how is it going today?";
constexpr int kIterations = 1'000'000;
constexpr int kRounds = 5;

volatile size_t g_sink; // keeps the optimiser from deleting the work

// Best of kRounds runs of kIterations calls, in nanoseconds per call: the minimum is the figure
// least disturbed by other processes on the machine.
template <class F> double ns_per_call(F&& f) {
    double best = 1e18;
    for (int round = 0; round < kRounds; ++round) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < kIterations; ++i)
            f();
        const auto t1 = std::chrono::steady_clock::now();
        best =
            std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count() / kIterations);
    }
    return best;
}

void report(const char* what, double ns) { std::printf("  %-52s %6.0f ns\n", what, ns); }

void parse_figures() {
    std::printf("parse a say (%zu bytes), fields extracted:\n", kSay.size());
#ifdef EPWS_HAVE_NLOHMANN
    report("nlohmann::json::parse + find", ns_per_call([] {
               const nlohmann::json j = nlohmann::json::parse(kSay, nullptr, false);
               size_t n = 0;
               if (j.is_object()) {
                   for (const char* k : {"type", "room", "text"}) {
                       auto it = j.find(k);
                       if (it != j.end() && it->is_string())
                           n += it->get_ref<const std::string&>().size();
                   }
               }
               g_sink = n;
           }));
#else
    std::printf("  (nlohmann-json3-dev not installed: no nlohmann figures)\n");
#endif
    simdjson::dom::parser dom;
    std::string padded(kSay);
    padded.reserve(kSay.size() + simdjson::SIMDJSON_PADDING);
    report("simdjson DOM (copy + parse + lookups)", ns_per_call([&] {
               padded.assign(kSay);
               simdjson::dom::element root;
               size_t n = 0;
               if (!dom.parse(padded.data(), padded.size(), false).get(root)) {
                   for (const char* k : {"type", "room", "text"}) {
                       std::string_view s;
                       if (!root[k].get_string().get(s)) n += s.size();
                   }
               }
               g_sink = n;
           }));
    simdjson::ondemand::parser on_demand;
    report("simdjson On-Demand (copy + iterate)", ns_per_call([&] {
               padded.assign(kSay);
               simdjson::ondemand::document doc;
               size_t n = 0;
               simdjson::ondemand::object object;
               if (!on_demand.iterate(padded.data(), padded.size(), padded.capacity()).get(doc) &&
                   !doc.get_object().get(object)) {
                   for (auto field : object) {
                       std::string_view s;
                       if (!field.value().get_string().get(s)) n += s.size();
                   }
               }
               g_sink = n;
           }));
    ProtocolParser ours;
    ClientMessage m;
    report("epws ProtocolParser::parse (simdjson DOM + rules)",
           ns_per_call([&] { g_sink = ours.parse(kSay, m).ok() + m.text.size(); }));
}

void encode_figures() {
    std::string out;
    encode_message(out, "lobby", 123456, "alice", kText, 1712345678901);
    std::printf("encode a message event (%zu bytes):\n", out.size());
#ifdef EPWS_HAVE_NLOHMANN
    report("nlohmann::json object + dump", ns_per_call([] {
               const nlohmann::json j = {{"type", "message"}, {"room", "lobby"},
                                         {"seq", 123456},     {"from", "alice"},
                                         {"text", kText},     {"ts", 1712345678901ULL}};
               g_sink = j.dump().size();
           }));
#endif
    report("epws encode_message into a warm string", ns_per_call([&] {
               out.clear();
               encode_message(out, "lobby", 123456, "alice", kText, 1712345678901);
               g_sink = out.size();
           }));
}

} // namespace

int main() {
    std::printf("json_choice: best of %d rounds of %d calls\n", kRounds, kIterations);
    parse_figures();
    encode_figures();
    return 0;
}
