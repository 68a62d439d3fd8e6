/* The example's C side: a C thread that feeds a braid channel.  It declares
 * the two braid functions it calls and binds, when loaded, to the libbraid
 * that the Python package loaded (globally). */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int braid_mpsc_send_blocking(void *tx, void *value, size_t value_size, int64_t timeout_ms);
void braid_mpsc_tx_free(void *tx);

struct feed {
    void *tx;
    int64_t n;
};

static void *feeder(void *p) {
    struct feed *f = p;
    for (int64_t i = 0; i < f->n; i++) {
        int64_t v = i * 10;
        if (braid_mpsc_send_blocking(f->tx, &v, sizeof v, 30000) != 0) break;
    }
    braid_mpsc_tx_free(f->tx); /* the last sender: the receiver sees the end */
    free(f);
    return NULL;
}

/* Takes over tx (a braid_mpsc_tx* of int64_t) and sends 0, 10, ..., 10(n-1)
 * from a thread of its own, then frees tx.  0, or -1 if no thread started. */
int feed_from_thread(void *tx, int64_t n) {
    struct feed *f = malloc(sizeof *f);
    if (!f) return -1;
    f->tx = tx;
    f->n = n;
    pthread_t t;
    if (pthread_create(&t, NULL, feeder, f) != 0) {
        free(f);
        return -1;
    }
    pthread_detach(t);
    return 0;
}
