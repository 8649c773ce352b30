// net/signals.cc: signalfd-based signal delivery. Layer: net/.
#include "net/signals.h"

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstring>

#include "net/loop.h"

namespace epws::net {

std::unique_ptr<SignalWatcher> SignalWatcher::create(Loop& loop, std::function<void(int)> on_signal,
                                                     std::string& err) {
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGHUP);  // reload, not the default's exit
    if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) {
        err = "cannot block SIGINT/SIGTERM/SIGHUP";
        return nullptr;
    }
    int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        err = std::string("signalfd: ") + std::strerror(errno);
        return nullptr;
    }
    std::unique_ptr<SignalWatcher> w(new SignalWatcher(loop, fd, std::move(on_signal)));
    if (!loop.watch(fd, EPOLLIN, w.get())) {
        err = std::string("epoll_ctl(signalfd): ") + std::strerror(errno);
        return nullptr;
    }
    return w;
}

SignalWatcher::SignalWatcher(Loop& loop, int fd, std::function<void(int)> on_signal)
    : loop_(loop), fd_(fd), on_signal_(std::move(on_signal)) {}

SignalWatcher::~SignalWatcher() {
    loop_.unwatch(fd_);
    ::close(fd_);
}

void SignalWatcher::on_events(uint32_t) {
    signalfd_siginfo info{};
    while (::read(fd_, &info, sizeof(info)) == sizeof(info)) on_signal_(static_cast<int>(info.ssi_signo));
}

}  // namespace epws::net
