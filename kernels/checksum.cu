// Batched checksums, one CUDA block of 256 threads per region: CRC32C (kind 0, Zarr's crc32c
// codec), CRC32 (kind 1, gzip trailers) and Adler-32 (kind 2, zlib trailers).
//
// Each thread checksums a contiguous segment; the 256 partial results are merged with the
// standard combine rules (zlib's crc32_combine / adler32_combine) in a shared-memory tree, so a
// single chunk still uses the whole block. When `expected` is set, the stored value (4 bytes,
// little-endian, or big-endian if big_endian) is compared and ok[d] = 1 on a match.

#define CK_THREADS 256
#define ADLER_BASE 65521u
#define ADLER_NMAX 5552

struct ChecksumDesc {
    unsigned long long src;
    long long nbytes;
    unsigned long long expected;
    int big_endian;
    int pad;
};

__device__ unsigned int multmodp(unsigned int a, unsigned int b, unsigned int poly) {
    unsigned int m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
    }
    return p;
}

__device__ unsigned int x2nmodp(unsigned long long n, unsigned int k, const unsigned int* x2n, unsigned int poly) {
    unsigned int p = 1u << 31;
    while (n) {
        if (n & 1) p = multmodp(x2n[k & 31], p, poly);
        n >>= 1;
        k++;
    }
    return p;
}

__device__ unsigned int adler_combine(unsigned int a1, unsigned int a2, unsigned long long len2) {
    const unsigned int rem = (unsigned int)(len2 % ADLER_BASE);
    unsigned long long sum1 = a1 & 0xffff;
    unsigned long long sum2 = ((unsigned long long)rem * sum1) % ADLER_BASE;
    sum1 += (a2 & 0xffff) + ADLER_BASE - 1;
    sum2 += ((a1 >> 16) & 0xffff) + ((a2 >> 16) & 0xffff) + ADLER_BASE - rem;
    if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
    if (sum1 >= ADLER_BASE) sum1 -= ADLER_BASE;
    if (sum2 >= ((unsigned long long)ADLER_BASE << 1)) sum2 -= ((unsigned long long)ADLER_BASE << 1);
    if (sum2 >= ADLER_BASE) sum2 -= ADLER_BASE;
    return (unsigned int)(sum1 | (sum2 << 16));
}

extern "C" __global__ void checksum_batch(const ChecksumDesc* descs, long long ndesc, int kind,
                                          unsigned int* results, unsigned char* ok) {
    __shared__ unsigned int table[256];
    __shared__ unsigned int x2n[32];
    __shared__ unsigned int vals[CK_THREADS];
    __shared__ unsigned long long lens[CK_THREADS];
    const int t = threadIdx.x;
    const unsigned int poly = kind == 0 ? 0x82F63B78u : 0xEDB88320u;
    if (kind != 2) {
        for (int i = t; i < 256; i += blockDim.x) {
            unsigned int c = (unsigned int)i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
            table[i] = c;
        }
        if (t == 0) {
            unsigned int p = 1u << 30;  // x^1
            x2n[0] = p;
            for (int k = 1; k < 32; ++k) x2n[k] = p = multmodp(p, p, poly);
        }
    }
    __syncthreads();
    for (long long d = blockIdx.x; d < ndesc; d += gridDim.x) {
        const ChecksumDesc c = descs[d];
        const unsigned char* src = (const unsigned char*)c.src;
        const long long seg = (c.nbytes + CK_THREADS - 1) / CK_THREADS;
        long long begin = (long long)t * seg;
        long long end = begin + seg;
        if (begin > c.nbytes) begin = c.nbytes;
        if (end > c.nbytes) end = c.nbytes;
        unsigned int value;
        if (kind == 2) {
            unsigned int a = 1, b = 0;
            long long i = begin;
            while (i < end) {
                long long stop = i + ADLER_NMAX < end ? i + ADLER_NMAX : end;
                for (; i < stop; ++i) {
                    a += src[i];
                    b += a;
                }
                a %= ADLER_BASE;
                b %= ADLER_BASE;
            }
            value = a | (b << 16);
        } else {
            unsigned int crc = 0xFFFFFFFFu;
            for (long long i = begin; i < end; ++i) crc = table[(crc ^ src[i]) & 0xff] ^ (crc >> 8);
            value = crc ^ 0xFFFFFFFFu;
        }
        vals[t] = value;
        lens[t] = (unsigned long long)(end - begin);
        for (int width = 1; width < CK_THREADS; width <<= 1) {
            __syncthreads();
            if ((t % (2 * width)) == 0 && t + width < CK_THREADS) {
                const unsigned int right = vals[t + width];
                const unsigned long long rlen = lens[t + width];
                if (kind == 2) {
                    vals[t] = adler_combine(vals[t], right, rlen);
                } else {
                    vals[t] = multmodp(x2nmodp(rlen, 3, x2n, poly), vals[t], poly) ^ right;
                }
                lens[t] += rlen;
            }
        }
        __syncthreads();
        if (t == 0) {
            const unsigned int total = vals[0];
            results[d] = total;
            if (ok != 0 && c.expected != 0) {
                const unsigned char* e = (const unsigned char*)c.expected;
                unsigned int stored = c.big_endian
                    ? ((unsigned int)e[0] << 24) | ((unsigned int)e[1] << 16) | ((unsigned int)e[2] << 8) | e[3]
                    : ((unsigned int)e[3] << 24) | ((unsigned int)e[2] << 16) | ((unsigned int)e[1] << 8) | e[0];
                ok[d] = stored == total ? 1 : 0;
            }
        }
        __syncthreads();
    }
}
