/* OpenSSL's TLS 1.3 external-PSK handshakes per second, its client and server in one process
 * over a BIO pair (no sockets): psk_dhe_ke, X25519, TLS_AES_128_GCM_SHA256, no tickets, the
 * client sending SNI. The server has no certificate, so a handshake can only complete on the
 * PSK. One prebuilt PSK session handed out by reference, as s_client and s_server do.
 *
 * Built and run by benches/psk.rs: cc -O2 openssl_psk.c -lssl -lcrypto; ./a.out COUNT prints
 * the handshakes per second of COUNT handshakes (after a few untimed ones).
 */
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const unsigned char IDENTITY[] = "bench";
static const unsigned char KEY[32] = {
    0x0b, 0x6e, 0x1f, 0x5a, 0x33, 0x90, 0xc4, 0x21, 0x7d, 0x88, 0x12, 0xfe, 0x49, 0xa0, 0x5b, 0x3c,
    0xe1, 0x07, 0x66, 0x2d, 0x9f, 0x40, 0xb8, 0x15, 0x73, 0xca, 0x2e, 0x91, 0x04, 0xdd, 0x58, 0x6a,
};
static SSL_SESSION *psk;
static unsigned long found;

static void die(const char *what) {
    fprintf(stderr, "openssl_psk: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static int use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                       SSL_SESSION **sess) {
    (void)ssl;
    (void)md;
    SSL_SESSION_up_ref(psk);
    *sess = psk;
    *id = IDENTITY;
    *idlen = sizeof IDENTITY - 1;
    return 1;
}

static int find_session(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess) {
    (void)ssl;
    *sess = NULL;
    if (idlen == sizeof IDENTITY - 1 && memcmp(id, IDENTITY, idlen) == 0) {
        SSL_SESSION_up_ref(psk);
        *sess = psk;
        found++;
    }
    return 1;
}

static SSL_CTX *context(const SSL_METHOD *method) {
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") ||
        !SSL_CTX_set1_groups_list(ctx, "X25519") || !SSL_CTX_set_num_tickets(ctx, 0))
        die("context");
    return ctx;
}

/* One step of one side; returns 1 once its handshake is done. */
static int step(SSL *ssl) {
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 1;
    if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
        die("handshake");
    return 0;
}

static void handshake(SSL_CTX *client_ctx, SSL_CTX *server_ctx) {
    SSL *client = SSL_new(client_ctx), *server = SSL_new(server_ctx);
    BIO *client_bio, *server_bio;
    if (!client || !server || !BIO_new_bio_pair(&client_bio, 0, &server_bio, 0))
        die("new");
    SSL_set_bio(client, client_bio, client_bio);
    SSL_set_bio(server, server_bio, server_bio);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    SSL_set_tlsext_host_name(client, "localhost");
    int client_done = 0, server_done = 0;
    while (!client_done || !server_done) {
        if (!client_done)
            client_done = step(client);
        if (!server_done)
            server_done = step(server);
    }
    if (!SSL_session_reused(server))
        die("the PSK was not used");
    if (SSL_get_negotiated_group(server) != NID_X25519)
        die("no X25519 key exchange (psk_ke?)");
    SSL_free(client);
    SSL_free(server);
}

int main(int argc, char **argv) {
    long count = argc > 1 ? atol(argv[1]) : 1000;
    SSL_CTX *client_ctx = context(TLS_client_method());
    SSL_CTX *server_ctx = context(TLS_server_method());
    SSL_CTX_set_psk_use_session_callback(client_ctx, use_session);
    SSL_CTX_set_psk_find_session_callback(server_ctx, find_session);
    SSL *probe = SSL_new(client_ctx);
    const SSL_CIPHER *cipher = SSL_CIPHER_find(probe, (const unsigned char[]){0x13, 0x01});
    psk = SSL_SESSION_new();
    if (!cipher || !psk || !SSL_SESSION_set1_master_key(psk, KEY, sizeof KEY) ||
        !SSL_SESSION_set_cipher(psk, cipher) ||
        !SSL_SESSION_set_protocol_version(psk, TLS1_3_VERSION))
        die("PSK session");
    SSL_free(probe);
    for (int i = 0; i < 10; i++)
        handshake(client_ctx, server_ctx);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < count; i++)
        handshake(client_ctx, server_ctx);
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (found != (unsigned long)count + 10)
        die("the server did not find the PSK every time");
    double secs = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("%.1f\n", count / secs);
    return 0;
}
