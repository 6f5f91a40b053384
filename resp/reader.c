/*
 * resp/reader.c - incremental RESP2/RESP3 reply reader (see reader.h).
 *
 * The reader keeps one input buffer and one arena of reply nodes. A reply
 * is built in place as its bytes arrive: every open aggregate has a frame
 * that remembers how many of its elements are complete, the line search
 * resumes where it stopped, and a bulk whose header was read only waits for
 * its length to be buffered. Strings are recorded as offsets while the
 * buffer may still move (it grows, or drops consumed bytes) and turned into
 * pointers once the reply is complete. Aggregates get their element array
 * in the arena; an array announced as huge starts small and doubles as its
 * elements arrive, so a short header cannot make the reader allocate much.
 */
#include "reader.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A buffer this big is freed when it runs empty. */
#define READER_KEEP_BUF     (1024 * 1024)
/* Arena blocks beyond the first are freed between replies when the arena
 * holds more nodes than this. */
#define READER_KEEP_NODES   (16 * 1024)
#define READER_FIRST_BLOCK  64      /* nodes in the first arena block */
#define READER_FIRST_BUF    4096    /* first input buffer */
/* Elements allocated at once when an aggregate header is read; the array
 * doubles up to the announced count as elements arrive. */
#define READER_PREALLOC     1024
/* Extra room reserved after a big bulk, for the read that completes it. */
#define READER_BIG_SLACK    RESP_BIG_ARG

/* Outcomes of reading one item, besides the RESP_* codes. */
#define ITEM_VALUE          2       /* a value was stored in the slot */
#define ITEM_OPENED         3       /* a header was read: elements or a
                                     * bulk payload follow (or an empty
                                     * attribute was skipped) */

struct resp_reader_block {
    struct resp_reader_block *next;
    size_t cap;                     /* nodes in this block */
    size_t used;                    /* nodes handed out */
    struct resp_reply nodes[];
};

static const char err_oom[] = "out of memory";

/* ---------------------------------------------------------------------- */
/* Arena                                                                   */
/* ---------------------------------------------------------------------- */

/* k contiguous nodes, not initialised; NULL on allocation failure. */
static struct resp_reply *
arena_alloc(struct resp_reader *r, size_t k)
{
    struct resp_reader_block *b = r->cur, *last = NULL, *nb;
    struct resp_reply *p;
    size_t cap;

    /* Blocks after cur are unused: take the first that is big enough. */
    for (; b != NULL; b = b->next) {
        if (b->cap - b->used >= k) {
            r->cur = b;
            p = b->nodes + b->used;
            b->used += k;
            return p;
        }
        last = b;
    }
    cap = last == NULL ? READER_FIRST_BLOCK : last->cap;
    if (cap <= SIZE_MAX / 2) {
        cap *= 2;
    }
    if (cap < k) {
        cap = k;
    }
    if (cap > (SIZE_MAX - sizeof(*nb)) / sizeof(struct resp_reply)) {
        return NULL;
    }
    nb = malloc(sizeof(*nb) + cap * sizeof(struct resp_reply));
    if (nb == NULL) {
        return NULL;
    }
    nb->next = NULL;
    nb->cap = cap;
    nb->used = k;
    if (last == NULL) {
        r->blocks = nb;
    } else {
        last->next = nb;
    }
    r->cur = nb;
    return nb->nodes;
}

/* Forget every node; give back the blocks after the first when many. */
static void
arena_reset(struct resp_reader *r)
{
    struct resp_reader_block *b, *next;
    size_t total = 0;

    for (b = r->blocks; b != NULL; b = b->next) {
        b->used = 0;
        total += b->cap;
    }
    r->cur = r->blocks;
    if (total > READER_KEEP_NODES && r->blocks != NULL) {
        for (b = r->blocks->next; b != NULL; b = next) {
            next = b->next;
            free(b);
        }
        r->blocks->next = NULL;
    }
}

static void
arena_free(struct resp_reader *r)
{
    struct resp_reader_block *b, *next;

    for (b = r->blocks; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    r->blocks = NULL;
    r->cur = NULL;
}

/* ---------------------------------------------------------------------- */
/* Input buffer                                                            */
/* ---------------------------------------------------------------------- */

/*
 * Make room for need more bytes after len. Consumed bytes are dropped by a
 * move only when the move is no longer than what it drops, and growth at
 * least doubles, so the copying stays linear in the bytes read. Offsets
 * relative to pos survive. Returns RK_OK or RK_ENOMEM (nothing changed).
 */
static int
buf_reserve(struct resp_reader *r, size_t need)
{
    size_t pending = r->len - r->pos, ncap;
    char *nb;

    if (pending == 0) {
        r->pos = 0;
        r->len = 0;
    }
    if (r->buf != NULL && r->cap - r->len >= need) {
        return RK_OK;
    }
    if (r->pos > 0 && pending <= r->pos && r->cap - pending >= need) {
        memmove(r->buf, r->buf + r->pos, pending);
        r->pos = 0;
        r->len = pending;
        return RK_OK;
    }
    if (need > SIZE_MAX - pending) {
        return RK_ENOMEM;
    }
    ncap = READER_FIRST_BUF;
    if (r->cap > 0) {
        ncap = r->cap <= SIZE_MAX / 2 ? r->cap * 2 : SIZE_MAX;
    }
    if (ncap < pending + need) {
        ncap = pending + need;
    }
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, pending);
        r->pos = 0;
        r->len = pending;
    }
    nb = realloc(r->buf, ncap);
    if (nb == NULL) {
        return RK_ENOMEM;
    }
    r->buf = nb;
    r->cap = ncap;
    return RK_OK;
}

/* The first unparsed byte. */
static const char *
cursor(const struct resp_reader *r)
{
    return r->buf + r->pos + r->off;
}

/* Unparsed bytes after the cursor. */
static size_t
avail(const struct resp_reader *r)
{
    return r->len - r->pos - r->off;
}

/* Move the cursor past n parsed bytes. */
static void
consume(struct resp_reader *r, size_t n)
{
    r->off += n;
    r->scan = r->off;
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                 */
/* ---------------------------------------------------------------------- */

static int
fail(struct resp_reader *r, const char *msg)
{
    r->err = msg;
    return RESP_EPROTO;
}

/* Case-insensitive s[0, n) == lit. */
static int
eq_nocase(const char *s, size_t n, const char *lit)
{
    size_t i;

    if (strlen(lit) != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != lit[i]) {
            return 0;
        }
    }
    return 1;
}

/* A RESP3 double: "inf", "-inf", "nan", "-nan", or decimal text strtod()
 * takes whole with a finite result. Returns 1 on success. */
static int
parse_double(const char *s, size_t n, double *v)
{
    char tmp[RESP_READER_MAX_NUMLINE + 1];
    char *end;
    size_t i;

    if (eq_nocase(s, n, "inf") || eq_nocase(s, n, "+inf")) {
        *v = INFINITY;
        return 1;
    }
    if (eq_nocase(s, n, "-inf")) {
        *v = -INFINITY;
        return 1;
    }
    if (eq_nocase(s, n, "nan") || eq_nocase(s, n, "-nan")) {
        *v = NAN;
        return 1;
    }
    if (n == 0 || n > RESP_READER_MAX_NUMLINE) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (strchr("0123456789+-.eE", s[i]) == NULL || s[i] == '\0') {
            return 0;
        }
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = strtod(tmp, &end);
    return end == tmp + n && isfinite(*v);
}

/* A RESP3 big number: an optional sign and at least one digit. */
static int
valid_bignum(const char *s, size_t n)
{
    size_t i = 0;

    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        i = 1;
    }
    if (i == n) {
        return 0;
    }
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* Types whose str points into the buffer (stored as an offset in integer
 * until the reply is complete). */
static int
has_str(int type)
{
    return type == RESP_REPLY_STATUS || type == RESP_REPLY_ERROR ||
           type == RESP_REPLY_BULK || type == RESP_REPLY_VERBATIM ||
           type == RESP_REPLY_BIGNUM || type == RESP_REPLY_DOUBLE;
}

static int
is_aggregate(int type)
{
    return type == RESP_REPLY_ARRAY || type == RESP_REPLY_MAP ||
           type == RESP_REPLY_SET || type == RESP_REPLY_PUSH;
}

/* Clear node and give it a type. */
static void
node_set(struct resp_reply *node, int type)
{
    memset(node, 0, sizeof(*node));
    node->type = type;
}

/* Record a string of n bytes starting at offset at (relative to pos). */
static void
node_str(struct resp_reply *node, size_t at, size_t n)
{
    node->integer = (long long)at;
    node->str.len = n;
}

/* Turn the string offsets of a complete tree into pointers. */
static void
fixup(struct resp_reply *node, const char *base)
{
    size_t i;

    if (has_str(node->type)) {
        node->str.ptr = base + (size_t)node->integer;
        node->integer = 0;
    } else if (is_aggregate(node->type)) {
        for (i = 0; i < node->n; i++) {
            fixup(&node->elem[i], base);
        }
    }
}

/*
 * The node the next value goes to: the root, or the next element of the
 * innermost open aggregate (its array grows here when full). NULL when
 * the array could not grow.
 */
static struct resp_reply *
slot(struct resp_reader *r)
{
    struct resp_reader_frame *f;
    struct resp_reply *elem;
    size_t ncap;

    if (r->depth == 0) {
        return &r->root;
    }
    f = &r->frames[r->depth - 1];
    if (f->filled == f->cap) {
        /* Only the innermost frame grows, and every element before the
         * new one is complete: nothing else points into the old array. */
        ncap = f->cap * 2;
        if (ncap > f->agg->n) {
            ncap = f->agg->n;
        }
        elem = arena_alloc(r, ncap);
        if (elem == NULL) {
            return NULL;
        }
        memcpy(elem, f->agg->elem, f->filled * sizeof(*elem));
        f->agg->elem = elem;
        f->cap = ncap;
    }
    return &f->agg->elem[f->filled];
}

/*
 * A value was stored in the slot: count it in its aggregate and close every
 * aggregate this completes. Returns 1 when the whole reply is complete.
 */
static int
complete(struct resp_reader *r)
{
    while (r->depth > 0) {
        struct resp_reader_frame *f = &r->frames[r->depth - 1];

        f->filled++;
        if (f->filled < f->agg->n) {
            return 0;
        }
        r->depth--;
        if (f->attr) {
            /* The attribute is dropped: the value it describes takes
             * its slot, which is not counted yet. */
            return 0;
        }
    }
    return 1;
}

/*
 * Find the end of the line at the cursor (type byte included). Returns
 * RESP_OK with *n set to the length between the type byte and CRLF,
 * RESP_INCOMPLETE (the search resumes from r->scan next time), or
 * RESP_EPROTO when the line is longer than limit. The outcome does not
 * depend on how the bytes arrived.
 */
static int
find_line(struct resp_reader *r, uint64_t limit, size_t *n)
{
    const char *s = cursor(r);
    size_t have = avail(r), from = r->scan - r->off;

    if (from < 1) {
        from = 1;
    }
    while (from < have) {
        const char *cr = memchr(s + from, '\r', have - from);
        size_t i;

        if (cr == NULL) {
            from = have;
            break;
        }
        i = (size_t)(cr - s);
        if (i + 1 == have) {
            from = i;   /* maybe the CR of CRLF: look again */
            break;
        }
        if (s[i + 1] == '\n') {
            if ((uint64_t)(i - 1) > limit) {
                return fail(r, "Protocol error: line too long");
            }
            *n = i - 1;
            return RESP_OK;
        }
        from = i + 1;
    }
    r->scan = r->off + from;
    /* Bytes [1, from) belong to the line whatever comes next. */
    if ((uint64_t)(from - 1) > limit) {
        return fail(r, "Protocol error: line too long");
    }
    return RESP_INCOMPLETE;
}

/* Store a simple (one-line) value of type byte t, text s[0, n) at offset
 * at. Returns ITEM_VALUE, RESP_EPROTO or RK_ENOMEM. */
static int
simple_value(struct resp_reader *r, char t, const char *s, size_t n,
             size_t at)
{
    struct resp_reply v;
    struct resp_reply *dst;

    switch (t) {
    case '+':
    case '-':
        node_set(&v, t == '+' ? RESP_REPLY_STATUS : RESP_REPLY_ERROR);
        node_str(&v, at, n);
        break;
    case ':':
        node_set(&v, RESP_REPLY_INTEGER);
        if (!resp_str2ll(s, n, &v.integer)) {
            return fail(r, "Protocol error: invalid integer");
        }
        break;
    case '_':
        if (n != 0) {
            return fail(r, "Protocol error: invalid null");
        }
        node_set(&v, RESP_REPLY_NULL);
        break;
    case ',':
        node_set(&v, RESP_REPLY_DOUBLE);
        if (!parse_double(s, n, &v.dval)) {
            return fail(r, "Protocol error: invalid double");
        }
        node_str(&v, at, n);
        break;
    case '#':
        if (n != 1 || (s[0] != 't' && s[0] != 'f')) {
            return fail(r, "Protocol error: invalid boolean");
        }
        node_set(&v, RESP_REPLY_BOOL);
        v.integer = s[0] == 't';
        break;
    default:    /* '(' */
        if (!valid_bignum(s, n)) {
            return fail(r, "Protocol error: invalid big number");
        }
        node_set(&v, RESP_REPLY_BIGNUM);
        node_str(&v, at, n);
        break;
    }
    dst = slot(r);
    if (dst == NULL) {
        return RK_ENOMEM;
    }
    *dst = v;
    return ITEM_VALUE;
}

/* An aggregate header of type byte t announcing count elements. Returns
 * ITEM_VALUE (nil or empty), ITEM_OPENED, RESP_EPROTO or RK_ENOMEM. */
static int
open_aggregate(struct resp_reader *r, char t, long long count)
{
    struct resp_reader_frame *f;
    struct resp_reply *dst;
    uint64_t elems;
    size_t first;
    int type;

    if (count == -1 && t == '*') {
        dst = slot(r);
        if (dst == NULL) {
            return RK_ENOMEM;
        }
        node_set(dst, RESP_REPLY_NIL_ARRAY);
        return ITEM_VALUE;
    }
    if (count < 0) {
        return fail(r, "Protocol error: invalid aggregate length");
    }
    elems = (uint64_t)count;
    if (t == '%' || t == '|') {
        if (elems > r->max_elements / 2) {
            return fail(r, "Protocol error: too many elements");
        }
        elems *= 2;
    } else if (elems > r->max_elements) {
        return fail(r, "Protocol error: too many elements");
    }
    if (elems > SIZE_MAX / sizeof(struct resp_reply)) {
        return fail(r, "Protocol error: too many elements");
    }
    if (t == '|' && elems == 0) {
        return ITEM_OPENED;     /* an empty attribute: nothing to keep */
    }
    type = t == '*' ? RESP_REPLY_ARRAY : t == '~' ? RESP_REPLY_SET
         : t == '>' ? RESP_REPLY_PUSH : RESP_REPLY_MAP;
    if (elems > 0 && r->depth == RESP_READER_MAX_DEPTH) {
        return fail(r, "Protocol error: nesting too deep");
    }
    dst = slot(r);
    if (dst == NULL) {
        return RK_ENOMEM;
    }
    node_set(dst, type);
    dst->n = (size_t)elems;
    if (elems == 0) {
        return ITEM_VALUE;
    }
    first = elems < READER_PREALLOC ? (size_t)elems : READER_PREALLOC;
    dst->elem = arena_alloc(r, first);
    if (dst->elem == NULL) {
        return RK_ENOMEM;
    }
    f = &r->frames[r->depth++];
    f->agg = dst;
    f->filled = 0;
    f->cap = first;
    f->attr = t == '|';
    return ITEM_OPENED;
}

/* The payload of the bulk whose header was read. Returns ITEM_VALUE,
 * RESP_INCOMPLETE, RESP_EPROTO or RK_ENOMEM. */
static int
read_bulk(struct resp_reader *r)
{
    size_t n = (size_t)r->bulk_len;
    const char *s = cursor(r);
    struct resp_reply *dst;

    if (avail(r) < n + 2) {
        return RESP_INCOMPLETE;
    }
    if (s[n] != '\r' || s[n + 1] != '\n') {
        return fail(r, "Protocol error: expected CRLF after bulk");
    }
    if (r->bulk_type == '=' && (n < 4 || s[3] != ':')) {
        return fail(r, "Protocol error: invalid verbatim string");
    }
    dst = slot(r);
    if (dst == NULL) {
        return RK_ENOMEM;
    }
    if (r->bulk_type == '=') {
        node_set(dst, RESP_REPLY_VERBATIM);
        memcpy(dst->vtype, s, 3);
        dst->vtype[3] = '\0';
        node_str(dst, r->off + 4, n - 4);
    } else {
        node_set(dst, r->bulk_type == '!' ? RESP_REPLY_ERROR
                                          : RESP_REPLY_BULK);
        node_str(dst, r->off, n);
    }
    consume(r, n + 2);
    r->in_bulk = 0;
    return ITEM_VALUE;
}

/* A bulk header of type byte t announcing len bytes. Returns ITEM_VALUE
 * (nil), ITEM_OPENED (payload pending), RESP_EPROTO or RK_ENOMEM. */
static int
open_bulk(struct resp_reader *r, char t, long long len)
{
    struct resp_reply *dst;
    size_t need;

    if (len == -1 && t == '$') {
        dst = slot(r);
        if (dst == NULL) {
            return RK_ENOMEM;
        }
        node_set(dst, RESP_REPLY_NIL);
        return ITEM_VALUE;
    }
    if (len < 0) {
        return fail(r, "Protocol error: invalid bulk length");
    }
    if ((uint64_t)len > r->max_bulk || (uint64_t)len > SIZE_MAX / 4) {
        return fail(r, "Protocol error: bulk too large");
    }
    r->in_bulk = 1;
    r->bulk_type = t;
    r->bulk_len = (uint64_t)len;
    if (len >= RESP_BIG_ARG) {
        /* Room for the whole payload and a read beyond it now, so that it
         * is not copied on every regrowth; on failure the bytes are
         * buffered as they come and feeding reports the shortage. */
        need = (size_t)len + 2 + READER_BIG_SLACK;
        if (avail(r) < need) {
            (void)buf_reserve(r, need - avail(r));
        }
    }
    return ITEM_OPENED;
}

/* Read one item at the cursor: a line, or a bulk payload. Returns
 * ITEM_VALUE, ITEM_OPENED, RESP_INCOMPLETE, RESP_EPROTO or RK_ENOMEM. */
static int
read_item(struct resp_reader *r)
{
    const char *s;
    long long v;
    size_t n, at;
    uint64_t limit;
    char t;
    int rc;

    if (r->in_bulk) {
        return read_bulk(r);
    }
    if (avail(r) == 0) {
        return RESP_INCOMPLETE;
    }
    t = cursor(r)[0];
    if (strchr("+-:$*%~>|_,#(=!", t) == NULL || t == '\0') {
        unsigned char c = (unsigned char)t;

        if (c >= 0x21 && c <= 0x7e) {
            snprintf(r->err_buf, sizeof(r->err_buf),
                     "Protocol error: invalid type byte '%c'", c);
        } else {
            snprintf(r->err_buf, sizeof(r->err_buf),
                     "Protocol error: invalid type byte \\x%02x", c);
        }
        return fail(r, r->err_buf);
    }
    limit = t == '+' || t == '-' || t == '(' ? r->max_bulk
                                             : RESP_READER_MAX_NUMLINE;
    rc = find_line(r, limit, &n);
    if (rc != RESP_OK) {
        return rc;
    }
    s = cursor(r) + 1;
    at = r->off + 1;
    /* The line is used up whatever it holds: a bulk payload starts after
     * it, and after an error nothing is parsed again. s stays valid until
     * open_bulk() reserves room. */
    consume(r, n + 3);
    switch (t) {
    case '$':
    case '=':
    case '!':
        if (!resp_str2ll(s, n, &v)) {
            return fail(r, "Protocol error: invalid bulk length");
        }
        rc = open_bulk(r, t, v);
        break;
    case '*':
    case '%':
    case '~':
    case '>':
    case '|':
        if (!resp_str2ll(s, n, &v)) {
            return fail(r, "Protocol error: invalid aggregate length");
        }
        rc = open_aggregate(r, t, v);
        break;
    default:
        rc = simple_value(r, t, s, n, at);
        break;
    }
    return rc;
}

/* Parse until one reply is complete. Returns RESP_OK, RESP_INCOMPLETE,
 * RESP_EPROTO or RK_ENOMEM. */
static int
parse(struct resp_reader *r)
{
    for (;;) {
        int rc = read_item(r);

        if (rc == ITEM_VALUE) {
            if (complete(r)) {
                return RESP_OK;
            }
        } else if (rc != ITEM_OPENED) {
            return rc;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Public API                                                              */
/* ---------------------------------------------------------------------- */

void
resp_reader_init(struct resp_reader *r)
{
    memset(r, 0, sizeof(*r));
    r->max_bulk = RESP_DEFAULT_MAX_BULK;
    r->max_elements = RESP_READER_DEFAULT_MAX_ELEM;
}

void
resp_reader_deinit(struct resp_reader *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = 0;
    r->cap = 0;
    r->pos = 0;
    arena_free(r);
}

int
resp_reader_feed(struct resp_reader *r, const char *data, size_t len)
{
    if (r->failed) {
        return RESP_EPROTO;
    }
    if (len == 0) {
        return RK_OK;
    }
    if (buf_reserve(r, len) != RK_OK) {
        return RK_ENOMEM;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    return RK_OK;
}

char *
resp_reader_space(struct resp_reader *r, size_t want, size_t *avail_out)
{
    size_t have, rest;

    if (r->failed) {
        /* Nothing more will be parsed: keep no bytes. */
        r->len = r->pos;
        r->off = 0;
        r->scan = 0;
        r->in_bulk = 0;
    }
    if (r->in_bulk && r->bulk_len >= RESP_BIG_ARG) {
        have = avail(r);
        rest = (size_t)r->bulk_len + 2;
        if (have < rest && want <= SIZE_MAX - (rest - have)) {
            want += rest - have;
        }
    }
    if (buf_reserve(r, want) != RK_OK) {
        *avail_out = 0;
        return NULL;
    }
    *avail_out = r->cap - r->len;
    return r->buf + r->len;
}

void
resp_reader_commit(struct resp_reader *r, size_t n)
{
    assert(n <= r->cap - r->len);
    r->len += n;
}

int
resp_reader_next(struct resp_reader *r, const struct resp_reply **out)
{
    int rc;

    *out = NULL;
    if (r->failed) {
        return r->err == err_oom ? RK_ENOMEM : RESP_EPROTO;
    }
    if (r->returned) {
        arena_reset(r);
        r->returned = 0;
    }
    rc = parse(r);
    if (rc == RESP_OK) {
        fixup(&r->root, r->buf + r->pos);
        r->pos += r->off;
        r->off = 0;
        r->scan = 0;
        r->returned = 1;
        *out = &r->root;
    } else if (rc == RESP_INCOMPLETE) {
        if (r->pos == r->len) {
            r->pos = 0;
            r->len = 0;
            if (r->cap > READER_KEEP_BUF) {
                free(r->buf);
                r->buf = NULL;
                r->cap = 0;
            }
        }
    } else {
        if (rc == RK_ENOMEM) {
            r->err = err_oom;
        }
        r->failed = 1;
    }
    return rc;
}

size_t
resp_reader_pending(const struct resp_reader *r)
{
    return r->len - r->pos;
}

size_t
resp_reader_memory(const struct resp_reader *r)
{
    const struct resp_reader_block *b;
    size_t total = r->cap;

    for (b = r->blocks; b != NULL; b = b->next) {
        total += sizeof(*b) + b->cap * sizeof(struct resp_reply);
    }
    return total;
}

void
resp_reader_reset(struct resp_reader *r)
{
    r->pos = 0;
    r->len = 0;
    if (r->cap > READER_KEEP_BUF) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
    r->failed = 0;
    r->returned = 0;
    r->in_bulk = 0;
    r->bulk_type = 0;
    r->bulk_len = 0;
    r->off = 0;
    r->scan = 0;
    r->depth = 0;
    memset(&r->root, 0, sizeof(r->root));
    arena_reset(r);
    r->err = NULL;
    r->err_buf[0] = '\0';
}

const char *
resp_reply_type_name(int type)
{
    static const char *const names[] = {
        "unknown", "status", "error", "integer", "bulk", "nil", "array",
        "nil-array", "map", "null", "double", "bool", "verbatim", "bignum",
        "set", "push",
    };

    if (type < 1 || type > RESP_REPLY_PUSH) {
        return names[0];
    }
    return names[type];
}
