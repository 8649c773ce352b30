// bench/peers/beast_server.cpp: the Boost.Beast peer for bench/compare, written for it: one thread,
// one io_context, /echo and /broadcast, no compression (Beast's default), no auto-fragmenting.
// A broadcast message is allocated once and shared by every recipient's send queue.
#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

class Session;
std::unordered_set<Session*> g_subscribers;

struct Message {
    std::string data;
    bool text;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket s) : ws_(std::move(s)) {}
    ~Session() { g_subscribers.erase(this); }

    void start() {
        ws_.next_layer().set_option(tcp::no_delay(true));
        http::async_read(ws_.next_layer(), buf_, req_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_request(ec); });
    }

    // Queues a shared message; one async_write at a time, as Beast requires.
    void deliver(const std::shared_ptr<const Message>& m) {
        queue_.push_back(m);
        if (queue_.size() == 1) write_next();
    }

private:
    void on_request(beast::error_code ec) {
        if (ec || !websocket::is_upgrade(req_)) return;
        broadcast_ = req_.target() == "/broadcast";
        if (!broadcast_ && req_.target() != "/echo") return;
        ws_.auto_fragment(false);
        ws_.read_message_max(16 * 1024 * 1024);
        ws_.async_accept(req_, [self = shared_from_this()](beast::error_code e) {
            if (e) return;
            if (self->broadcast_) g_subscribers.insert(self.get());
            self->read();
        });
    }

    void read() {
        ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            g_subscribers.erase(this);
            return;
        }
        auto m = std::make_shared<Message>(Message{beast::buffers_to_string(buf_.data()), ws_.got_text()});
        buf_.consume(buf_.size());
        if (broadcast_) {
            for (Session* s : g_subscribers) s->deliver(m);
        } else {
            deliver(m);
        }
        read();
    }

    void write_next() {
        const auto& m = queue_.front();
        ws_.text(m->text);
        ws_.async_write(asio::buffer(m->data), [self = shared_from_this()](beast::error_code ec, size_t) {
            if (ec) return;
            self->queue_.pop_front();
            if (!self->queue_.empty()) self->write_next();
        });
    }

    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer buf_;
    http::request<http::string_body> req_;
    std::deque<std::shared_ptr<const Message>> queue_;
    bool broadcast_ = false;
};

void accept_loop(tcp::acceptor& acceptor) {
    acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket s) {
        if (!ec) std::make_shared<Session>(std::move(s))->start();
        accept_loop(acceptor);
    });
}

}  // namespace

int main(int argc, char** argv) {
    auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
    asio::io_context ioc(1);  // concurrency hint 1: single-threaded, no locking
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), port});
    std::printf("beast: listening on 127.0.0.1:%u\n", unsigned(acceptor.local_endpoint().port()));
    std::fflush(stdout);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) { ioc.stop(); });
    accept_loop(acceptor);
    ioc.run();
    return 0;
}
