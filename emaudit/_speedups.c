/* emaudit._speedups: the main-text digest of the parse hot path, in C.
 *
 * Optional: setup.py builds it when a C compiler is there, and emaudit.extract falls back to
 * its pure-Python digest otherwise. Both give the same word count, content hash and simhash
 * for every text (tests/test_speedups.py compares them on generated and real texts): stored
 * fingerprints do not depend on which one a crawl used.
 *
 * digest_slice(text, carry, votes, keyfn) reads one slice of lower-cased, NFC text:
 *
 *   - chunks are the maximal runs of non-whitespace characters (str.split());
 *   - words are the maximal runs of word characters: str.isalnum() ones and "_" (re's \w);
 *   - each word's 24-byte key (three 64-bit hashes) is ``keyfn(utf8_word_bytes)``, cached in
 *     a bounded table (see word_key);
 *   - shingle i hashes to A(w[i]) ^ B(w[i+1]) ^ C(w[i+2]), the A, B, C parts being the key's
 *     three 8-byte groups read little-endian; ``carry`` (the keys of up to two previous words)
 *     comes first, so shingles straddling two slices count once;
 *   - ``votes`` (a writable buffer of 64 signed 64-bit integers) gets +1 at bit k for each
 *     shingle with bit k set.
 *
 * Returns (chunks joined by single spaces as UTF-8 bytes, word count, shingle count, new carry:
 * the keys of the last two words, the old carry included).
 *
 * The text is read as UTF-8 (PyUnicode_AsUTF8AndSize): a text holding lone surrogates raises
 * UnicodeEncodeError, and the caller digests it in Python instead.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define KEY_SIZE 24

/* One UTF-8 sequence starting at s (valid UTF-8, as CPython produces) -> code point, length. */
static inline Py_UCS4
next_cp(const unsigned char *s, Py_ssize_t *len)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if (c < 0xE0) {
        *len = 2;
        return ((Py_UCS4)(c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (c < 0xF0) {
        *len = 3;
        return ((Py_UCS4)(c & 0x0F) << 12) | ((Py_UCS4)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *len = 4;
    return ((Py_UCS4)(c & 0x07) << 18) | ((Py_UCS4)(s[1] & 0x3F) << 12) | ((Py_UCS4)(s[2] & 0x3F) << 6)
           | (s[3] & 0x3F);
}

/* 0: other, 1: whitespace (str.split), 2: word character (re's \w: alnum or "_"). */
static unsigned char ascii_class[128];

static inline int
char_class(Py_UCS4 cp)
{
    if (cp < 128)
        return ascii_class[cp];
    if (Py_UNICODE_ISSPACE(cp))
        return 1;
    if (Py_UNICODE_ISALNUM(cp))
        return 2;
    return 0;
}

static inline uint64_t
read_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

typedef struct {
    unsigned char *data;
    Py_ssize_t len;  /* bytes used */
    Py_ssize_t cap;
} keybuf;

static int
keybuf_append(keybuf *kb, const char *key)
{
    if (kb->len + KEY_SIZE > kb->cap) {
        Py_ssize_t cap = kb->cap ? kb->cap * 2 : 64 * KEY_SIZE;
        unsigned char *data = PyMem_Realloc(kb->data, (size_t)cap);
        if (data == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        kb->data = data;
        kb->cap = cap;
    }
    memcpy(kb->data + kb->len, key, KEY_SIZE);
    kb->len += KEY_SIZE;
    return 0;
}

/* The word-key cache: an open-addressing table of UTF-8 words -> 24-byte keys, shared by all
 * pages of the process (a site repeats its vocabulary). It holds at most TABLE_SLOTS / 2 words
 * of at most MAX_CACHED_WORD bytes (longer ones are hashed every time) and starts afresh when
 * full: ~1.3 MB of slots plus at most 1 MB of word bytes. Only touched with the GIL held; a
 * miss calls keyfn (Python code, which may let another thread run), so nothing found before
 * that call is used after it. */
#define TABLE_SLOTS 32768 /* power of two */
#define MAX_CACHED_WORD 64

typedef struct {
    uint64_t hash; /* 0: empty slot */
    uint32_t offset, len;
    unsigned char key[KEY_SIZE];
} slot;

static slot *table;
static Py_ssize_t table_used;
static unsigned char *arena;
static Py_ssize_t arena_len;

static inline uint64_t
word_hash(const unsigned char *p, Py_ssize_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h | 1; /* never 0, the empty mark */
}

static int
table_init(void)
{
    table = PyMem_Calloc(TABLE_SLOTS, sizeof(slot));
    arena = PyMem_Malloc((TABLE_SLOTS / 2) * MAX_CACHED_WORD);
    if (table == NULL || arena == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static slot *
table_find(const unsigned char *word, Py_ssize_t n, uint64_t h)
{
    size_t i = (size_t)h & (TABLE_SLOTS - 1);
    for (;;) {
        slot *s = &table[i];
        if (s->hash == 0 || (s->hash == h && s->len == (uint32_t)n && memcmp(arena + s->offset, word, (size_t)n) == 0))
            return s;
        i = (i + 1) & (TABLE_SLOTS - 1);
    }
}

/* The key of one word, appended to kb: from the table, or keyfn(word) stored into it. */
static int
word_key(const char *start, Py_ssize_t size, PyObject *keyfn, keybuf *kb)
{
    const unsigned char *word = (const unsigned char *)start;
    int cacheable = size <= MAX_CACHED_WORD;
    uint64_t h = 0;
    if (cacheable) {
        h = word_hash(word, size);
        slot *s = table_find(word, size, h);
        if (s->hash)
            return keybuf_append(kb, (const char *)s->key);
    }
    PyObject *arg = PyBytes_FromStringAndSize(start, size);
    if (arg == NULL)
        return -1;
    PyObject *key = PyObject_CallOneArg(keyfn, arg);
    Py_DECREF(arg);
    if (key == NULL)
        return -1;
    if (!PyBytes_Check(key) || PyBytes_GET_SIZE(key) != KEY_SIZE) {
        PyErr_SetString(PyExc_ValueError, "keyfn must return 24 bytes");
        Py_DECREF(key);
        return -1;
    }
    int rc = keybuf_append(kb, PyBytes_AS_STRING(key));
    if (rc == 0 && cacheable) {
        if (table_used >= TABLE_SLOTS / 2) { /* full: start afresh */
            memset(table, 0, TABLE_SLOTS * sizeof(slot));
            table_used = 0;
            arena_len = 0;
        }
        slot *s = table_find(word, size, h); /* again: keyfn may have let another thread in */
        if (!s->hash) {
            memcpy(arena + arena_len, word, (size_t)size);
            s->offset = (uint32_t)arena_len;
            s->len = (uint32_t)size;
            memcpy(s->key, PyBytes_AS_STRING(key), KEY_SIZE);
            s->hash = h;
            arena_len += size;
            table_used++;
        }
    }
    Py_DECREF(key);
    return rc;
}

static PyObject *
cache_size(PyObject *module, PyObject *unused)
{
    return PyLong_FromSsize_t(table_used);
}

/* Add the per-bit set counts of the shingles of keys[0..nkeys) to votes; bit-sliced: eight
 * 8-bit counters per 64-bit word, flushed before they can overflow. */
static void
add_votes(const unsigned char *k, Py_ssize_t shingles, int64_t *votes)
{
    const uint64_t lanes = 0x0101010101010101ULL;
    uint64_t acc[8];
    Py_ssize_t j = 0;
    while (j < shingles) {
        Py_ssize_t stop = j + 255 < shingles ? j + 255 : shingles;
        memset(acc, 0, sizeof acc);
        for (; j < stop; j++) {
            uint64_t h = read_le64(k + j * KEY_SIZE) ^ read_le64(k + (j + 1) * KEY_SIZE + 8)
                         ^ read_le64(k + (j + 2) * KEY_SIZE + 16);
            for (int b = 0; b < 8; b++)
                acc[b] += (h >> b) & lanes;
        }
        for (int b = 0; b < 8; b++)
            for (int byte = 0; byte < 8; byte++)
                votes[byte * 8 + b] += (int64_t)((acc[b] >> (8 * byte)) & 0xFF);
    }
}

static PyObject *
digest_slice(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "digest_slice(text, carry, votes, keyfn) takes 4 arguments");
        return NULL;
    }
    PyObject *text = args[0], *carry = args[1], *votes_obj = args[2], *keyfn = args[3];
    if (!PyUnicode_Check(text) || !PyBytes_Check(carry) || !PyCallable_Check(keyfn)) {
        PyErr_SetString(PyExc_TypeError, "digest_slice(str, bytes, buffer, callable)");
        return NULL;
    }
    Py_ssize_t carry_len = PyBytes_GET_SIZE(carry);
    if (carry_len % KEY_SIZE != 0 || carry_len > 2 * KEY_SIZE) {
        PyErr_SetString(PyExc_ValueError, "carry must hold the keys of at most two words");
        return NULL;
    }
    Py_ssize_t size;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &size);
    if (utf8 == NULL)
        return NULL; /* lone surrogates: UnicodeEncodeError, the caller digests in Python */

    Py_buffer votes;
    if (PyObject_GetBuffer(votes_obj, &votes, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (votes.len != 64 * (Py_ssize_t)sizeof(int64_t) || votes.itemsize != 8 || votes.format == NULL
        || (strcmp(votes.format, "q") != 0 && strcmp(votes.format, "=q") != 0 && strcmp(votes.format, "@q") != 0
            && strcmp(votes.format, "l") != 0)) {
        PyBuffer_Release(&votes);
        PyErr_SetString(PyExc_ValueError, "votes must be a buffer of 64 signed 64-bit integers");
        return NULL;
    }

    PyObject *out = PyBytes_FromStringAndSize(NULL, size);
    if (out == NULL) {
        PyBuffer_Release(&votes);
        return NULL;
    }
    char *dst = PyBytes_AS_STRING(out);
    Py_ssize_t out_len = 0;
    keybuf kb = {NULL, 0, 0};
    if (carry_len && (keybuf_append(&kb, PyBytes_AS_STRING(carry)) < 0
                      || (carry_len == 2 * KEY_SIZE && keybuf_append(&kb, PyBytes_AS_STRING(carry) + KEY_SIZE) < 0)))
        goto error;

    const unsigned char *s = (const unsigned char *)utf8;
    Py_ssize_t i = 0, word_start = -1, words = 0;
    int in_chunk = 0;
    while (i < size) {
        Py_ssize_t n;
        Py_UCS4 cp = next_cp(s + i, &n);
        int cls = char_class(cp);
        if (cls != 2 && word_start >= 0) {
            if (word_key(utf8 + word_start, i - word_start, keyfn, &kb) < 0)
                goto error;
            words++;
            word_start = -1;
        }
        if (cls == 1) {
            in_chunk = 0;
        }
        else {
            if (!in_chunk) {
                if (out_len)
                    dst[out_len++] = ' ';
                in_chunk = 1;
            }
            memcpy(dst + out_len, s + i, (size_t)n);
            out_len += n;
            if (cls == 2 && word_start < 0)
                word_start = i;
        }
        i += n;
    }
    if (word_start >= 0) {
        if (word_key(utf8 + word_start, size - word_start, keyfn, &kb) < 0)
            goto error;
        words++;
    }

    Py_ssize_t nkeys = kb.len / KEY_SIZE;
    Py_ssize_t shingles = nkeys >= 3 ? nkeys - 2 : 0;
    if (shingles)
        add_votes(kb.data, shingles, (int64_t *)votes.buf);
    Py_ssize_t tail = nkeys < 2 ? nkeys : 2;
    PyObject *new_carry = tail ? PyBytes_FromStringAndSize((const char *)kb.data + (nkeys - tail) * KEY_SIZE, tail * KEY_SIZE)
                               : PyBytes_FromStringAndSize("", 0);
    if (new_carry == NULL)
        goto error;
    PyMem_Free(kb.data);
    PyBuffer_Release(&votes);
    if (_PyBytes_Resize(&out, out_len) < 0) {
        Py_DECREF(new_carry);
        return NULL;
    }
    return Py_BuildValue("(NnnN)", out, words, shingles, new_carry);

error:
    PyMem_Free(kb.data);
    PyBuffer_Release(&votes);
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"digest_slice", (PyCFunction)(void (*)(void))digest_slice, METH_FASTCALL,
     "digest_slice(text, carry, votes, keyfn) -> (collapsed utf-8, words, shingles, carry)"},
    {"cache_size", cache_size, METH_NOARGS, "cache_size() -> words in the word-key cache"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "emaudit._speedups", "C versions of emaudit's hottest text loops.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    for (int c = 0; c < 128; c++) {
        if (Py_UNICODE_ISSPACE(c))
            ascii_class[c] = 1;
        else if (Py_UNICODE_ISALNUM(c) || c == '_')
            ascii_class[c] = 2;
        else
            ascii_class[c] = 0;
    }
    if (table_init() < 0)
        return NULL;
    return PyModule_Create(&module);
}
