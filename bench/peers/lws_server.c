/* bench/peers/lws_server.c: the libwebsockets peer for bench/compare, written for it (Debian's
 * libwebsockets 4.1): one service thread, /echo and /broadcast told apart by the request URI, no
 * extensions (no compression). Writes happen on WRITEABLE callbacks, as lws requires, draining
 * as many queued messages as the socket takes (lws_send_pipe_choked) per callback. */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Broadcast messages live once in this ring; each subscriber keeps a cursor into it. A
 * subscriber that falls a whole ring behind is closed (the others must not wait for it). */
#define RING 16384

struct msg {
    unsigned char *buf; /* LWS_PRE bytes of headroom, then the payload */
    size_t len;
    int binary;
};

struct session {
    int broadcast;
    unsigned long long next; /* broadcast: next ring message to send */
    struct msg *queue;       /* echo: pending replies, a growable FIFO */
    size_t q_head, q_len, q_cap;
    unsigned char *rx;       /* a message arriving in fragments */
    size_t rx_len;
};

static struct msg ring[RING];
static unsigned long long ring_head;
static volatile int interrupted;

static struct msg make_msg(const void *in, size_t len, int binary) {
    struct msg m = {malloc(LWS_PRE + len + 1), len, binary};
    if (m.buf) memcpy(m.buf + LWS_PRE, in, len);
    return m;
}

static int push_echo(struct session *s, struct msg m) {
    if (s->q_len == s->q_cap) {
        size_t cap = s->q_cap ? s->q_cap * 2 : 64;
        struct msg *q = malloc(cap * sizeof(*q));
        if (!q) return -1;
        for (size_t i = 0; i < s->q_len; i++) q[i] = s->queue[(s->q_head + i) % s->q_cap];
        free(s->queue);
        s->queue = q, s->q_cap = cap, s->q_head = 0;
    }
    s->queue[(s->q_head + s->q_len++) % s->q_cap] = m;
    return 0;
}

static int write_msg(struct lws *wsi, const struct msg *m) {
    enum lws_write_protocol wp = m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
    return lws_write(wsi, m->buf + LWS_PRE, m->len, wp) < (int)m->len ? -1 : 0;
}

static int on_writeable(struct lws *wsi, struct session *s) {
    if (s->broadcast) {
        if (ring_head - s->next > RING) return -1; /* fell a whole ring behind */
        while (s->next < ring_head && !lws_send_pipe_choked(wsi))
            if (write_msg(wsi, &ring[s->next++ % RING])) return -1;
        if (s->next < ring_head) lws_callback_on_writable(wsi);
        return 0;
    }
    while (s->q_len && !lws_send_pipe_choked(wsi)) {
        struct msg m = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % s->q_cap, s->q_len--;
        int r = write_msg(wsi, &m);
        free(m.buf);
        if (r) return -1;
    }
    if (s->q_len) lws_callback_on_writable(wsi);
    return 0;
}

static int on_message(struct lws *wsi, struct session *s, const void *in, size_t len) {
    struct msg m = make_msg(in, len, lws_frame_is_binary(wsi));
    if (!m.buf) return -1;
    if (!s->broadcast) {
        if (push_echo(s, m)) return -1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    free(ring[ring_head % RING].buf);
    ring[ring_head++ % RING] = m;
    lws_callback_on_writable_all_protocol_vhost(lws_get_vhost(wsi), lws_get_protocol(wsi));
    return 0;
}

/* Gathers fragments (lws splits messages larger than its rx buffer) into one message. */
static int on_receive(struct lws *wsi, struct session *s, const void *in, size_t len) {
    if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)) return on_message(wsi, s, in, len);
    unsigned char *rx = realloc(s->rx, s->rx_len + len);
    if (!rx) return -1;
    memcpy(rx + s->rx_len, in, len);
    s->rx = rx, s->rx_len += len;
    if (!lws_is_final_fragment(wsi)) return 0;
    int r = on_message(wsi, s, s->rx, s->rx_len);
    free(s->rx);
    s->rx = NULL, s->rx_len = 0;
    return r;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
    struct session *s = user;
    char uri[64];
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(s, 0, sizeof(*s));
        if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0) return -1;
        s->broadcast = strcmp(uri, "/broadcast") == 0;
        if (!s->broadcast && strcmp(uri, "/echo") != 0) return -1;
        s->next = ring_head;
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(wsi, s, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(wsi, s);
    case LWS_CALLBACK_CLOSED:
        while (s->q_len) {
            free(s->queue[s->q_head].buf);
            s->q_head = (s->q_head + 1) % s->q_cap, s->q_len--;
        }
        free(s->queue);
        free(s->rx);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {"bench", callback, sizeof(struct session), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv) {
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = argc > 1 ? atoi(argv[1]) : 8080;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.gid = -1;
    info.uid = -1;
    lws_set_log_level(LLL_ERR, NULL);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "lws: cannot create the context on port %d\n", info.port);
        return 1;
    }
    printf("lws: listening on 127.0.0.1:%d\n", info.port);
    fflush(stdout);
    while (!interrupted && lws_service(ctx, 0) >= 0) {
    }
    lws_context_destroy(ctx);
    return 0;
}
